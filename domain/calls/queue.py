"""The agents' queue as the consoles see it: who is waiting, and the live snapshot of it.

One query feeds the agents' queue page, its JSON fallback, the live stream and (later)
the supervisors' wallboard. The snapshot holds codes and numbers, not words: each
console shows them in its own language.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select

from domain import live
from domain.clock import utcnow
from domain.db.once import rows_changed
from domain.phones import national_format
from extensions import db
from models import Call, CallOffer

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


def offer_mode() -> bool:
    """ROUTING_MODE = offer: callers are offered to one agent at a time (domain.calls.offers)."""
    return current_app.config["ROUTING_MODE"] == "offer"


def accept_offer(call_id: int, agent_id: int, now: datetime | None = None) -> bool:
    """The agent accepts the caller offered to them: True when the offer was theirs and still
    open. The offer row is deleted (whoever deletes it, this or the offer's expiry, has it);
    the caller commits it with the claim."""
    result = db.session.execute(
        delete(CallOffer)
        .where(CallOffer.call_id == call_id, CallOffer.agent_id == agent_id, CallOffer.expires_at > (now or utcnow()))
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


def waiting_calls() -> list[Call]:
    """The waiting calls, longest waiting first."""
    return list(db.session.scalars(select(Call).where(*waiting_condition()).order_by(Call.queued_at, Call.id)))


def wait_seconds(call: Call, now: datetime) -> int:
    if call.queued_at is None:  # not in the queue (waiting calls always have it)
        return 0
    return max(0, int((now - call.queued_at).total_seconds()))


def call_row(call: Call, now: datetime, region: str, offered: bool = False) -> dict:
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
        "offered": offered,
    }


def snapshot(now: datetime | None = None) -> dict:
    """The queue as JSON-ready data; `now` lets a browser correct for its own clock."""
    now = now or utcnow()
    calls = waiting_calls()
    region = current_app.config["DEFAULT_PHONE_REGION"]
    offered = set(db.session.scalars(select(CallOffer.call_id))) if calls else set()
    return {
        "now": now.isoformat(),
        "waiting": len(calls),
        "longest_wait_s": wait_seconds(calls[0], now) if calls else 0,
        "calls": [call_row(call, now, region, call.id in offered) for call in calls],
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
