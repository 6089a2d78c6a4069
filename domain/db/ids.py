"""Row ids: the range every id column holds on both databases (PostgreSQL's `integer`).

A number past it, in a URL or a form, names no row; asked of PostgreSQL it would be an
error ("integer out of range"), so it is turned away before any query.
"""

from __future__ import annotations

MAX_ID = 2**31 - 1


def row_id(text: str | None) -> int | None:
    """The id written in `text` (ASCII digits only), or None when it cannot name a row."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
