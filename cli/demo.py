"""`flask demo ...`: demo data for trying the hotline."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from demo.letters import ENTITIES, demo_letter_count, examples, reset_demo, seed_demo

demo = AppGroup("demo", help="Demo data.")
MIN_LETTERS = 20  # enough for every status in both directions and three shared numbers


@demo.command("seed")
@click.option(
    "--letters",
    default=3000,
    show_default=True,
    type=click.IntRange(MIN_LETTERS, 200_000),
    help="How many letters to make.",
)
@click.option(
    "--seed", default=5599, show_default=True, type=int, help="The same seed (on the same day) makes the same letters."
)
@click.option("--reset", is_flag=True, help="Delete the demo letters first, then seed again.")
def seed_command(letters: int, seed: int, reset: bool) -> None:
    """Ministries of both governments and letters of the last two years, with histories."""
    refuse_in_production(
        "demo letters (with real-looking mobiles) are for development; "
        "import the real letters with `flask transactions import`"
    )
    if reset:
        click.echo(f"deleted {reset_demo()} demo letters")
    elif count := demo_letter_count():
        click.echo(f"demo data already seeded ({count} letters); use --reset to seed again")
        seed_demo_complaints(seed)
        show_examples()
        return
    started = time.perf_counter()
    loaded = seed_demo(letters=letters, seed=seed)
    click.echo(f"seeded {len(ENTITIES)} entities and {loaded} letters in {time.perf_counter() - started:.1f} s")
    seed_demo_complaints(seed)
    show_examples()


def seed_demo_complaints(seed: int) -> None:
    """The default complaint categories and complaints in every status (once)."""
    from demo.complaints import seed_complaints

    made = seed_complaints(seed=seed)
    click.echo(f"seeded {made} complaints with their histories" if made else "complaints already there: none added")


def refuse_in_production(message: str) -> None:
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException(message)


def show_examples() -> None:
    singles, pairs = examples()
    click.echo("\nTry these on the IVR (number, date as keyed DDMMYYYY, direction, status):")
    for example in singles:
        click.echo(f"  {example.number:<9} {example.keyed_date}  {example.direction.value:<10}  {example.status.value}")
    if pairs:
        click.echo("Same number and date in both directions (the IVR asks which one):")
    for first, second in pairs:
        click.echo(
            f"  {first.number:<9} {first.keyed_date}  "
            f"{first.direction.value} ({first.status.value}) / "
            f"{second.direction.value} ({second.status.value})"
        )


# Accounts for trying the console on a development machine; never made in production.
DEMO_USERS = (
    ("agent", "agent", "Demo agent", "ar"),
    ("agent2", "agent", "Second agent", "en"),
    ("supervisor", "supervisor", "Demo supervisor", "ar"),
    ("admin", "admin", "Demo admin", "en"),
    ("officer", "officer", "Demo entity officer", "ckb"),  # an officer of demo.complaints.OFFICER_ENTITY
)
DEMO_PASSWORD = "hotline-5599-demo"


@demo.command("users")
def users_command() -> None:
    """Demo console accounts (development only), printed with their password."""
    from sqlalchemy import select

    from demo.complaints import OFFICER_ENTITY
    from demo.letters import ensure_entities
    from domain.staff.users import create_user
    from extensions import db
    from models import EndpointKind, Entity, Role, User

    refuse_in_production("demo accounts are for development; use `flask users create` in production")
    ensure_entities()
    entity = db.session.scalar(select(Entity).where(Entity.code == OFFICER_ENTITY))
    for username, role, name, language in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.username == username)) is None:
            # A SIP endpoint: in the demo nothing rings anyway (the simulator plays the caller),
            # and a browser-phone agent would be told the phone is not configured.
            create_user(
                username,
                DEMO_PASSWORD,
                Role(role),
                display_name=name,
                language=language,
                endpoint_kind=EndpointKind.sip,
                endpoint=f"sip:{username}@demo.invalid",
                entity_id=entity.id if role == "officer" and entity is not None else None,
            )
    click.echo("Console logins (password for all: %s):" % DEMO_PASSWORD)
    for username, role, _name, language in DEMO_USERS:
        of = f"  (officer of {entity.name_en})" if role == "officer" and entity is not None else ""
        click.echo(f"  {username:<11} {role:<11} console in {language}{of}")
