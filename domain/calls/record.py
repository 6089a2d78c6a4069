"""The call record: created on the first webhook, then one CallEvent per step."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Callable

from sqlalchemy import bindparam, select

from domain.clock import utcnow
from domain.db.once import insert_once
from extensions import db
from models import Call, CallEvent, Outcome

# Outcomes that a later, weaker signal must not overwrite.
FINAL_OUTCOMES = {Outcome.agent_answered, Outcome.abandoned_in_queue, Outcome.callback_requested}


def request_key(*parts: str) -> str:
    """A short stable key for one webhook request, so that a replay is recognised."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


# Built once: every webhook reads its call by CallSid.
_CALL_BY_SID = select(Call).where(Call.sid == bindparam("sid"))


def get_call(sid: str) -> Call | None:
    return db.session.execute(_CALL_BY_SID, {"sid": sid}).scalar()


def get_or_create_call(sid: str, *, caller: Callable[[], str | None], called: str = "") -> Call:
    """The call of this CallSid; on its first webhook, a new row (`caller()` read then only)."""
    call = get_call(sid)
    if call is not None:
        return call
    # Another node may be taking the same first webhook: the database decides who writes.
    insert_once(Call, unique="sid", sid=sid, caller=caller(), called=called)
    created = get_call(sid)
    assert created is not None  # inserted just now, or by the request that won
    return created


def record_event(
    call: Call,
    *,
    key: str,
    step: str,
    digits: str | None = None,
    result: str = "",
    spoken: list[str] | None = None,
) -> bool:
    """Write a step once; False when this request was seen before (a replayed webhook)."""
    return (
        insert_once(
            CallEvent,
            unique="dedupe_key",
            call_id=call.id,
            dedupe_key=key,
            step=step,
            digits=digits,
            result=result,
            spoken=spoken or None,
        )
        is not None
    )


def set_outcome(call: Call, outcome: Outcome) -> None:
    if call.outcome in FINAL_OUTCOMES and outcome not in FINAL_OUTCOMES:
        return
    call.outcome = outcome


def finish_call(call: Call, *, status: str, duration: int | None, now: datetime | None = None) -> None:
    """Record Twilio's final status; a repeated or late callback changes nothing further."""
    now = now or utcnow()
    call.twilio_status = status
    if duration is not None:
        call.duration_s = duration
    if call.ended_at is None:
        call.ended_at = now
    if call.outcome is None:
        call.outcome = Outcome.error if status in {"failed"} else Outcome.hung_up_in_ivr
    close_queue_stay(call, now)


def waiting_unrecorded(sid: str, *, caller: Callable[[], str | None], called: str = "") -> Call | None:
    """A caller Twilio holds in the agents' queue whom the records do not show there.

    Only the apology puts a caller in the queue without a word to the database (it was
    the database that failed): the call is recorded as waiting (with an error outcome)
    when Twilio next fetches the queue's wait URL and the database answers again, so that
    the consoles show it and an agent can take it. None when nothing was missing.
    Leaves the commit to the caller.
    """
    call = get_or_create_call(sid, caller=caller, called=called)
    if call is None or call.queued_at is not None or call.ended_at is not None:
        return None
    call.queued_at = utcnow()
    if call.outcome is None:
        call.outcome = Outcome.error
    return call


def close_queue_stay(call: Call, now: datetime | None = None) -> None:
    """A caller who hung up while in the agents' queue left it then, abandoned.

    Also for a key pressed just before the hang-up whose webhook arrived after Twilio's
    final status callback: the call ends as it would have in order.
    """
    if call.queued_at is not None and call.queue_left_at is None:
        call.queue_left_at = now or utcnow()
        call.queue_result = call.queue_result or "hangup"
        if call.outcome not in FINAL_OUTCOMES:
            call.outcome = Outcome.abandoned_in_queue
