"""Writing a row exactly once, in one round trip, on PostgreSQL and SQLite alike.

Every Twilio webhook writes rows keyed by something unique to the request (a CallSid, a
dedupe key), and Twilio may deliver the same request twice, to two web nodes at once.
`INSERT … ON CONFLICT DO NOTHING RETURNING id` settles that in the database: one statement
instead of a SELECT, a SAVEPOINT, the INSERT and a RELEASE.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, Result, false, text
from sqlalchemy.dialects import postgresql, sqlite

from extensions import db


def _dialect_insert(dialect: str, table) -> postgresql.Insert | sqlite.Insert:
    """The dialect's own INSERT, the one with ON CONFLICT."""
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def dialect_name() -> str:
    return db.session.get_bind().dialect.name


def insert_once(model, *, unique: str, **values) -> int | None:
    """Insert a row unless one with the same `unique` column value exists.

    Returns the new row's id, or None when the row was already there (a replay, or a
    concurrent request that won). Column defaults apply as for an ORM insert; the session
    does not track the row.
    """
    statement = _insert_statement(dialect_name(), model.__table__, unique)
    return db.session.execute(statement, values).scalar()


@lru_cache(maxsize=64)
def _insert_statement(dialect: str, table, unique: str):
    """Built once per shape, so a webhook pays for no statement construction or cache key."""
    return _dialect_insert(dialect, table).on_conflict_do_nothing(index_elements=[unique]).returning(table.c.id)


def lock_keys(*keys: str, sqlite_table) -> None:
    """Hold transaction-scoped locks on these names until the commit or rollback.

    On PostgreSQL: advisory locks, taken in a fixed order so that two requests never wait
    on each other in a circle. SQLite has no named locks but one writer at a time: a write
    to `sqlite_table` that changes nothing takes the database's write lock now (other
    writers wait for the commit, up to the busy timeout), so what is read next is current.
    """
    if not keys:
        return
    if dialect_name() == "sqlite":
        db.session.execute(sqlite_table.update().where(false()).values(id=sqlite_table.c.id))
        return
    ids = sorted({_lock_id(key) for key in keys})
    params = {f"k{index}": value for index, value in enumerate(ids)}
    calls = ", ".join(f"pg_advisory_xact_lock(:k{index})" for index in range(len(ids)))
    db.session.execute(text(f"SELECT {calls}"), params)


def _lock_id(key: str) -> int:
    """A signed 64-bit lock id for a name."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run through the session changed (the session types
    every result alike; a DML statement's is a CursorResult)."""
    return cast(CursorResult[Any], result).rowcount
