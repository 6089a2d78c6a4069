"""`flask transactions ...`: loading letters from the records office."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from domain.importer import ImportFileError, import_csv

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
    for line, reason in report.rejected:
        click.echo(f"line {line}: {reason}")
    if report.rejected:
        click.get_current_context().exit(1)
