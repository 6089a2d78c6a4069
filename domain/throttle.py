"""Limits on guessing letters: per call, per caller number, per transaction number.

The counts live in the database (LookupAttempt rows), not in a process, so that every web
node sees the same numbers and a replayed webhook is counted once.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, literal, select

from domain.clock import start_of_local_day
from domain.rows import insert_once, lock_keys
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


@dataclass(frozen=True)
class FailedLookups:
    """Failed lookups that count against a lookup about to be made, read in one query."""

    this_call: int
    this_caller_hour: int
    this_number_today: int = 0

    def throttle(self, limits: Limits) -> Throttle | None:
        if self.this_call >= limits.per_call:
            return Throttle.per_call
        if self.this_caller_hour >= limits.per_caller_hour:
            return Throttle.per_caller
        if self.this_number_today >= limits.per_number_day:
            return Throttle.per_number
        return None

    def plus_one(self) -> "FailedLookups":
        """The counts once the lookup being made has failed too."""
        return FailedLookups(self.this_call + 1, self.this_caller_hour + 1, self.this_number_today + 1)


def _failed(*conditions, exclude_key: str | None):
    query = select(func.count()).select_from(LookupAttempt).where(
        LookupAttempt.found.is_(False), *conditions
    )
    if exclude_key:
        query = query.where(LookupAttempt.dedupe_key != exclude_key)
    return query.scalar_subquery()


def failed_lookups(
    limits: Limits,
    *,
    caller_key: str,
    call_sid: str | None = None,
    number: str | None = None,
    exclude_key: str | None = None,
    now: datetime | None = None,
) -> FailedLookups:
    """This call's, this caller's (last hour) and this number's (local day) failed lookups.

    `exclude_key` leaves out the attempt of the request being answered, so that a replayed
    webhook is judged as the original was.
    """
    now = now or datetime.now(timezone.utc)
    zero = literal(0)
    counts = db.session.execute(select(
        _failed(LookupAttempt.call_sid == call_sid, exclude_key=exclude_key) if call_sid else zero,
        _failed(
            LookupAttempt.caller_key == caller_key,
            LookupAttempt.created_at >= now - timedelta(hours=1),
            exclude_key=exclude_key,
        ),
        _failed(
            LookupAttempt.number == number,
            LookupAttempt.created_at >= start_of_local_day(limits.timezone, now),
            exclude_key=exclude_key,
        ) if number else zero,
    )).one()
    return FailedLookups(*(count or 0 for count in counts))


def lock_lookups(*, caller_key: str, number: str) -> None:
    """Make the count-then-record of a lookup atomic for this caller and this number.

    Held until the commit, so that a burst of concurrent guesses is counted one after the
    other and a limit holds exactly, across every web node.
    """
    lock_keys(f"lookup-caller:{caller_key}", f"lookup-number:{number}")


def caller_throttle(
    limits: Limits,
    *,
    caller_key: str,
    call_sid: str | None = None,
    exclude_key: str | None = None,
    now: datetime | None = None,
) -> Throttle | None:
    """Whether this caller may try a lookup at all (before the number is known)."""
    return failed_lookups(
        limits, caller_key=caller_key, call_sid=call_sid, exclude_key=exclude_key, now=now
    ).throttle(limits)


def record_attempt(
    *, dedupe_key: str, caller_key: str, number: str, found: bool,
    call_sid: str | None = None, channel: str = "ivr",
) -> bool:
    """Write one attempt; False when this key was already written (a replay)."""
    return insert_once(
        LookupAttempt, unique="dedupe_key", dedupe_key=dedupe_key, caller_key=caller_key,
        number=number, found=found, call_sid=call_sid, channel=channel,
    ) is not None
