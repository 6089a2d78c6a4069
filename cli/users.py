"""`flask users ...`: console accounts."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from domain.languages import DEFAULT_LANGUAGE, LANGUAGES
from domain.staff.users import UserError, create_user, set_password
from extensions import db
from models import EndpointKind, Entity, Role, User

users = AppGroup("users", help="Console users (entity officers, agents, supervisors, admins).")


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", "display_name", default="", help="The name shown in the console.")
@click.option("--language", type=click.Choice(LANGUAGES), default=DEFAULT_LANGUAGE, show_default=True)
@click.option(
    "--endpoint-kind",
    type=click.Choice([k.value for k in EndpointKind]),
    default="client",
    show_default=True,
    help="How the agent's phone is reached.",
)
@click.option("--endpoint", default="", help="Client identity, SIP URI or phone number (E.164).")
@click.option("--entity", "entity_code", default="", help="An officer's entity, by its code (required for officers).")
def create(username, role, display_name, language, endpoint_kind, endpoint, entity_code):
    """Create a user; the password is asked at the terminal, or read from standard input."""
    entity_id = None
    if entity_code:
        entity = db.session.scalar(select(Entity).where(Entity.code == entity_code.strip()))
        if entity is None:
            raise click.ClickException(f"no entity {entity_code}")
        entity_id = entity.id
    elif role == Role.officer.value:
        raise click.ClickException("an officer needs --entity (the code of their entity)")
    password = read_password()
    try:
        user = create_user(
            username,
            password,
            Role(role),
            display_name=display_name,
            language=language,
            endpoint_kind=EndpointKind(endpoint_kind),
            endpoint=endpoint,
            entity_id=entity_id,
        )
    except UserError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"created {user.role.value} {user.username}")


@users.command("set-password")
@click.argument("username")
def set_password_command(username):
    """Give a user a new password (asked at the terminal, or read from standard input); every
    session they have open ends."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {username}")
    try:
        set_password(user, read_password())
    except UserError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"new password set for {user.username}; their sessions have ended")


def read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\n")
