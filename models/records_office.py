"""What the records office uses to reach us: API tokens, and CSV imports run as jobs."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import Model
from models.transaction import enum_column
from models.types import UTCDateTime, utcnow


class ApiToken(Model):
    """A bearer token of the records-office API; only its SHA-256 is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in listings, to tell tokens apart
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ImportState(str, enum.Enum):
    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"


class ImportJob(Model):
    """A CSV import, run by a worker or by `flask transactions import`; its progress lives
    here so that it survives restarts: each batch commits with the last line it covers."""

    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[ImportState] = mapped_column(enum_column(ImportState, "import_state"), default=ImportState.pending)
    source: Mapped[str] = mapped_column(String(32), default="api")  # api | console
    requested_by: Mapped[str] = mapped_column(String(64), default="")  # token or user name
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    total_lines: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, default=0)  # the lines: ImportRejection
    notified: Mapped[int] = mapped_column(Integer, default=0)  # notifications queued
    # The file's SHA-256: a command-line run that stopped is resumed by running it again. An
    # upload's is set once its last chunk is stored: until then the import is not run.
    file_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    committed_line: Mapped[int] = mapped_column(Integer, default=0)  # lines up to it are loaded
    rows_per_second: Mapped[float | None] = mapped_column(Float)  # of the current run, for its time left
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ImportKey(Model):
    """A letter's key as one import loaded it, and its line: a later line with the same key is
    refused as a duplicate, even after the import was stopped and resumed. Deleted when the
    import is done."""

    __tablename__ = "import_key"

    import_id: Mapped[int] = mapped_column(ForeignKey("import_job.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[str] = mapped_column(String(12), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    direction: Mapped[str] = mapped_column(String(32), primary_key=True)
    line: Mapped[int] = mapped_column(Integer)


class ImportRejection(Model):
    """A line of an import's file that was refused, and why."""

    __tablename__ = "import_rejection"

    import_id: Mapped[int] = mapped_column(ForeignKey("import_job.id", ondelete="CASCADE"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    reason: Mapped[str] = mapped_column(Text)


class ImportChunk(Model):
    """A piece of an uploaded CSV (IMPORT_CHUNK_BYTES, 1 MiB), in order: the file lives in the
    database until it is loaded, so any web node can take the upload and any worker run it.
    Deleted when the import is done (or failed), or by the retention purge if abandoned."""

    __tablename__ = "import_chunk"

    import_id: Mapped[int] = mapped_column(ForeignKey("import_job.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
