"""Keyset pages over (a time column, id), newest first, for the supervisors' long lists.

A page is "the N rows before (or after) this row", found through an index on the time
column: a deep page costs what the first one does, and rows added meanwhile do not
shift the pages a reader is walking.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Select, and_, or_

from domain.db.ids import MAX_ID
from extensions import db


class Direction(str, enum.Enum):
    older = "older"
    newer = "newer"


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the time and id of its last (or first) row."""

    at: datetime
    id: int

    def encode(self) -> str:
        micros = int(self.at.timestamp()) * 1_000_000 + self.at.microsecond
        return f"{micros}-{self.id}"

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        """ValueError for anything that is not a cursor this module wrote."""
        text = text or ""
        micros_text, _, id_text = text.partition("-")
        if len(text) > 40 or not (
            micros_text.isascii() and micros_text.isdigit() and id_text.isascii() and id_text.isdigit()
        ):
            raise ValueError("not a page cursor")
        micros, row_id = int(micros_text), int(id_text)
        if row_id > MAX_ID:
            raise ValueError("not a page cursor")
        seconds, rest = divmod(micros, 1_000_000)
        try:
            at = datetime.fromtimestamp(seconds, timezone.utc).replace(microsecond=rest)
        except (OverflowError, OSError, ValueError) as error:
            raise ValueError("not a page cursor") from error
        return cls(at, row_id)


@dataclass
class Page:
    rows: list
    older: Cursor | None  # the cursor of the next (older) page, None on the last
    newer: Cursor | None  # the cursor of the previous (newer) page, None on the first


def older_than(cursor: Cursor, at_column, id_column):
    # The redundant `<=` gives the planner an index range on the time; the OR breaks ties.
    return and_(at_column <= cursor.at, or_(at_column < cursor.at, id_column < cursor.id))


def newer_than(cursor: Cursor, at_column, id_column):
    return and_(at_column >= cursor.at, or_(at_column > cursor.at, id_column > cursor.id))


def keyset_page(
    query: Select,
    at_column,
    id_column,
    *,
    size: int,
    cursor: Cursor | None = None,
    direction: Direction = Direction.older,
    at_name: str | None = None,
    id_name: str = "id",
    read=None,
) -> Page:
    """One page of `query`'s rows, newest first: the `size` rows past `cursor` in `direction`.

    The rows must carry the time and the id under `at_name` and `id_name`. `read` executes
    the query (default: the session's primary database).
    """
    read = read or db.session.execute
    at_name = at_name or at_column.key

    def cursor_of(row) -> Cursor:
        return Cursor(getattr(row, at_name), getattr(row, id_name))

    if cursor is not None and direction is Direction.newer:
        rows = list(
            read(query.where(newer_than(cursor, at_column, id_column)).order_by(at_column, id_column).limit(size + 1))
        )
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        return Page(
            rows, older=cursor_of(rows[-1]) if rows else None, newer=cursor_of(rows[0]) if rows and more_newer else None
        )
    if cursor is not None:
        query = query.where(older_than(cursor, at_column, id_column))
    rows = list(read(query.order_by(at_column.desc(), id_column.desc()).limit(size + 1)))
    more_older = len(rows) > size
    rows = rows[:size]
    return Page(
        rows,
        older=cursor_of(rows[-1]) if rows and more_older else None,
        newer=cursor_of(rows[0]) if rows and cursor is not None else None,
    )
