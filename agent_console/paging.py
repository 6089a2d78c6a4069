"""Reading the keyset pager's links (?older=... / ?newer=...) on the supervisors' lists."""

from __future__ import annotations

from flask import request

from domain.db.keyset import Cursor, Direction

MAX_CURSOR = 64


def page_cursor() -> tuple[Cursor | None, Direction, bool]:
    """The cursor the pager sent, its direction, and False when it was not a cursor of ours."""
    for direction in (Direction.older, Direction.newer):
        text = request.args.get(direction.value)
        if text:
            try:
                return Cursor.decode(text[:MAX_CURSOR]), direction, True
            except ValueError:
                return None, Direction.older, False
    return None, Direction.older, True
