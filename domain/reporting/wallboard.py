"""The supervisors' wallboard: the centre right now, one query function per number.

Waiting calls are those of the agents' queue exactly as `domain.calls.queue` defines them, so
the wallboard and the agents' queue page never disagree. The snapshot holds numbers
only (no caller, no letter): a wall screen is read by whoever walks past.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from domain.calls.queue import waiting_condition
from domain.clock import utcnow
from domain.staff.users import present
from extensions import db
from models import Call, Presence, User

# A call with no end after this long lost its status callback; it is not "in the IVR".
IVR_STALE_AFTER = timedelta(hours=2)


def calls_in_ivr(now: datetime | None = None) -> int:
    """Calls that started recently, have not ended and have not asked for an agent."""
    since = (now or utcnow()) - IVR_STALE_AFTER
    return (
        db.session.scalar(
            select(func.count(Call.id)).where(
                Call.started_at >= since,
                Call.ended_at.is_(None),
                Call.queued_at.is_(None),
                Call.callback_id.is_(None),  # a callback an agent placed is with the agent, not in the IVR
            )
        )
        or 0
    )


def calls_waiting() -> int:
    return db.session.scalar(select(func.count(Call.id)).where(*waiting_condition())) or 0


def longest_waiting_since() -> datetime | None:
    """When the call that has waited longest entered the queue (None: nobody waits)."""
    return db.session.scalar(select(func.min(Call.queued_at)).where(*waiting_condition()))


def agents_with(presence: Presence) -> int:
    """Agents in that state now: one whose consoles went quiet is Offline already (`present`)."""
    query = select(func.count(User.id)).where(User.active.is_(True), User.presence == presence, present())
    return db.session.scalar(query) or 0


def agents_available() -> int:
    return agents_with(Presence.available)


def agents_on_call() -> int:
    return agents_with(Presence.on_call)


def agents_in_wrap_up() -> int:
    return agents_with(Presence.wrap_up)


def agents_away() -> int:
    return agents_with(Presence.away)


def wallboard_snapshot(now: datetime | None = None) -> dict:
    """Every number of the wallboard, JSON-ready; `now` lets a browser tick the longest wait."""
    now = now or utcnow()
    since = longest_waiting_since()
    return {
        "now": now.isoformat(),
        "in_ivr": calls_in_ivr(now),
        "waiting": calls_waiting(),
        "longest_wait_s": max(0, int((now - since).total_seconds())) if since else 0,
        "longest_since": since.isoformat() if since else None,
        "agents": {
            "available": agents_available(),
            "on_call": agents_on_call(),
            "wrap_up": agents_in_wrap_up(),
            "away": agents_away(),
        },
    }
