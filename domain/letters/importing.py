"""Batch import of letters from the records office: row validation, then a set-based merge per batch.

`validate_row` is pure (a dict of texts in, a `LetterRow` or a reason out) so that the CLI,
an RQ job and an HTTP API all accept and refuse exactly the same rows. `import_rows` does
the database work for any source of rows; `import_csv` reads the CSV file format.

Each batch is staged in a temporary table (COPY on PostgreSQL) and merged with a fixed
number of statements that find stored letters through the unique key's index, so no
statement grows with the file or with the table. An import with an ImportJob row commits
each batch together with the last line it covers, and is resumed from there when run again.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import IO, TypeAlias

from flask import current_app
from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateTable

from domain.clock import local_today
from domain.db.once import rows_changed
from domain.letters.lookup import EARLIEST_DATE, MAX_NUMBER_DIGITS
from domain.phones import normalize_phone
from extensions import db
from models import (
    Direction,
    Entity,
    ImportJob,
    ImportKey,
    ImportRejection,
    Status,
    Transaction,
    TransactionEvent,
)
from models.types import UTCDateTime, utcnow

HEADER = (
    "number",
    "date",
    "direction",
    "subject",
    "sender",
    "recipient",
    "holder",
    "status",
    "status_date",
    "phone",
)
BATCH_SIZE = 5000  # rows per staged batch and commit: each statement of a batch stays in milliseconds
MAX_SUBJECT = 500  # the column sizes of the models
MAX_ENTITY_NAME = 200
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ARABIC_LETTER = re.compile(r"[\u0621-\u064A\u0671-\u06D3\u06FA-\u06FF]")
# Control characters (Unicode category Cc) and lone surrogates: PostgreSQL refuses NUL, and
# the others would be invisible in the console. Only a subject may span lines.
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")
CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
DIRECTIONS = {d.value: d for d in Direction}
STATUSES = {s.value: s for s in Status}
# The fields whose change is news for the caller and so makes a TransactionEvent.
TRACKED = ("status", "holder_id")
KEY = ("number", "date", "direction")
COMPARED = ("subject", "sender_id", "recipient_id", "holder_id", "status", "status_date", "citizen_phone")

log = logging.getLogger(__name__)

Key = tuple[str, date, Direction]


class ImportFileError(ValueError):
    """The file as a whole cannot be read: unreadable, empty, or a wrong header."""


# A row's field named `date` hides the type inside the class: it is annotated with this.
Day: TypeAlias = date


@dataclass(frozen=True)
class LetterRow:
    """One letter as the records office sent it, checked and normalised."""

    number: str
    date: Day
    direction: Direction
    subject: str
    sender: str
    recipient: str
    holder: str
    status: Status
    status_date: Day
    phone: str | None

    @property
    def key(self) -> Key:
        return (self.number, self.date, self.direction)


class ImportStopped(RuntimeError):
    """A load that failed part-way: what failed, the line it had reached, and where it resumes.

    Batches before `committed_line` are loaded; running the same import again goes on from
    the line after it (an import without an ImportJob row starts again, which is harmless:
    loading the same rows again changes nothing)."""

    def __init__(self, reason: str, *, line: int, committed_line: int) -> None:
        super().__init__(f"stopped at line {line}: {reason}")
        self.reason = reason
        self.line = line
        self.committed_line = committed_line


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    # Each rejected (line, reason), for an import without an ImportJob row; one with a row
    # keeps them in import_rejection instead (a file may have a million of them).
    rejected: list[tuple[int, str]] = field(default_factory=list)
    rejected_count: int = 0
    # Letters already known whose status or holder changed, when the caller notifies their
    # subscribers itself (`notify=False`); otherwise each batch did, and counted them here.
    changed_ids: list[int] = field(default_factory=list)
    notified: int = 0
    resumed_after: int = 0  # the line an earlier run had committed, when this run resumed it

    def summary(self) -> str:
        return f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, rejected {self.rejected_count}"


@dataclass(frozen=True)
class Progress:
    """Where an import is, after each committed batch (for a progress bar)."""

    line: int  # the last line of the file loaded (header = line 1)
    rows: int  # rows read by this run
    seconds: float  # since this run began

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


# --- one row: pure validation ------------------------------------------------------


def validate_row(raw: Mapping, *, today: date, phone_region: str = "IQ") -> LetterRow | str:
    """A row of texts keyed by the header's names -> a LetterRow, or why it is refused."""
    values = {name: _text(raw.get(name)) for name in HEADER}
    errors = [
        f"{name} {problem}"
        for name, value in values.items()
        if (problem := _bad_characters(value, multiline=name == "subject"))
    ]
    if errors:  # nothing else is worth checking in text that was mangled on the way
        return "; ".join(errors)

    number = _check_number(values["number"], errors)
    on = _check_date("date", values["date"], today, errors)
    direction = _check_choice("direction", values["direction"], DIRECTIONS, errors)
    subject = " ".join(values["subject"].split())
    if len(subject) > MAX_SUBJECT:
        errors.append(f"subject is longer than {MAX_SUBJECT} characters")
    sender, recipient, holder = (
        _check_entity(name, values[name], errors) for name in ("sender", "recipient", "holder")
    )
    status = _check_choice("status", values["status"], STATUSES, errors)
    status_date = _check_date("status_date", values["status_date"], today, errors)
    if on and status_date and status_date < on:
        errors.append(f"status_date {status_date.isoformat()} is before date {on.isoformat()}")
    phone = None
    if values["phone"]:
        phone = normalize_phone(values["phone"], phone_region)
        if phone is None:
            errors.append(f"phone {values['phone']!r} is not a phone number")
    if errors:
        return "; ".join(errors)
    # Each check that found nothing wrong returned its value.
    assert number and on and sender and recipient and holder and status and status_date
    return LetterRow(
        number=number,
        date=on,
        direction=direction,
        subject=subject,
        sender=sender,
        recipient=recipient,
        holder=holder,
        status=status,
        status_date=status_date,
        phone=phone,
    )


def _text(value) -> str:
    if value is None:
        return ""
    return (value if isinstance(value, str) else str(value)).strip()


def _bad_characters(value: str, *, multiline: bool) -> str | None:
    if "\ufffd" in value:  # what bytes that were not UTF-8 decode to
        return "is not valid UTF-8 text"
    found = (CONTROL_MULTILINE if multiline else CONTROL).search(value)
    if found:
        return f"contains the control character U+{ord(found.group()):04X}"
    return None


def _check_number(value: str, errors: list[str]) -> str | None:
    if not value:
        errors.append("number is empty")
    elif not (value.isascii() and value.isdigit()) or len(value) > MAX_NUMBER_DIGITS:
        errors.append(f"number {value!r} must be 1 to {MAX_NUMBER_DIGITS} digits 0-9")
    else:
        return value
    return None


def _check_date(name: str, value: str, today: date, errors: list[str]) -> date | None:
    if not value:
        errors.append(f"{name} is empty")
        return None
    # fromisoformat alone would also take 20240131 or week dates; the format is YYYY-MM-DD.
    if not (value.isascii() and ISO_DATE.fullmatch(value)):
        errors.append(f"{name} {value!r} is not a date written YYYY-MM-DD")
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        errors.append(f"{name} {value!r} is not a real calendar date")
        return None
    if parsed < EARLIEST_DATE:
        errors.append(f"{name} {value} is before {EARLIEST_DATE.isoformat()}")
    elif parsed > today:
        errors.append(f"{name} {value} is in the future")
    else:
        return parsed
    return None


def _check_choice(name: str, value: str, choices: dict, errors: list[str]):
    if value in choices:
        return choices[value]
    shown = f"{value!r} is not one of" if value else "is empty; it must be one of"
    errors.append(f"{name} {shown} {', '.join(choices)}")
    return None


def _check_entity(name: str, value: str, errors: list[str]) -> str | None:
    text = " ".join(value.split())  # "وزارة  المالية" and "وزارة المالية" are one entity
    if not text:
        errors.append(f"{name} is empty")
    elif len(text) > MAX_ENTITY_NAME:
        errors.append(f"{name} is longer than {MAX_ENTITY_NAME} characters")
    elif not ARABIC_LETTER.search(text):
        # Entities are matched on their Arabic name; a Latin name or a date here is a
        # shifted column, not a new ministry.
        errors.append(f"{name} {text!r} is not an Arabic entity name")
    else:
        return text
    return None


def entity_code(name_ar: str) -> str:
    """A stable ASCII code for an entity known only by its Arabic name."""
    return "e-" + hashlib.sha1(name_ar.encode("utf-8")).hexdigest()[:12]


# --- reading CSV ---------------------------------------------------------------------


def import_csv(source: str | os.PathLike | IO, **options) -> ImportReport:
    """Import a CSV file (a path, or a text or binary stream); see `import_rows` for options.

    Raises ImportFileError when the file cannot be read or its header is wrong.
    """
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as stream:
                return import_rows(read_csv(stream), **options)
        except OSError as exc:
            raise ImportFileError(f"cannot read {os.fspath(source)}: {exc.strerror or exc}") from exc
    return import_rows(read_csv(source), **options)


def read_csv(stream: IO) -> Iterator[tuple[int, dict | str]]:
    """(line, row as a dict) for each record, or (line, reason) for one that is not a row.

    Lines are counted as a text editor does (header = line 1), so that a record whose
    quoted subject spans lines is reported at the line where it starts.
    """
    reader = csv.reader(_decoded_lines(stream), strict=False)
    names = _read_header(reader)
    consumed = reader.line_num
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield consumed + 1, f"not readable as CSV: {exc}"
            consumed = reader.line_num
            continue
        line, consumed = consumed + 1, reader.line_num
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # a blank line
        if len(fields) != len(names):
            count = f"{len(fields)} field" + ("" if len(fields) == 1 else "s")
            yield line, f"has {count}, the header has {len(names)}"
            continue
        yield line, dict(zip(names, fields, strict=True))


def _decoded_lines(stream: IO) -> Iterator[str]:
    # Decoding line by line keeps one bad byte from failing the whole file: the row that
    # holds it is refused (its text then contains U+FFFD) and the others still load.
    for line in stream:
        yield line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line


def _read_header(reader) -> list[str]:
    names: list[str] = []
    while not any(names):  # blank lines (or only a byte order mark) before the header
        try:
            first = next(reader, None)
        except csv.Error as exc:
            raise ImportFileError(f"the header line is not readable as CSV: {exc}") from exc
        if first is None:
            raise ImportFileError("the file is empty; the first line must be the header: " + ",".join(HEADER))
        names = [name.replace("\ufeff", "").strip() for name in first]  # a BOM left by Excel
    problems = []
    missing = [name for name in HEADER if name not in names]
    unexpected = [name for name in names if name not in HEADER]
    doubled = sorted({name for name in names if names.count(name) > 1})
    if missing:
        problems.append("missing " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected " + ", ".join(repr(name) for name in unexpected))
    if doubled:
        problems.append("repeated " + ", ".join(doubled))
    if problems:
        raise ImportFileError("wrong header (" + "; ".join(problems) + "); expected: " + ",".join(HEADER))
    return names


# --- the database: a set-based merge per batch -----------------------------------------


def import_rows(
    records: Iterable[tuple[int, Mapping | str]],
    *,
    today: date | None = None,
    phone_region: str | None = None,
    batch_size: int = BATCH_SIZE,
    source: str = "import",
    import_id: int | None = None,
    notify: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> ImportReport:
    """Validate and merge (line, row) pairs; a str instead of a row is a refusal reason.

    Commits once per batch, so a long file shows progress and a failure keeps the batches
    before it; loading the same rows again changes nothing. With `import_id` (an ImportJob
    row) each batch commits with its progress and rejected lines, in-file duplicates are
    found through import_key, lines an earlier run committed are skipped, and memory holds
    one batch whatever the size of the file. With `notify`, each batch queues its own
    notifications in its transaction, and they are sent after its commit.

    Raises ImportFileError for a file that cannot be read at all, ImportStopped for any
    other failure. Needs an app context.
    """
    config = current_app.config
    today = today or local_today(config["TIMEZONE"])
    phone_region = phone_region or config["DEFAULT_PHONE_REGION"]
    importer = _Importer(source=source, import_id=import_id, notify=notify, on_progress=on_progress)
    first_line = importer.committed_line + 1
    checked = None
    try:
        resume = importer.start()
        first_line = resume + 1
        # Reading and checking (pure Python) run one batch ahead in a thread of their own,
        # while this one waits on the database with the previous batch.
        checked = _CheckedBatches(
            records,
            resume=resume,
            batch_size=batch_size,
            today=today,
            phone_region=phone_region,
            whole_file_keys=import_id is None,
        )
        for batch in checked:
            first_line = batch.first_line
            importer.save(batch, batch.last_line)
            first_line = batch.last_line + 1
        importer.finish()
    except ImportFileError:
        db.session.rollback()
        raise
    except Exception as exc:  # one clear account of any failure, for the callers to show
        db.session.rollback()
        raise ImportStopped(describe(exc), line=first_line, committed_line=importer.committed_line) from exc
    finally:
        if checked is not None:
            checked.stop()
    log.info("import (%s): %s", source, importer.report.summary())  # counts only, no content
    return importer.report


class _CheckedBatches:
    """The records read and checked in batches, by a thread that stays at most two batches
    ahead (memory holds a few batches, whatever the size of the file). Lines up to `resume`
    are skipped. Duplicates are caught within a batch, or within the whole file when the
    database does not do it (an import without an ImportJob row)."""

    AHEAD = 2

    def __init__(
        self, records, *, resume: int, batch_size: int, today: date, phone_region: str, whole_file_keys: bool
    ) -> None:
        self.records, self.resume, self.batch_size = records, resume, batch_size
        self.today, self.phone_region, self.whole_file_keys = today, phone_region, whole_file_keys
        self.ready: queue.Queue = queue.Queue(maxsize=self.AHEAD)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._produce, name="import-check", daemon=True)
        self.thread.start()

    def __iter__(self) -> Iterator[_Batch]:
        while True:
            item = self.ready.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def stop(self) -> None:
        self.stopping.set()
        while self.thread.is_alive():  # unblock a producer waiting for room in the queue
            try:
                self.ready.get(timeout=0.05)
            except queue.Empty:
                pass
        self.thread.join()

    def _put(self, item) -> bool:
        while not self.stopping.is_set():
            try:
                self.ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for batch in self._batches():
                if not self._put(batch):
                    return
            self._put(None)
        except BaseException as exc:  # noqa: BLE001  handed to the importing thread, which raises it
            self._put(exc)

    def _batches(self) -> Iterator[_Batch]:
        first_line: dict[Key, int] = {}
        batch = _Batch()
        for line, raw in self.records:
            if self.resume and line <= self.resume:  # lines an earlier run committed (API indexes start at 0)
                continue
            if not batch.records:
                batch.first_line = line
            batch.records += 1
            batch.last_line = line
            row = raw if isinstance(raw, str) else validate_row(raw, today=self.today, phone_region=self.phone_region)
            if isinstance(row, str):
                batch.rejected.append((line, row))
            elif row.key in first_line:
                batch.rejected.append((line, f"same number, date and direction as line {first_line[row.key]}"))
            else:
                first_line[row.key] = line
                batch.rows.append((line, row))
            if batch.records >= self.batch_size:
                yield batch
                batch = _Batch()
                if not self.whole_file_keys:
                    first_line.clear()
        if batch.records:
            yield batch


def describe(exc: BaseException) -> str:
    """One line: the error's class and first line (the driver's own, for a database error)."""
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__


KEY_COLUMNS = (Transaction.number, Transaction.date, Transaction.direction)
# Core statements on the tables, not the ORM: the merge is a few set-based statements.
TRANSACTIONS = Transaction.__table__
EVENTS = TransactionEvent.__table__
JOBS = ImportJob.__table__
KEYS = ImportKey.__table__
REJECTIONS = ImportRejection.__table__
KEYS_DELETED_AT_ONCE = 20_000

# One batch of checked rows, with the entities as ids: a temporary table of each connection,
# emptied at each commit on PostgreSQL (and by a DELETE on SQLite, which has no ON COMMIT).
STAGE = Table(
    "import_batch",
    MetaData(),
    Column("line", Integer),
    Column("number", String(12)),
    Column("date", Date),
    Column("direction", String(32)),
    Column("subject", String(500)),
    Column("sender_id", Integer),
    Column("recipient_id", Integer),
    Column("holder_id", Integer),
    Column("status", String(32)),
    Column("status_date", Date),
    Column("citizen_phone", String(20)),
    # Filled by one probe of the unique key's index per row (`_look_up`):
    Column("found_id", Integer),  # the stored letter with this key, before the merge
    Column("old_status", String(32)),
    Column("old_holder_id", Integer),  # its values, for an event
    Column("differs", Integer),  # 1 when a compared field differs from the stored letter
    Column("first_line", Integer),  # the line of this import that loaded the key before
    Column("new_id", Integer),  # the letter this batch added
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)
STAGED = (
    "line",
    "number",
    "date",
    "direction",
    "subject",
    "sender_id",
    "recipient_id",
    "holder_id",
    "status",
    "status_date",
    "citizen_phone",
)
EVENT_COLUMNS = (
    "transaction_id",
    "status",
    "holder_id",
    "status_date",
    "previous_status",
    "previous_holder_id",
    "source",
    "recorded_at",
)


def _stored_id():
    """The id of the stored letter with the staged row's key: one probe of the unique index."""
    return (
        select(TRANSACTIONS.c.id)
        .where(
            TRANSACTIONS.c.number == STAGE.c.number,
            TRANSACTIONS.c.date == STAGE.c.date,
            TRANSACTIONS.c.direction == STAGE.c.direction,
        )
        .scalar_subquery()
    )


def _look_up_sql(dialect: str, with_keys: bool) -> str:
    """Each staged row's stored letter, its old values and whether it differs, and (for an
    import with a row) the line that loaded its key before: correlated subqueries, each one
    index probe per staged row whatever the planner's statistics say, so the cost follows
    the batch, never the size of the letters table (a join may be planned as a scan of it)."""
    distinct = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    differs = " OR ".join(f"t.{name} {distinct} import_batch.{name}" for name in COMPARED)
    same_key = "t.number = import_batch.number AND t.date = import_batch.date AND t.direction = import_batch.direction"
    first_line = (
        (
            ", first_line = (SELECT k.line FROM import_key k WHERE k.import_id = :import_id"
            " AND k.number = import_batch.number AND k.date = import_batch.date"
            " AND k.direction = import_batch.direction)"
        )
        if with_keys
        else ""
    )
    return (
        "UPDATE import_batch SET (found_id, old_status, old_holder_id, differs) = ("
        f'SELECT t.id, t.status, t.holder_id, CASE WHEN {differs} THEN 1 ELSE 0 END FROM "transaction" t'
        f" WHERE {same_key}){first_line}"
    )


@dataclass
class _Batch:
    records: int = 0
    first_line: int = 0
    last_line: int = 0
    rows: list[tuple[int, LetterRow]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


class _Importer:
    """The state one import keeps between batches: the report, the entity ids seen, progress."""

    def __init__(
        self, source: str, import_id: int | None, notify: bool, on_progress: Callable[[Progress], None] | None
    ) -> None:
        self.source = source
        self.import_id = import_id
        self.notify = notify
        self.on_progress = on_progress
        self.report = ImportReport()
        self.entity_ids: dict[str, int] = {}
        self.committed_line = 0
        self.rows = 0
        self.started = time.perf_counter()

    def start(self) -> int:
        """The line an earlier run of this import committed (0 for a new one)."""
        if self.import_id is not None:
            self.committed_line = (
                db.session.scalar(select(JOBS.c.committed_line).where(JOBS.c.id == self.import_id)) or 0
            )
            db.session.commit()
            self.report.resumed_after = self.committed_line
        return self.committed_line

    def save(self, batch: _Batch, end_line: int) -> None:
        try:
            self._save_batch(batch, end_line)
        except IntegrityError:
            # Another import inserted one of these letters or entities since we looked:
            # start the batch again, it will now find them.
            db.session.rollback()
            self.entity_ids.clear()
            self._save_batch(batch, end_line)
        self.committed_line = end_line
        self.rows += batch.records
        if self.notify:
            from domain.sms import dispatch_outbox

            dispatch_outbox()
        if self.on_progress:
            self.on_progress(Progress(end_line, self.rows, time.perf_counter() - self.started))

    def _save_batch(self, batch: _Batch, end_line: int) -> None:
        rejected = list(batch.rejected)
        added = updated = unchanged = notified = 0
        changed_ids: list[int] = []
        if batch.rows:
            self._resolve_entities({name for _, row in batch.rows for name in (row.sender, row.recipient, row.holder)})
            self._stage(batch.rows)
            if self.import_id is not None:
                rejected.extend(self._refuse_duplicates())
            added, updated, unchanged, changed_ids = self._merge()
        if self.notify and changed_ids:
            from domain.sms import notify_subscribers

            notified = notify_subscribers(changed_ids)
        rejected.sort()
        if self.import_id is not None:
            self._record(batch, end_line, rejected, (added, updated, unchanged, notified))
        else:
            self.report.rejected.extend(rejected)
        db.session.commit()
        report = self.report
        report.added += added
        report.updated += updated
        report.unchanged += unchanged
        report.rejected_count += len(rejected)
        report.notified += notified
        if not self.notify:
            report.changed_ids.extend(changed_ids)

    def _resolve_entities(self, names: set[str]) -> None:
        wanted = names - self.entity_ids.keys()
        if not wanted:
            return
        found = db.session.execute(select(Entity.name_ar, Entity.id).where(Entity.name_ar.in_(wanted)))
        self.entity_ids.update(dict(found.all()))
        for name in sorted(wanted - self.entity_ids.keys()):
            entity = Entity(code=entity_code(name), name_ar=name, name_ckb="", name_en="")
            db.session.add(entity)
            db.session.flush()
            self.entity_ids[name] = entity.id

    def _stage(self, rows: list[tuple[int, LetterRow]]) -> None:
        """The batch into the connection's temporary table: COPY on PostgreSQL."""
        ids = self.entity_ids
        values = [
            (
                line,
                row.number,
                row.date,
                row.direction.value,
                row.subject,
                ids[row.sender],
                ids[row.recipient],
                ids[row.holder],
                row.status.value,
                row.status_date,
                row.phone,
            )
            for line, row in rows
        ]
        session = db.session
        session.execute(CreateTable(STAGE, if_not_exists=True))
        if session.get_bind().dialect.name == "postgresql":
            driver = session.connection().connection.driver_connection
            assert driver is not None  # a live psycopg connection
            with driver.cursor() as cursor, cursor.copy(f"COPY import_batch ({', '.join(STAGED)}) FROM STDIN") as copy:
                for item in values:
                    copy.write_row(item)
        else:
            session.execute(delete(STAGE))
            session.execute(insert(STAGE), [dict(zip(STAGED, item, strict=True)) for item in values])
        self._look_up()

    def _look_up(self) -> None:
        dialect = db.session.get_bind().dialect.name
        db.session.execute(
            text(_look_up_sql(dialect, self.import_id is not None)),
            {"import_id": self.import_id} if self.import_id is not None else {},
        )

    def _refuse_duplicates(self) -> list[tuple[int, str]]:
        """Staged rows whose key an earlier batch of this import loaded: refused, naming its line.
        The others' keys are recorded for the batches to come."""
        repeated = STAGE.c.first_line.is_not(None)
        found = db.session.execute(select(STAGE.c.line, STAGE.c.first_line).where(repeated)).all()
        if found:
            db.session.execute(delete(STAGE).where(repeated))
        db.session.execute(
            insert(KEYS).from_select(
                ["import_id", "number", "date", "direction", "line"],
                select(literal(self.import_id, Integer), STAGE.c.number, STAGE.c.date, STAGE.c.direction, STAGE.c.line),
            )
        )
        return [(line, f"same number, date and direction as line {first}") for line, first in found]

    def _merge(self) -> tuple[int, int, int, list[int]]:
        """Staged rows into the letters: events of the changed ones, their new values, then the
        new letters and their first events. No statement joins the batch to the letters table
        but through its indexes: the changed letters are named by id."""
        session = db.session
        now = literal(utcnow(), UTCDateTime())
        source = literal(self.source, String(32))
        found = STAGE.c.found_id.is_not(None)
        staged, existing = session.execute(select(func.count(), func.count(STAGE.c.found_id))).one()
        changed_ids = list(
            session.scalars(
                insert(EVENTS)
                .from_select(
                    EVENT_COLUMNS,
                    select(
                        STAGE.c.found_id,
                        STAGE.c.status,
                        STAGE.c.holder_id,
                        STAGE.c.status_date,
                        STAGE.c.old_status,
                        STAGE.c.old_holder_id,
                        source,
                        now,
                    ).where(
                        found, or_(STAGE.c.old_status != STAGE.c.status, STAGE.c.old_holder_id != STAGE.c.holder_id)
                    ),
                )
                .returning(EVENTS.c.transaction_id)
            )
        )
        differing = list(session.scalars(select(STAGE.c.found_id).where(found, STAGE.c.differs == 1)))
        if differing:
            session.execute(
                update(TRANSACTIONS)
                .where(TRANSACTIONS.c.id.in_(differing), TRANSACTIONS.c.id == STAGE.c.found_id)
                .values({**{name: STAGE.c[name] for name in COMPARED}, "updated_at": now})
            )
        letter_columns = ("number", "date", "direction", *COMPARED)
        added = staged - existing
        if added:
            session.execute(
                insert(TRANSACTIONS).from_select(
                    [*letter_columns, "created_at", "updated_at"],
                    select(*(STAGE.c[name] for name in letter_columns), now, now).where(STAGE.c.found_id.is_(None)),
                )
            )
            session.execute(update(STAGE).where(STAGE.c.found_id.is_(None)).values(new_id=_stored_id()))
            session.execute(
                insert(EVENTS).from_select(
                    EVENT_COLUMNS,
                    select(
                        STAGE.c.new_id,
                        STAGE.c.status,
                        STAGE.c.holder_id,
                        STAGE.c.status_date,
                        null(),
                        null(),
                        source,
                        now,
                    ).where(STAGE.c.new_id.is_not(None)),
                )
            )
        return added, len(differing), existing - len(differing), changed_ids

    def _record(self, batch: _Batch, end_line: int, rejected: list[tuple[int, str]], counts) -> None:
        """The batch's progress on its ImportJob row, in the batch's own transaction."""
        added, updated, unchanged, notified = counts
        if rejected:
            db.session.execute(
                insert(REJECTIONS),
                [{"import_id": self.import_id, "line": line, "reason": reason} for line, reason in rejected],
            )
        seconds = time.perf_counter() - self.started
        db.session.execute(
            update(JOBS)
            .where(JOBS.c.id == self.import_id)
            .values(
                committed_line=end_line,
                processed=JOBS.c.processed + batch.records,
                added=JOBS.c.added + added,
                updated=JOBS.c.updated + updated,
                unchanged=JOBS.c.unchanged + unchanged,
                rejected_count=JOBS.c.rejected_count + len(rejected),
                notified=JOBS.c.notified + notified,
                rows_per_second=(self.rows + batch.records) / seconds if seconds > 0 else None,
            )
        )

    def finish(self) -> None:
        """With an ImportJob row: its keys are let go (in slices, each its own statement) and
        the report gives the totals of every run of the import, not only of this one."""
        if self.import_id is None:
            return
        key = tuple_(KEYS.c.number, KEYS.c.date, KEYS.c.direction)
        while True:
            some = (
                select(KEYS.c.number, KEYS.c.date, KEYS.c.direction)
                .where(KEYS.c.import_id == self.import_id)
                .limit(KEYS_DELETED_AT_ONCE)
            )
            gone = rows_changed(
                db.session.execute(delete(KEYS).where(KEYS.c.import_id == self.import_id, key.in_(some)))
            )
            db.session.commit()
            if gone < KEYS_DELETED_AT_ONCE:
                break
        job = db.session.execute(select(JOBS).where(JOBS.c.id == self.import_id)).one()
        db.session.commit()
        report = self.report
        report.added, report.updated, report.unchanged = job.added, job.updated, job.unchanged
        report.rejected_count, report.notified = job.rejected_count, job.notified
