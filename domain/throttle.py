"""Limits on guessing letters: per call, per caller number, per transaction number.

The counts live in the database (LookupAttempt rows), not in a process, so that every web
node sees the same numbers and a replayed webhook is counted once.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from domain.clock import start_of_local_day
from extensions import db
from models import LookupAttempt


class Throttle(str, enum.Enum):
    per_call = "per_call"
    per_caller = "per_caller"
    per_number = "per_number"


@dataclass(frozen=True)
class Limits:
    per_call: int
    per_caller_hour: int
    per_number_day: int
    timezone: str

    @classmethod
    def from_config(cls, config) -> "Limits":
        return cls(
            per_call=config["LIMIT_FAILED_LOOKUPS_PER_CALL"],
            per_caller_hour=config["LIMIT_FAILED_LOOKUPS_PER_CALLER_HOUR"],
            per_number_day=config["LIMIT_FAILED_LOOKUPS_PER_NUMBER_DAY"],
            timezone=config["TIMEZONE"],
        )


def _failed_since(*conditions, exclude_key: str | None) -> int:
    query = select(func.count()).select_from(LookupAttempt).where(
        LookupAttempt.found.is_(False), *conditions
    )
    if exclude_key:
        query = query.where(LookupAttempt.dedupe_key != exclude_key)
    return db.session.scalar(query) or 0


def caller_throttle(
    limits: Limits,
    *,
    caller_key: str,
    call_sid: str | None = None,
    exclude_key: str | None = None,
    now: datetime | None = None,
) -> Throttle | None:
    """Whether this caller may try a lookup at all (before the number is known)."""
    now = now or datetime.now(timezone.utc)
    if call_sid is not None and _failed_since(
        LookupAttempt.call_sid == call_sid, exclude_key=exclude_key
    ) >= limits.per_call:
        return Throttle.per_call
    if _failed_since(
        LookupAttempt.caller_key == caller_key,
        LookupAttempt.created_at >= now - timedelta(hours=1),
        exclude_key=exclude_key,
    ) >= limits.per_caller_hour:
        return Throttle.per_caller
    return None


def number_throttle(
    limits: Limits, *, number: str, exclude_key: str | None = None, now: datetime | None = None
) -> Throttle | None:
    """Whether a transaction number is locked to agents for the rest of the local day."""
    if _failed_since(
        LookupAttempt.number == number,
        LookupAttempt.created_at >= start_of_local_day(limits.timezone, now),
        exclude_key=exclude_key,
    ) >= limits.per_number_day:
        return Throttle.per_number
    return None


def record_attempt(
    *, dedupe_key: str, caller_key: str, number: str, found: bool,
    call_sid: str | None = None, channel: str = "ivr",
) -> bool:
    """Write one attempt; False when this key was already written (a replay)."""
    exists = db.session.scalar(
        select(LookupAttempt.id).where(LookupAttempt.dedupe_key == dedupe_key)
    )
    if exists:
        return False
    attempt = LookupAttempt(
        dedupe_key=dedupe_key, caller_key=caller_key, number=number, found=found,
        call_sid=call_sid, channel=channel,
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:  # a concurrent replay won the race
        return False
    return True
