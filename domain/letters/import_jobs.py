"""Imports with a record: the ImportJob row of an upload (stored in chunks as it arrives, then
run as a job) or of a file loaded from the command line (resumed by running the command
again); progress read from the row."""

from __future__ import annotations

import hashlib
import io
import logging
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import chain

from flask import current_app
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from domain.db.once import rows_changed
from domain.letters.importing import ImportFileError, ImportStopped, read_csv
from extensions import db
from models import ImportChunk, ImportJob, ImportRejection, ImportState

log = logging.getLogger(__name__)
IMPORT_JOB = "jobs.imports.run_import"
COMMAND_LINE = "cli"  # the source of an import run by `flask transactions import`
REJECTED_SHOWN = 200  # the first rejected lines are shown; the count covers all
READ_CHUNK = 1024 * 1024
EMPTY_FILE = "the file is empty"
HEADER_MAX = 64 * 1024  # the bytes read for the header before it is checked, at most
CHUNKS_DELETED_AT_ONCE = 16  # 16 MiB of chunks per statement, whatever the size of the file
CHUNKS = ImportChunk.__table__
JOBS = ImportJob.__table__


class UploadTooLarge(ValueError):
    """The upload went past IMPORT_MAX_BYTES; nothing of it is kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than {limit:,} bytes (IMPORT_MAX_BYTES)")
        self.limit = limit


class Fingerprint:
    """A file's SHA-256 and its lines after the header, taken piece by piece as it is read."""

    def __init__(self, limit: int | None = None) -> None:
        self.digest, self.size, self.newlines, self.last = hashlib.sha256(), 0, 0, b"\n"
        self.limit = limit

    def take(self, piece: bytes) -> bytes:
        self.size += len(piece)
        if self.limit is not None and self.size > self.limit:
            raise UploadTooLarge(self.limit)
        if piece:
            self.digest.update(piece)
            self.newlines += piece.count(b"\n")
            self.last = piece[-1:]
        return piece

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()

    @property
    def lines(self) -> int:
        """Lines after the header, as the progress bar counts them."""
        return max(self.newlines + (0 if self.last == b"\n" else 1) - 1, 0)


def check_header(content: bytes) -> None:
    """Raises ImportFileError for a file whose header is wrong; rows are the job's to check."""
    if not content.strip():
        raise ImportFileError(EMPTY_FILE)
    next(read_csv(io.BytesIO(content)), None)


def start_import(
    upload: bytes | Iterable[bytes], *, filename: str, source: str, requested_by: str, user_id: int | None = None
) -> ImportJob:
    """An upload (the file, or its pieces as they arrive) stored in IMPORT_CHUNK_BYTES chunks
    under a new ImportJob row, then its job enqueued (the sweep retries if Redis is down).

    Memory holds a chunk and a piece, whatever the size of the file. The header is checked
    before anything is stored (ImportFileError); past IMPORT_MAX_BYTES, or when the upload
    breaks off, what was stored is deleted and the error raised (UploadTooLarge, or the
    reader's own). The job runs the file once its last chunk is committed with its SHA-256.
    """
    config = current_app.config
    pieces = iter([upload] if isinstance(upload, (bytes, bytearray)) else upload)
    received = Fingerprint(limit=config["IMPORT_MAX_BYTES"])
    head = read_head(pieces, received)
    check_header(head)
    job = ImportJob(
        filename=filename[:200],
        source=source,
        requested_by=requested_by[:64],
        user_id=user_id,
        state=ImportState.pending,
    )
    db.session.add(job)
    db.session.commit()
    import_id = job.id
    try:
        store_chunks(import_id, chain([head], (received.take(piece) for piece in pieces)), config["IMPORT_CHUNK_BYTES"])
        db.session.execute(
            update(JOBS).where(JOBS.c.id == import_id).values(file_sha256=received.sha256, total_lines=received.lines)
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        try:
            discard_import(import_id)
        except Exception:  # noqa: BLE001  the upload's own failure is what matters; the purge cleans up
            db.session.rollback()
            log.exception("import %s: the chunks of a failed upload were not deleted", import_id)
        raise
    enqueue_import(import_id)
    db.session.refresh(job)  # as the commits above left it
    return job


def read_head(pieces: Iterator[bytes], received: Fingerprint) -> bytes:
    """The first pieces, up to the end of the header line (blank lines and a BOM before it
    are skipped, as the reader does), or the whole file when it is shorter."""
    head = bytearray()
    for piece in pieces:
        head += received.take(piece)
        if b"\n" in head.lstrip(b"\xef\xbb\xbf \t\r\n") or len(head) >= HEADER_MAX:
            break
    return bytes(head)


def store_chunks(import_id: int, pieces: Iterable[bytes], chunk_size: int) -> int:
    """The pieces as chunks of `chunk_size` bytes (the last one shorter), each committed as it
    is full; the number of chunks."""
    buffer, seq = bytearray(), 0

    def store(data: bytes) -> None:
        nonlocal seq
        db.session.execute(insert(CHUNKS).values(import_id=import_id, seq=seq, data=data))
        db.session.commit()
        seq += 1

    for piece in pieces:
        buffer += piece
        while len(buffer) >= chunk_size:
            store(bytes(buffer[:chunk_size]))
            del buffer[:chunk_size]
    if buffer:
        store(bytes(buffer))
    return seq


def delete_chunks(import_id: int) -> int:
    """The import's chunks, a slice per statement and commit; how many there were."""
    deleted = 0
    while True:
        seqs = db.session.scalars(
            select(CHUNKS.c.seq)
            .where(CHUNKS.c.import_id == import_id)
            .order_by(CHUNKS.c.seq)
            .limit(CHUNKS_DELETED_AT_ONCE)
        ).all()
        if not seqs:
            db.session.commit()
            return deleted
        deleted += rows_changed(
            db.session.execute(
                delete(CHUNKS).where(CHUNKS.c.import_id == import_id, CHUNKS.c.seq.between(seqs[0], seqs[-1]))
            )
        )
        db.session.commit()


def discard_import(import_id: int) -> None:
    """An upload that was refused or broke off: its chunks, then its row."""
    delete_chunks(import_id)
    db.session.execute(delete(JOBS).where(JOBS.c.id == import_id))
    db.session.commit()


class ChunkReader(io.RawIOBase):
    """An upload's chunks, in order, as one binary file: a chunk is fetched when the previous
    one is used up. Each fetch takes a connection of its own from the engine, so the file can
    be read by the importer's reading thread, which has no app context nor session."""

    def __init__(self, engine: Engine, import_id: int) -> None:
        super().__init__()
        self.engine, self.import_id, self.seq = engine, import_id, 0
        self.pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.pending:
            with self.engine.connect() as connection:
                data = connection.execute(
                    select(CHUNKS.c.data).where(CHUNKS.c.import_id == self.import_id, CHUNKS.c.seq == self.seq)
                ).scalar()
            if data is None:
                return 0
            self.seq += 1
            self.pending = memoryview(data)
        size = min(len(buffer), len(self.pending))
        buffer[:size] = self.pending[:size]
        self.pending = self.pending[size:]
        return size


def uploaded_file(import_id: int) -> io.BufferedReader:
    """The stored upload, read chunk by chunk: lines (and UTF-8 characters) that straddle two
    chunks come out whole."""
    return io.BufferedReader(ChunkReader(db.engine, import_id))


def purge_abandoned_uploads(moment: datetime, hours: int) -> int:
    """Chunks nobody will read: of an upload that never completed (its node died mid-request)
    for `hours`, marked failed, and of any import that ended. The imports whose chunks went."""
    unfinished = select(JOBS.c.id).where(
        JOBS.c.file_sha256.is_(None),
        JOBS.c.source != COMMAND_LINE,
        JOBS.c.state == ImportState.pending,
        JOBS.c.created_at < moment - timedelta(hours=hours),
    )
    ended = select(JOBS.c.id).where(
        JOBS.c.state.in_([ImportState.done, ImportState.failed]), JOBS.c.id.in_(select(CHUNKS.c.import_id))
    )
    abandoned = db.session.scalars(unfinished.union(ended)).all()
    db.session.commit()
    for import_id in abandoned:
        delete_chunks(import_id)
        db.session.execute(
            update(JOBS)
            .where(JOBS.c.id == import_id, JOBS.c.state == ImportState.pending)
            .values(state=ImportState.failed, error="the upload was not completed", finished_at=now())
        )
        db.session.commit()
    return len(abandoned)


def enqueue_import(import_id: int) -> bool:
    from jobs import enqueue

    return enqueue(IMPORT_JOB, import_id, job_id=f"import-{import_id}")


def file_fingerprint(path: str | os.PathLike) -> tuple[str, int]:
    """The file's SHA-256 and its lines after the header, read in chunks (not held in memory)."""
    fingerprint = Fingerprint()
    try:
        with open(path, "rb") as stream:
            while chunk := stream.read(READ_CHUNK):
                fingerprint.take(chunk)
    except OSError as exc:
        raise ImportFileError(f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from exc
    return fingerprint.sha256, fingerprint.lines


def start_file_import(path: str | os.PathLike, *, requested_by: str = "") -> ImportJob:
    """The ImportJob row of a command-line load of this file: the one a stopped run of the
    same file left (resumed after its last committed line), or a new one."""
    digest, lines = file_fingerprint(path)
    unfinished = db.session.scalars(
        select(ImportJob)
        .where(
            ImportJob.source == COMMAND_LINE,
            ImportJob.file_sha256 == digest,
            ImportJob.state.in_([ImportState.running, ImportState.failed]),
        )
        .order_by(ImportJob.id.desc())
        .limit(1)
    ).first()
    job = unfinished or ImportJob(
        filename=os.path.basename(os.fspath(path))[:200],
        source=COMMAND_LINE,
        requested_by=requested_by[:64],
        file_sha256=digest,
        total_lines=lines,
    )
    job.state, job.error, job.started_at = ImportState.running, None, now()
    db.session.add(job)
    db.session.commit()
    return job


def finish_import(import_id: int, state: ImportState, error: str | None = None) -> None:
    job = db.session.get(ImportJob, import_id)
    if job is None:  # purged meanwhile: nothing left to mark
        return
    job.state = state
    job.error = error[:500] if error else None
    job.finished_at = now()
    db.session.commit()
    delete_chunks(import_id)  # the file holds record content: not kept once it is loaded


def stopped_message(stopped: ImportStopped, *, resume: str) -> str:
    """One line: what failed, the line it reached, what is loaded and how to go on."""
    loaded = f"lines up to {stopped.committed_line} are loaded" if stopped.committed_line > 1 else "nothing was loaded"
    return f"the import stopped at line {stopped.line}: {stopped.reason}; {loaded}; {resume}"


def rejected_lines(import_id: int, limit: int | None = None):
    """The import's rejected (line, reason), in line order, read as they are needed."""
    query = (
        select(ImportRejection.line, ImportRejection.reason)
        .where(ImportRejection.import_id == import_id)
        .order_by(ImportRejection.line)
    )
    if limit is not None:
        return db.session.execute(query.limit(limit)).all()
    return db.session.execute(query.execution_options(yield_per=1000))


def import_progress(job: ImportJob) -> dict:
    """What the API and the console's progress bar show about one import."""
    lines_left = max(job.total_lines - max(job.committed_line - 1, 0), 0)
    rate = job.rows_per_second if job.state == ImportState.running else None
    return {
        "id": job.id,
        "state": job.state.value,
        "filename": job.filename,
        "total_lines": job.total_lines,
        "processed": job.processed,
        "added": job.added,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "rejected": job.rejected_count,
        "rejected_lines": [{"line": line, "reason": reason} for line, reason in rejected_lines(job.id, REJECTED_SHOWN)],
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
