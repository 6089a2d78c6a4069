"""The `imports` queue's job: load one ImportJob's CSV (its stored chunks), with progress on its row."""

from __future__ import annotations

import logging

from sqlalchemy import update

from domain.letters.import_jobs import COMMAND_LINE, finish_import, now, stopped_message, uploaded_file
from domain.letters.importing import (
    ImportFileError,
    ImportStopped,
    import_rows,
    read_csv,
)
from extensions import db
from jobs.context import job
from models import ImportJob, ImportState

log = logging.getLogger(__name__)
PROGRESS_BATCH = 1000  # rows per commit, so the progress bar moves on a small file too


@job
def run_import(import_id: int) -> str:
    """Idempotent: a finished import is not run again; a rerun of an interrupted one (its
    worker killed, or an error retried by RQ) resumes after the last line it committed. Only
    a complete upload is run: its SHA-256 is set with its last chunk."""
    table = ImportJob.__table__
    claimed = db.session.execute(
        update(table)
        .where(
            table.c.id == import_id,
            table.c.file_sha256.is_not(None),
            table.c.source != COMMAND_LINE,
            table.c.state.in_([ImportState.pending, ImportState.running]),
        )
        .values(state=ImportState.running, started_at=now(), error=None)
    )
    db.session.commit()
    if claimed.rowcount != 1:
        return "nothing to do"
    source = db.session.get(ImportJob, import_id).source
    db.session.commit()
    try:
        with uploaded_file(import_id) as stream:
            import_rows(read_csv(stream), batch_size=PROGRESS_BATCH, source="import", import_id=import_id, notify=True)
    except ImportFileError as exc:
        finish_import(import_id, ImportState.failed, error=str(exc))
        return ImportState.failed.value
    except ImportStopped as stopped:
        # Left `running` with the reason: RQ retries the job (or the sweep enqueues it
        # again), and the retry resumes after the last committed line.
        note_stopped(import_id, stopped_message(stopped, resume="it resumes from there when retried"))
        log.warning("import %s (%s) stopped at line %s: %s", import_id, source, stopped.line, stopped.reason)
        raise
    finish_import(import_id, ImportState.done)
    log.info("import %s done", import_id)
    return ImportState.done.value


def note_stopped(import_id: int, message: str) -> None:
    """The reason on the row, for the console; the database may be what failed."""
    try:
        db.session.execute(
            update(ImportJob.__table__).where(ImportJob.__table__.c.id == import_id).values(error=message[:500])
        )
        db.session.commit()
    except Exception:  # noqa: BLE001  the job's own failure is what matters
        db.session.rollback()
