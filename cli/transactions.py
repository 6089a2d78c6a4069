"""`flask transactions ...`: loading letters from the records office."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from domain.letters.importing import ImportFileError, import_csv
from domain.sms import dispatch_outbox, notify_subscribers
from extensions import db

transactions = AppGroup("transactions", help="Letters from the records office.")


@transactions.command("import")
@click.argument("file", type=click.Path())
def import_command(file: str) -> None:
    """Load letters from a CSV FILE (header: number,date,direction,subject,sender,
    recipient,holder,status,status_date,phone). Exit status 1 if any row was rejected."""
    try:
        report = import_csv(file)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc  # "Error: ...", exit status 1
    click.echo(report.summary())
    notify_changes(report.changed_ids)
    for line, reason in report.rejected:
        click.echo(f"line {line}: {reason}")
    if report.rejected:
        click.get_current_context().exit(1)


def notify_changes(transaction_ids: list[int]) -> None:
    """Subscribers of the letters whose status or holder changed get their SMS."""
    count = notify_subscribers(transaction_ids)
    db.session.commit()
    dispatch_outbox()
    if count:
        click.echo(f"notifications queued: {count}")
