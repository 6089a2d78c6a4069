"""CSV imports run as jobs: the ImportJob row first, then the job; progress read from the row."""
from __future__ import annotations

import io

from domain.letters.importing import ImportFileError, read_csv
from extensions import db
from models import ImportJob, ImportState

IMPORT_JOB = "jobs.imports.run_import"


def check_header(content: bytes) -> None:
    """Raises ImportFileError for a file whose header is wrong; rows are the job's to check."""
    next(read_csv(io.BytesIO(content)), None)


def start_import(content: bytes, *, filename: str, source: str, requested_by: str,
                 user_id: int | None = None) -> ImportJob:
    """The ImportJob row, committed, then its job enqueued (the sweep retries if Redis is down)."""
    from jobs import enqueue

    if not content.strip():
        raise ImportFileError("the file is empty")
    check_header(content)
    job = ImportJob(content=content, filename=filename[:200], source=source,
                    requested_by=requested_by[:64], user_id=user_id, state=ImportState.pending)
    db.session.add(job)
    db.session.commit()
    enqueue_import(job.id)
    db.session.refresh(job)
    return job


def enqueue_import(import_id: int) -> bool:
    from jobs import enqueue

    return enqueue(IMPORT_JOB, import_id, job_id=f"import-{import_id}")


def import_progress(job: ImportJob) -> dict:
    """What the API and the console's progress bar show about one import."""
    return {
        "id": job.id, "state": job.state.value, "filename": job.filename,
        "total_lines": job.total_lines, "processed": job.processed, "added": job.added,
        "updated": job.updated, "unchanged": job.unchanged, "rejected": job.rejected_count,
        "rejected_lines": [{"line": line, "reason": reason} for line, reason in (job.rejected or [])],
        "error": job.error,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
