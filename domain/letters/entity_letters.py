"""An entity's own letters, for its officers: those it sent, received or holds, filtered.

Pages are keyset pages on (updated_at, id), newest change first, so the letters that moved
since the officer's last visit come first; the export reads the same query in batches.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterator

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from domain.clock import utcnow
from domain.db.keyset import Cursor, Direction, Page, keyset_page
from extensions import db
from models import Direction as LetterDirection, Status, Transaction, User


class Part(str, enum.Enum):
    """The entity's part in a letter."""

    sent = "sent"
    received = "received"
    holds = "holds"


PART_COLUMNS = {
    Part.sent: Transaction.sender_id,
    Part.received: Transaction.recipient_id,
    Part.holds: Transaction.holder_id,
}


@dataclass(frozen=True)
class LetterFilters:
    status: Status | None = None
    direction: LetterDirection | None = None
    part: Part | None = None
    start: date | None = None  # the letter's date, first day
    end: date | None = None  # last day, included

    def audit_detail(self) -> dict:
        values = {
            "status": self.status and self.status.value,
            "direction": self.direction and self.direction.value,
            "part": self.part and self.part.value,
            "start": self.start,
            "end": self.end,
        }
        return {name: str(value) for name, value in values.items() if value is not None}

    @property
    def any(self) -> bool:
        return bool(self.audit_detail())


def entity_letters(entity_id: int, filters: LetterFilters) -> Select:
    if filters.part is not None:
        query = select(Transaction).where(PART_COLUMNS[filters.part] == entity_id)
    else:
        query = select(Transaction).where(or_(*(column == entity_id for column in PART_COLUMNS.values())))
    if filters.status is not None:
        query = query.where(Transaction.status == filters.status)
    if filters.direction is not None:
        query = query.where(Transaction.direction == filters.direction)
    if filters.start is not None:
        query = query.where(Transaction.date >= filters.start)
    if filters.end is not None:
        query = query.where(Transaction.date <= filters.end)
    return query


def letters_page(
    entity_id: int,
    filters: LetterFilters,
    *,
    size: int = 50,
    cursor: Cursor | None = None,
    direction: Direction = Direction.older,
) -> Page:
    return keyset_page(
        entity_letters(entity_id, filters),
        Transaction.updated_at,
        Transaction.id,
        size=size,
        cursor=cursor,
        direction=direction,
        read=lambda query: db.session.scalars(query).unique(),
    )


def letter_rows(entity_id: int, filters: LetterFilters, batch: int = 1000) -> Iterator[Transaction]:
    """Every matching letter, a batch at a time (the entities by selectin: joined loads cannot
    stream)."""
    query = (
        entity_letters(entity_id, filters)
        .options(
            *(selectinload(relation) for relation in (Transaction.sender, Transaction.recipient, Transaction.holder))
        )
        .order_by(Transaction.updated_at.desc(), Transaction.id.desc())
    )
    yield from db.session.scalars(query.execution_options(yield_per=batch))


def is_entitys(letter: Transaction, entity_id: int | None) -> bool:
    return entity_id is not None and entity_id in (letter.sender_id, letter.recipient_id, letter.holder_id)


def part_of(letter: Transaction, entity_id: int) -> list[Part]:
    return [part for part, column in PART_COLUMNS.items() if getattr(letter, column.key) == entity_id]


def visit(user: User, now: datetime | None = None) -> datetime | None:
    """Record this visit; the time of the one before (None on the first). The caller commits."""
    before = user.letters_seen_at
    user.letters_seen_at = now or utcnow()
    return before
