"""The alarm over every caller and address: failed letter lookups jumped.

The per-caller, per-address and per-letter limits (throttle.py) stop one source guessing;
many sources guessing a little each pass under them. So after each failed lookup the
failures of the last LOOKUP_ALARM_WINDOW_S seconds, from every channel, are counted (from
the LookupAttempt rows, so every web node counts the same; the count stops at the
threshold, so it costs the same during an attack). At LOOKUP_ALARM_FAILURES the alarm is
raised, at most once a window: one warning in the log and one audit entry (action
"lookup_alarm", no user), which the console shows supervisors as a banner. Neither holds
a letter number, a caller's number or an address: counts only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, distinct, func, select

from domain.audit import audit
from domain.clock import utcnow
from domain.db.once import lock_keys
from extensions import db
from models import AuditEntry, LookupAttempt

log = logging.getLogger(__name__)

ALARM_ACTION = "lookup_alarm"
# Supervisors see the banner this long after the latest alarm (or a window, if longer).
SHOWN_FOR = timedelta(hours=1)

_failed_since = (LookupAttempt.found.is_(False), LookupAttempt.created_at >= bindparam("since"))

# How many lookups failed since `since`, counted no further than `cap`, and when the latest
# alarm since then was raised: one statement after each failed lookup.
_STATE = select(
    select(func.count())
    .select_from(select(LookupAttempt.id).where(*_failed_since).limit(bindparam("cap")).subquery())
    .scalar_subquery(),
    select(func.max(AuditEntry.created_at))
    .where(AuditEntry.action == ALARM_ACTION, AuditEntry.created_at >= bindparam("since"))
    .scalar_subquery(),
)

# What the alarm says, once a window: every failure by channel, and from how many sources.
_SUMMARY = (
    select(LookupAttempt.channel, func.count(), func.count(distinct(LookupAttempt.caller_key)))
    .where(*_failed_since)
    .group_by(LookupAttempt.channel)
)


@dataclass(frozen=True)
class Alarm:
    """A raised alarm, as the supervisors' banner shows it."""

    at: datetime
    failed: int
    window_s: int
    sources: int


def check_failures(failures: int, window_s: int, now: datetime | None = None) -> Alarm | None:
    """After a failed lookup: raise the alarm if failures reached `failures` in the window.

    Written in the caller's transaction (a voice step commits its own). Only when the
    threshold is reached and no alarm was raised within the window is a lock taken, so
    that two web nodes crossing it together raise one alarm between them.
    """
    if failures <= 0:
        return None
    now = now or utcnow()
    since = now - timedelta(seconds=window_s)
    state = {"since": since, "cap": failures}
    counted, raised = db.session.execute(_STATE, state).one()
    if (counted or 0) < failures or raised is not None:
        return None
    lock_keys("lookup-alarm", sqlite_table=AuditEntry.__table__)
    counted, raised = db.session.execute(_STATE, state).one()
    if (counted or 0) < failures or raised is not None:
        return None  # another request raised it while this one waited for the lock
    by_channel = {channel: (failed, sources) for channel, failed, sources in db.session.execute(_SUMMARY, state)}
    failed = sum(count for count, _ in by_channel.values())
    sources = sum(count for _, count in by_channel.values())
    detail = {"failed": failed, "window_s": window_s, "threshold": failures, "sources": sources}
    detail.update({f"failed_{channel}": count for channel, (count, _) in sorted(by_channel.items())})
    audit(None, ALARM_ACTION, detail=detail).created_at = now
    log.warning(
        "Failed letter lookups jumped: %d in the last %d s (threshold %d) from %d callers and addresses; %s",
        failed,
        window_s,
        failures,
        sources,
        ", ".join(f"{channel} {count}" for channel, (count, _) in sorted(by_channel.items())),
    )
    return Alarm(at=now, failed=failed, window_s=window_s, sources=sources)


def latest_alarm(window_s: int, now: datetime | None = None) -> Alarm | None:
    """The alarm supervisors are still to be shown: raised within SHOWN_FOR (or a window)."""
    since = (now or utcnow()) - max(SHOWN_FOR, timedelta(seconds=window_s))
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == ALARM_ACTION, AuditEntry.created_at >= since)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(1)
    )
    if entry is None:
        return None
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    return Alarm(
        at=entry.created_at,
        failed=int(detail.get("failed", 0)),
        window_s=int(detail.get("window_s", window_s)),
        sources=int(detail.get("sources", 0)),
    )
