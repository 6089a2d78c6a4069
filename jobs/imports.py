"""The `imports` queue's job: load one ImportJob's CSV, with progress on its row."""
from __future__ import annotations

import io
import logging
from datetime import datetime, timezone

from sqlalchemy import update

from domain.letters.importing import ImportFileError, import_rows, read_csv
from domain.sms import dispatch_outbox, notify_subscribers
from extensions import db
from jobs.context import job
from models import ImportJob, ImportState

log = logging.getLogger(__name__)
PROGRESS_BATCH = 500  # rows per commit, so the progress bar moves on a large file
MAX_REJECTED_KEPT = 200  # the first rejected lines are shown; the count covers all


def now() -> datetime:
    return datetime.now(timezone.utc)


@job
def run_import(import_id: int) -> str:
    """Idempotent: a finished import is not run again; a rerun of an interrupted one loads
    the same rows again, which the upsert makes harmless."""
    table = ImportJob.__table__
    claimed = db.session.execute(
        update(table).where(table.c.id == import_id, table.c.state.in_([ImportState.pending, ImportState.running]))
        .values(state=ImportState.running, started_at=now(), processed=0)
    )
    db.session.commit()
    if claimed.rowcount != 1:
        return "nothing to do"
    record = db.session.get(ImportJob, import_id)
    content = record.content or b""
    record.total_lines = content.count(b"\n") + (0 if content.endswith(b"\n") else 1) - 1
    db.session.commit()
    try:
        report = import_rows(counted(read_csv(io.BytesIO(content)), record),
                             batch_size=PROGRESS_BATCH, source="import")
    except ImportFileError as exc:
        db.session.rollback()
        return finish(import_id, ImportState.failed, error=str(exc)[:500])
    notify_subscribers(report.changed_ids)
    record = db.session.get(ImportJob, import_id)
    record.added, record.updated, record.unchanged = report.added, report.updated, report.unchanged
    record.rejected = [list(item) for item in report.rejected[:MAX_REJECTED_KEPT]]
    record.rejected_count = len(report.rejected)
    db.session.commit()
    dispatch_outbox()
    return finish(import_id, ImportState.done)


def counted(records, record: ImportJob):
    """Pass the rows through, noting how far we are on the row (committed with each batch)."""
    for count, item in enumerate(records, start=1):
        record.processed = count
        yield item


def finish(import_id: int, state: ImportState, error: str | None = None) -> str:
    record = db.session.get(ImportJob, import_id)
    record.state = state
    record.error = error
    record.finished_at = now()
    record.content = None  # the file holds record content: not kept once it is loaded
    db.session.commit()
    log.info("import %s %s", import_id, state.value)
    return state.value
