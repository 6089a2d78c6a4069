"""Imports with a record: the ImportJob row of an upload (run as a job) or of a file loaded
from the command line (resumed by running the command again); progress read from the row."""
from __future__ import annotations

import hashlib
import io
import os
from datetime import UTC, datetime

from sqlalchemy import select

from domain.letters.importing import ImportFileError, ImportStopped, read_csv
from extensions import db
from models import ImportJob, ImportRejection, ImportState

IMPORT_JOB = "jobs.imports.run_import"
COMMAND_LINE = "cli"  # the source of an import run by `flask transactions import`
REJECTED_SHOWN = 200  # the first rejected lines are shown; the count covers all
READ_CHUNK = 1024 * 1024


def check_header(content: bytes) -> None:
    """Raises ImportFileError for a file whose header is wrong; rows are the job's to check."""
    next(read_csv(io.BytesIO(content)), None)


def start_import(content: bytes, *, filename: str, source: str, requested_by: str,
                 user_id: int | None = None) -> ImportJob:
    """The ImportJob row, committed, then its job enqueued (the sweep retries if Redis is down)."""
    if not content.strip():
        raise ImportFileError("the file is empty")
    check_header(content)
    job = ImportJob(content=content, filename=filename[:200], source=source,
                    requested_by=requested_by[:64], user_id=user_id, state=ImportState.pending,
                    file_sha256=hashlib.sha256(content).hexdigest(), total_lines=line_count(content))
    db.session.add(job)
    db.session.commit()
    enqueue_import(job.id)
    db.session.refresh(job)
    return job


def enqueue_import(import_id: int) -> bool:
    from jobs import enqueue

    return enqueue(IMPORT_JOB, import_id, job_id=f"import-{import_id}")


def line_count(content: bytes) -> int:
    """Lines after the header, as the progress bar counts them."""
    return content.count(b"\n") + (0 if content.endswith(b"\n") else 1) - 1


def file_fingerprint(path: str | os.PathLike) -> tuple[str, int]:
    """The file's SHA-256 and its lines after the header, read in chunks (not held in memory)."""
    digest, newlines, last = hashlib.sha256(), 0, b"\n"
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(READ_CHUNK):
                digest.update(chunk)
                newlines += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError as exc:
        raise ImportFileError(f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from exc
    return digest.hexdigest(), max(newlines + (0 if last == b"\n" else 1) - 1, 0)


def start_file_import(path: str | os.PathLike, *, requested_by: str = "") -> ImportJob:
    """The ImportJob row of a command-line load of this file: the one a stopped run of the
    same file left (resumed after its last committed line), or a new one."""
    digest, lines = file_fingerprint(path)
    unfinished = db.session.scalars(
        select(ImportJob).where(ImportJob.source == COMMAND_LINE, ImportJob.file_sha256 == digest,
                                ImportJob.state.in_([ImportState.running, ImportState.failed]))
        .order_by(ImportJob.id.desc()).limit(1)
    ).first()
    job = unfinished or ImportJob(filename=os.path.basename(os.fspath(path))[:200], source=COMMAND_LINE,
                                  requested_by=requested_by[:64], file_sha256=digest, total_lines=lines)
    job.state, job.error, job.started_at = ImportState.running, None, now()
    db.session.add(job)
    db.session.commit()
    return job


def finish_import(import_id: int, state: ImportState, error: str | None = None) -> None:
    job = db.session.get(ImportJob, import_id)
    job.state = state
    job.error = error[:500] if error else None
    job.finished_at = now()
    if state == ImportState.done:
        job.content = None  # the file holds record content: not kept once it is loaded
    db.session.commit()


def stopped_message(stopped: ImportStopped, *, resume: str) -> str:
    """One line: what failed, the line it reached, what is loaded and how to go on."""
    loaded = (f"lines up to {stopped.committed_line} are loaded" if stopped.committed_line > 1
              else "nothing was loaded")
    return f"the import stopped at line {stopped.line}: {stopped.reason}; {loaded}; {resume}"


def rejected_lines(import_id: int, limit: int | None = None):
    """The import's rejected (line, reason), in line order, read as they are needed."""
    query = (select(ImportRejection.line, ImportRejection.reason)
             .where(ImportRejection.import_id == import_id).order_by(ImportRejection.line))
    if limit is not None:
        return db.session.execute(query.limit(limit)).all()
    return db.session.execute(query.execution_options(yield_per=1000))


def import_progress(job: ImportJob) -> dict:
    """What the API and the console's progress bar show about one import."""
    lines_left = max(job.total_lines - max(job.committed_line - 1, 0), 0)
    rate = job.rows_per_second if job.state == ImportState.running else None
    return {
        "id": job.id, "state": job.state.value, "filename": job.filename,
        "total_lines": job.total_lines, "processed": job.processed, "added": job.added,
        "updated": job.updated, "unchanged": job.unchanged, "rejected": job.rejected_count,
        "rejected_lines": [{"line": line, "reason": reason}
                           for line, reason in rejected_lines(job.id, REJECTED_SHOWN)],
        "rows_per_second": round(rate) if rate else None,
        "seconds_left": round(lines_left / rate) if rate else None,
        "time_left": duration(lines_left / rate) if rate else None,
        "error": job.error,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def duration(seconds: float) -> str:
    """m:ss, or h:mm:ss from an hour: how the command line and the console show time left."""
    seconds = round(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


def now() -> datetime:
    return datetime.now(UTC)
