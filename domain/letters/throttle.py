"""Limits on guessing letters and complaints: per call, per caller number or web address, per number or code.

The counts live in the database (LookupAttempt rows), not in a process, so that every web
node sees the same numbers and a replayed webhook is counted once. A web address is
counted as its IPv4 address, or as its IPv6 network (/64 by default): whoever has one
IPv6 address usually has the 2^64 around it too (`web_caller_key`).
"""

from __future__ import annotations

import enum
import ipaddress
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
    # The alarm over every caller and address (domain/letters/alarm.py); 0 failures: off.
    alarm_failures: int = 0
    alarm_window_s: int = 600

    @classmethod
    def from_config(cls, config) -> "Limits":
        return cls(
            per_call=config["LIMIT_FAILED_LOOKUPS_PER_CALL"],
            per_caller_hour=config["LIMIT_FAILED_LOOKUPS_PER_CALLER_HOUR"],
            per_number_day=config["LIMIT_FAILED_LOOKUPS_PER_NUMBER_DAY"],
            timezone=config["TIMEZONE"],
            alarm_failures=config["LOOKUP_ALARM_FAILURES"],
            alarm_window_s=config["LOOKUP_ALARM_WINDOW_S"],
        )


def web_caller_key(address: str | None, ipv6_prefix: int = 64) -> str:
    """The caller key an inquiry-page client is counted under, as "web:<address or network>".

    An IPv4 address is itself (also written as ::ffff:a.b.c.d). An IPv6 address stands for
    its network of `ipv6_prefix` bits: a home line or a rented server is given a whole /64,
    and each of its 2^64 addresses would otherwise have a limit of its own.
    """
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "web:unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"web:{ip.ipv4_mapped}"
        return f"web:{ipaddress.IPv6Network((int(ip), ipv6_prefix), strict=False)}"
    return f"web:{ip}"


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
