"""Limits on guessing letters and complaints: per call, per caller number, per number or code.

The counts live in the database (LookupAttempt rows), not in a process, so that every web
node sees the same numbers and a replayed webhook is counted once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select

from domain.clock import start_of_local_day, utcnow
from domain.db.once import insert_once, lock_keys
from extensions import db
from models import LookupAttempt, LookupKind


class Throttle(str, enum.Enum):
    per_call = "per_call"
    per_caller = "per_caller"
    per_number = "per_number"


@dataclass(frozen=True)
class Limits:
    """How many failed lookups are allowed; `per_call` None where there is no call (the web)."""

    per_call: int | None
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
        if limits.per_call is not None and self.this_call >= limits.per_call:
            return Throttle.per_call
        if self.this_caller_hour >= limits.per_caller_hour:
            return Throttle.per_caller
        if self.this_number_today >= limits.per_number_day:
            return Throttle.per_number
        return None

    def plus_one(self) -> "FailedLookups":
        """The counts once the lookup being made has failed too."""
        return FailedLookups(self.this_call + 1, self.this_caller_hour + 1, self.this_number_today + 1)


def _failed(*conditions):
    return (
        select(func.count())
        .select_from(LookupAttempt)
        .where(LookupAttempt.found.is_(False), LookupAttempt.dedupe_key != bindparam("exclude"), *conditions)
        .scalar_subquery()
    )


# One statement, built once, for the three counts (each from its own index).
_FAILED_LOOKUPS = select(
    _failed(LookupAttempt.call_sid == bindparam("call_sid")),
    _failed(LookupAttempt.caller_key == bindparam("caller_key"), LookupAttempt.created_at >= bindparam("hour_ago")),
    _failed(
        LookupAttempt.number == bindparam("number"),
        LookupAttempt.kind == bindparam("kind"),
        LookupAttempt.created_at >= bindparam("day_start"),
    ),
)


def failed_lookups(
    limits: Limits,
    *,
    caller_key: str,
    call_sid: str | None = None,
    number: str | None = None,
    kind: LookupKind = LookupKind.letter,
    exclude_key: str | None = None,
    now: datetime | None = None,
) -> FailedLookups:
    """This call's, this caller's (last hour) and this number's (local day) failed lookups.

    The call's and the caller's count every kind of lookup (letters and complaints alike);
    the number's counts `kind` only. `exclude_key` leaves out the attempt of the request
    being answered, so that a replayed webhook is judged as the original was. Without a
    call or a number, those counts are 0.
    """
    now = now or utcnow()
    counts = db.session.execute(
        _FAILED_LOOKUPS,
        {
            "call_sid": call_sid or "",
            "caller_key": caller_key,
            "number": number or "",
            "kind": kind.value,
            "hour_ago": now - timedelta(hours=1),
            "day_start": start_of_local_day(limits.timezone, now),
            "exclude": exclude_key or "",
        },
    ).one()
    return FailedLookups(*(count or 0 for count in counts))


def lock_lookups(*, caller_key: str, number: str) -> None:
    """Make the count-then-record of a lookup atomic for this caller and this number.

    Held until the commit, so that a burst of concurrent guesses is counted one after the
    other and a limit holds exactly, across every web node.
    """
    lock_keys(f"lookup-caller:{caller_key}", f"lookup-number:{number}", sqlite_table=LookupAttempt.__table__)


def caller_throttle(
    limits: Limits,
    *,
    caller_key: str,
    call_sid: str | None = None,
    exclude_key: str | None = None,
    now: datetime | None = None,
) -> Throttle | None:
    """Whether this caller may try a lookup at all (before the number is known)."""
    return failed_lookups(limits, caller_key=caller_key, call_sid=call_sid, exclude_key=exclude_key, now=now).throttle(
        limits
    )


def record_attempt(
    *,
    dedupe_key: str,
    caller_key: str,
    number: str,
    found: bool,
    call_sid: str | None = None,
    channel: str = "ivr",
    kind: LookupKind = LookupKind.letter,
) -> bool:
    """Write one attempt; False when this key was already written (a replay)."""
    return (
        insert_once(
            LookupAttempt,
            unique="dedupe_key",
            dedupe_key=dedupe_key,
            caller_key=caller_key,
            number=number,
            found=found,
            call_sid=call_sid,
            channel=channel,
            kind=kind.value,
        )
        is not None
    )
