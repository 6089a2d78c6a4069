"""The agents' queue as the consoles see it: who is waiting, and the live snapshot of it.

One query feeds the agents' queue page, its JSON fallback, the live stream and (later)
the supervisors' wallboard. The snapshot holds codes and numbers, not words: each
console shows them in its own language.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from domain import live
from domain.clock import utcnow
from domain.phones import national_format
from extensions import db
from models import Call

log = logging.getLogger(__name__)
QUEUE_EVENT = "queue"


def waiting_condition():
    """In Twilio's queue and not yet taken: enqueued, not left, not ended, no agent."""
    return (
        Call.queued_at.is_not(None),
        Call.queue_left_at.is_(None),
        Call.ended_at.is_(None),
        Call.agent_id.is_(None),
    )


def waiting_calls() -> list[Call]:
    """The waiting calls, longest waiting first."""
    return list(db.session.scalars(select(Call).where(*waiting_condition()).order_by(Call.queued_at, Call.id)))


def wait_seconds(call: Call, now: datetime) -> int:
    if call.queued_at is None:  # not in the queue (waiting calls always have it)
        return 0
    return max(0, int((now - call.queued_at).total_seconds()))


def call_row(call: Call, now: datetime, region: str) -> dict:
    return {
        "id": call.id,
        "caller": national_format(call.caller, region),
        "withheld": call.caller is None,
        "language": call.language,
        "asked_number": call.asked_number,
        "asked_date": call.asked_date.isoformat() if call.asked_date else None,
        "found": call.found,
        "queued_at": call.queued_at.isoformat() if call.queued_at else None,
        "wait_s": wait_seconds(call, now),
    }


def snapshot(now: datetime | None = None) -> dict:
    """The queue as JSON-ready data; `now` lets a browser correct for its own clock."""
    now = now or utcnow()
    calls = waiting_calls()
    region = current_app.config["DEFAULT_PHONE_REGION"]
    return {
        "now": now.isoformat(),
        "waiting": len(calls),
        "longest_wait_s": wait_seconds(calls[0], now) if calls else 0,
        "calls": [call_row(call, now, region) for call in calls],
    }


def publish_queue() -> bool:
    """Tell every console the queue changed. Never raises: callers are webhooks and clicks.

    Call it after the change is committed, so that the snapshot (read in a new
    transaction) and every other node see it.
    """
    try:
        payload = snapshot()
    except Exception:
        log.warning("queue snapshot not published (database error)")
        db.session.rollback()
        return False
    return live.publish(QUEUE_EVENT, payload)
