"""Time arithmetic inside SQL that reads the same on PostgreSQL and SQLite.

The KPI queries need the seconds between two timestamps and the local (Baghdad) hour
and day of a UTC timestamp, computed by the database so that a month of calls is
grouped there and not in Python. Each construct below compiles to one expression per
dialect; nothing else in the code base writes dialect-specific time SQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Float, Integer, String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from domain.clock import utcnow


class seconds_between(FunctionElement):
    """`later - earlier` in seconds (a float); NULL when either side is NULL."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between)
def _seconds_between_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    # julianday() is a float of days: rounding to the millisecond removes its binary noise,
    # so that a wait of exactly 30 s compares equal to 30.
    return f"round((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


class _LocalPart(FunctionElement):
    """A part of a UTC timestamp read on the centre's wall clock.

    Arguments: the timestamp column, the zone name (PostgreSQL converts with its own
    zone database, so a zone with summer time is right on every date) and the zone's
    offset as an SQLite date modifier. SQLite has no zone database: it shifts by the
    one offset the zone has in the queried period, which is exact for Asia/Baghdad
    (UTC+3 all year since 2008) and only used in development and tests.
    """

    inherit_cache = True


class local_hour(_LocalPart):
    type = Integer()
    name = "local_hour"
    inherit_cache = True


class local_day(_LocalPart):
    """The local calendar date: a date on PostgreSQL, 'YYYY-MM-DD' text on SQLite."""

    type = Date()
    name = "local_day"
    inherit_cache = True


def _parts(element, compiler, **kw):
    column, zone, modifier = (compiler.process(arg, **kw) for arg in element.clauses)
    return column, zone, modifier


@compiles(local_hour)
def _local_hour_postgresql(element, compiler, **kw):
    column, zone, _ = _parts(element, compiler, **kw)
    return f"CAST(EXTRACT(HOUR FROM timezone({zone}, {column})) AS INTEGER)"


@compiles(local_hour, "sqlite")
def _local_hour_sqlite(element, compiler, **kw):
    column, _, modifier = _parts(element, compiler, **kw)
    return f"CAST(strftime('%H', {column}, {modifier}) AS INTEGER)"


@compiles(local_day)
def _local_day_postgresql(element, compiler, **kw):
    column, zone, _ = _parts(element, compiler, **kw)
    return f"CAST(timezone({zone}, {column}) AS DATE)"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw):
    column, _, modifier = _parts(element, compiler, **kw)
    return f"date({column}, {modifier})"


def sqlite_modifier(tz_name: str, at: datetime | None = None) -> str:
    """The zone's UTC offset at `at` as an SQLite modifier, e.g. '+10800 seconds'."""
    at = at or utcnow()
    offset = at.astimezone(ZoneInfo(tz_name)).utcoffset() or timedelta(0)
    return f"{int(offset.total_seconds()):+d} seconds"


def local_clock(part: type[_LocalPart], column, tz_name: str, at: datetime | None = None):
    """`local_hour` or `local_day` of `column` in zone `tz_name` (its offset taken at `at`)."""
    return part(column, literal(tz_name, String()), literal(sqlite_modifier(tz_name, at), String()))
