"""`flask transactions ...`: loading letters from the records office."""

from __future__ import annotations

import sys
from typing import Self

import click
from flask.cli import AppGroup

from domain.letters.import_jobs import (
    duration,
    finish_import,
    rejected_lines,
    start_file_import,
    stopped_message,
)
from domain.letters.importing import (
    BATCH_SIZE,
    ImportFileError,
    ImportStopped,
    Progress,
    describe,
    import_csv,
)
from extensions import db
from models import ImportState

transactions = AppGroup("transactions", help="Letters from the records office.")
INTERRUPTED = 130  # the shell's status for a run stopped by Ctrl-C


@transactions.command("import")
@click.argument("file", type=click.Path())
@click.option(
    "--batch-size", type=click.IntRange(1), default=BATCH_SIZE, show_default=True, help="Rows per committed batch."
)
def import_command(file: str, batch_size: int) -> None:
    """Load letters from a CSV FILE (header: number,date,direction,subject,sender,
    recipient,holder,status,status_date,phone). Exit status 1 if any row was rejected or
    the load failed; a load that stopped is resumed by running the same command again."""
    resume = f"run `flask transactions import {file}` again to resume"
    try:
        job = start_file_import(file)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # noqa: BLE001  the database is down, typically: one line, no traceback
        db.session.rollback()
        raise click.ClickException(f"the import of {file} could not start: {describe(exc)}") from None
    import_id, resumed_after = job.id, job.committed_line
    if resumed_after:
        click.echo(f"resuming {file} after line {resumed_after:,}, which an earlier run loaded", err=True)
    bar = ImportProgressBar(job.total_lines, resumed_after)
    try:
        with bar:
            report = import_csv(file, batch_size=batch_size, import_id=import_id, notify=True, on_progress=bar.update)
    except ImportFileError as exc:
        give_up(import_id, str(exc))
        raise click.ClickException(str(exc)) from None
    except ImportStopped as stopped:
        message = stopped_message(stopped, resume=f"{resume} from line {max(stopped.committed_line, 1) + 1}")
        give_up(import_id, message)
        raise click.ClickException(message) from None
    except KeyboardInterrupt:
        click.echo(f"Error: interrupted; lines up to {bar.line:,} are loaded; {resume}", err=True)
        give_up(import_id, f"interrupted after line {bar.line}")
        click.get_current_context().exit(INTERRUPTED)
    finish_import(import_id, ImportState.done)
    click.echo(report.summary())
    if report.notified:
        click.echo(f"notifications queued: {report.notified}")
    for line, reason in rejected_lines(import_id):
        click.echo(f"line {line}: {reason}")
    if report.rejected_count:
        click.get_current_context().exit(1)


def give_up(import_id: int, message: str) -> None:
    """The run's end on its row (`failed`, resumable), if the database still answers."""
    try:
        db.session.rollback()
        finish_import(import_id, ImportState.failed, error=message)
    except Exception:  # noqa: BLE001  the row stays `running`; the next run resumes it all the same
        db.session.rollback()


class ImportProgressBar:
    """How far a load is, on stderr: on a terminal click's progress bar (percent, time left,
    and rows per second as its item text); in a log or a pipe, a line at each tenth."""

    def __init__(self, total_lines: int, resumed_after: int) -> None:
        self.done_before = max(resumed_after - 1, 0)  # lines loaded by earlier runs
        self.length = max(total_lines - self.done_before, 1)  # this run's lines
        self.line = max(resumed_after, 1)
        self.bar = None
        self.tenths_shown = 0

    def __enter__(self) -> Self:
        stream = sys.stderr
        if is_terminal(stream):
            self.bar = click.progressbar(
                length=self.length,
                label="importing",
                show_eta=True,
                show_percent=True,
                show_pos=True,
                item_show_func=lambda text: text,
                file=stream,
            ).__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc_info)

    def update(self, progress: Progress) -> None:
        lines = progress.line - self.line
        self.line = progress.line
        rate = f"{progress.rows_per_second:,.0f} rows/s"
        if self.bar is not None:
            self.bar.update(lines, rate)
            return
        done = self.line - 1 - self.done_before
        tenths = min(10 * done // self.length, 10)
        if tenths > self.tenths_shown:
            self.tenths_shown = tenths
            left = (self.length - done) / progress.rows_per_second if progress.rows_per_second else 0
            click.echo(
                f"importing: line {self.line:,} of {self.length + self.done_before + 1:,} "
                f"({100 * done // self.length}%), {rate}, {duration(left)} left",
                err=True,
            )


def is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
