"""`flask worker`, `flask housekeeping run` and `flask api-tokens ...`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from jobs import QUEUES, queue_name

api_tokens = AppGroup("api-tokens", help="Bearer tokens of the records-office API.")
housekeeping = AppGroup("housekeeping", help="Outbox sweep, abandoned queue calls, retention purge.")


@click.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty (tests, one-off runs).")
@click.option("--name", default=None, help="A name for this worker (default: host and pid).")
@with_appcontext
def worker_command(queues: tuple[str, ...], burst: bool, name: str | None) -> None:
    """Run an RQ worker (with RQ's scheduler) on QUEUES: sms, email, imports, housekeeping (default: all)."""
    import redis
    from rq import Queue

    from jobs.context import set_worker_app
    from jobs.schedule import ensure_schedule
    from jobs.worker import HotlineWorker

    app = current_app._get_current_object()
    url = app.config["REDIS_URL"]
    if not url:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs run inline in the web process")
    unknown = [q for q in queues if q not in QUEUES]
    if unknown:
        raise click.ClickException(f"unknown queue {', '.join(unknown)}; the queues are {', '.join(QUEUES)}")
    set_worker_app(app)
    # No socket timeout here: the worker blocks on Redis for minutes while waiting for work.
    connection = redis.Redis.from_url(url)
    names = list(queues or QUEUES)  # in priority order: the first listed is served first
    if "housekeeping" in names:
        with app.app_context():
            ensure_schedule(connection)
    HotlineWorker.app = app
    worker = HotlineWorker(
        [Queue(queue_name(q), connection=connection) for q in names], connection=connection, name=name
    )
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")


@housekeeping.command("run")
@with_appcontext
def housekeeping_run() -> None:
    """Run every housekeeping job once, now, in this process (e.g. from cron without Redis)."""
    from jobs.schedule import run_all_now

    for name, result in run_all_now().items():
        click.echo(f"{name}: {result}")


@housekeeping.command("schedule")
@with_appcontext
def housekeeping_schedule() -> None:
    """Make sure the periodic jobs are scheduled (workers do this when they start)."""
    from jobs.schedule import ensure_schedule

    if not current_app.config["REDIS_URL"]:
        raise click.ClickException("REDIS_URL is not set")
    made = ensure_schedule()
    click.echo("scheduled: " + (", ".join(made) if made else "nothing (all were scheduled)"))


@api_tokens.command("create")
@click.argument("name")
@with_appcontext
def token_create(name: str) -> None:
    """Make a token for NAME and print it once: it is stored only as a hash."""
    from domain.staff.api_tokens import TokenError, create_token

    try:
        token = create_token(name)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(token)
    click.echo(f"(the token for {name}; it is shown this once, keep it in the client's secret store)", err=True)


@api_tokens.command("revoke")
@click.argument("name")
@with_appcontext
def token_revoke(name: str) -> None:
    """Revoke NAME's token: the next request with it gets 401."""
    from domain.staff.api_tokens import revoke_token

    if not revoke_token(name):
        raise click.ClickException(f"no live token named {name!r}")
    click.echo(f"revoked {name}")


@api_tokens.command("list")
@with_appcontext
def token_list() -> None:
    """Every token: name, first characters, created, last used, revoked."""
    from domain.staff.api_tokens import list_tokens

    for token in list_tokens():
        state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "live"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        click.echo(f"{token.name}\t{token.prefix}…\tcreated {token.created_at:%Y-%m-%d}\tlast used {used}\t{state}")
