"""Local time in Baghdad and the opening hours of the centre."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from config import Hours


def utcnow() -> datetime:
    """Now, as an aware UTC datetime: the one clock every timestamp the app writes comes from."""
    return datetime.now(timezone.utc)


def local_now(tz_name: str, now: datetime | None = None) -> datetime:
    now = now or utcnow()
    return now.astimezone(ZoneInfo(tz_name))


def local_today(tz_name: str, now: datetime | None = None) -> date:
    return local_now(tz_name, now).date()


def start_of_local_day(tz_name: str, now: datetime | None = None) -> datetime:
    """The UTC instant at which today began in the centre's time zone."""
    local = local_now(tz_name, now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(timezone.utc)


def is_open(hours: Hours, tz_name: str, closed_dates=frozenset(), now: datetime | None = None) -> bool:
    local = local_now(tz_name, now)
    if local.date().isoformat() in closed_dates:
        return False
    return hours.contains(local.time())
