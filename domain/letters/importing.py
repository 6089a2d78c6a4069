"""Batch import of letters from the records office: row validation, then upsert in batches.

`validate_row` is pure (a dict of texts in, a `LetterRow` or a reason out) so that the CLI,
an RQ job and an HTTP API all accept and refuse exactly the same rows. `import_rows` does
the database work for any source of rows; `import_csv` reads the CSV file format.
"""
from __future__ import annotations

import csv
import hashlib
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import IO

from flask import current_app
from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from domain.clock import local_today
from domain.lookup import EARLIEST_DATE, MAX_NUMBER_DIGITS
from domain.phones import normalize_phone
from extensions import db
from models import Direction, Entity, Status, Transaction, TransactionEvent

HEADER = (
    "number", "date", "direction", "subject", "sender", "recipient", "holder",
    "status", "status_date", "phone",
)
BATCH_SIZE = 1000
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


@dataclass(frozen=True)
class LetterRow:
    """One letter as the records office sent it, checked and normalised."""

    number: str
    date: date
    direction: Direction
    subject: str
    sender: str
    recipient: str
    holder: str
    status: Status
    status_date: date
    phone: str | None

    @property
    def key(self) -> Key:
        return (self.number, self.date, self.direction)


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    # Letters already known whose status or holder changed: their subscribers are told.
    changed_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {len(self.rejected)}"
        )


# --- one row: pure validation ------------------------------------------------------

def validate_row(raw: Mapping, *, today: date, phone_region: str = "IQ") -> LetterRow | str:
    """A row of texts keyed by the header's names -> a LetterRow, or why it is refused."""
    values = {name: _text(raw.get(name)) for name in HEADER}
    errors = [
        f"{name} {problem}" for name, value in values.items()
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
    return LetterRow(
        number=number, date=on, direction=direction, subject=subject, sender=sender,
        recipient=recipient, holder=holder, status=status, status_date=status_date, phone=phone,
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
        yield line, dict(zip(names, fields))


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
        raise ImportFileError(
            "wrong header (" + "; ".join(problems) + "); expected: " + ",".join(HEADER)
        )
    return names


# --- the database: upsert in batches --------------------------------------------------

def import_rows(
    records: Iterable[tuple[int, Mapping | str]],
    *,
    today: date | None = None,
    phone_region: str | None = None,
    batch_size: int = BATCH_SIZE,
    source: str = "import",
) -> ImportReport:
    """Validate and upsert (line, row) pairs; a str instead of a row is a refusal reason.

    Commits once per batch, so a long file shows progress and a failure keeps the batches
    before it; loading the same rows again changes nothing. Needs an app context.
    """
    config = current_app.config
    today = today or local_today(config["TIMEZONE"])
    phone_region = phone_region or config["DEFAULT_PHONE_REGION"]
    importer = _Importer(source=source)
    first_line: dict[Key, int] = {}
    batch: list[LetterRow] = []
    for line, raw in records:
        row = raw if isinstance(raw, str) else validate_row(raw, today=today, phone_region=phone_region)
        if isinstance(row, str):
            importer.report.rejected.append((line, row))
            continue
        if row.key in first_line:
            importer.report.rejected.append(
                (line, f"same number, date and direction as line {first_line[row.key]}")
            )
            continue
        first_line[row.key] = line
        batch.append(row)
        if len(batch) >= batch_size:
            importer.save(batch)
            batch = []
    if batch:
        importer.save(batch)
    log.info("import (%s): %s", source, importer.report.summary())  # counts only, no content
    return importer.report


KEY_COLUMNS = (Transaction.number, Transaction.date, Transaction.direction)
# Core statements on the tables, not the ORM: its bulk INSERT .. RETURNING goes row by row.
TRANSACTIONS = Transaction.__table__
EVENTS = TransactionEvent.__table__


def _key_in(keys: list[Key]):
    return tuple_(*KEY_COLUMNS).in_(keys)


def _key_of(values) -> Key:
    return (values["number"], values["date"], values["direction"])


class _Importer:
    """The state one import keeps between batches: the report and the entity ids seen."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.report = ImportReport()
        self.entity_ids: dict[str, int] = {}

    def save(self, rows: list[LetterRow]) -> None:
        try:
            counts = self._save_batch(rows)
        except IntegrityError:
            # Another import inserted one of these letters or entities since we looked:
            # start the batch again, it will now find them.
            db.session.rollback()
            self.entity_ids.clear()
            counts = self._save_batch(rows)
        self.report.added += counts[0]
        self.report.updated += counts[1]
        self.report.unchanged += counts[2]
        self.report.changed_ids.extend(counts[3])

    def _save_batch(self, rows: list[LetterRow]) -> tuple[int, int, int, list[int]]:
        self._resolve_entities({name for row in rows for name in (row.sender, row.recipient, row.holder)})
        existing = self._existing(rows)
        new, changed, events, changed_ids = [], [], [], []
        for row in rows:
            values = self._values(row)
            old = existing.get(row.key)
            if old is None:
                new.append(values)
            elif any(old[name] != values[name] for name in COMPARED):
                changed.append({"id": old["id"], **values})
                if any(old[name] != values[name] for name in TRACKED):
                    events.append(self._event(old["id"], values, old))
                    changed_ids.append(old["id"])
        if new:
            # RETURNING makes SQLAlchemy send many rows per INSERT statement (a plain
            # executemany costs a round trip per row on psycopg); rows come back in any
            # order, so they are matched by key.
            inserted = db.session.execute(
                insert(TRANSACTIONS).returning(TRANSACTIONS.c.id, *(TRANSACTIONS.c[k] for k in KEY)), new
            )
            ids = {_key_of(found._mapping): found.id for found in inserted}
            events.extend(self._event(ids[_key_of(values)], values, None) for values in new)
        if changed:
            db.session.execute(update(Transaction), changed)
        if events:
            db.session.execute(insert(EVENTS).returning(EVENTS.c.id), events).all()
        db.session.commit()
        return len(new), len(changed), len(rows) - len(new) - len(changed), changed_ids

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

    def _existing(self, rows: list[LetterRow]) -> dict[Key, dict]:
        """The stored letters of this batch, fetched with one query on the unique key."""
        columns = [getattr(Transaction, name) for name in COMPARED]
        result = db.session.execute(
            select(Transaction.id, *KEY_COLUMNS, *columns).where(_key_in([row.key for row in rows]))
        )
        return {_key_of(found._mapping): found._asdict() for found in result}

    def _values(self, row: LetterRow) -> dict:
        ids = self.entity_ids
        return {
            "number": row.number, "date": row.date, "direction": row.direction,
            "subject": row.subject, "sender_id": ids[row.sender],
            "recipient_id": ids[row.recipient], "holder_id": ids[row.holder],
            "status": row.status, "status_date": row.status_date, "citizen_phone": row.phone,
        }

    def _event(self, transaction_id: int, values: dict, old: dict | None) -> dict:
        return {
            "transaction_id": transaction_id, "status": values["status"],
            "holder_id": values["holder_id"], "status_date": values["status_date"],
            "previous_status": old["status"] if old else None,
            "previous_holder_id": old["holder_id"] if old else None,
            "source": self.source,
        }
