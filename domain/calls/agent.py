"""An agent's part of a call: taking it from the queue, the connected leg, notes and wrap-up.

The console takes a call by claiming the row (one guarded UPDATE, so exactly one agent
wins) and then redirecting the live call with Twilio's REST API to the IVR's
agent-connect webhook, which dials the agent. Everything here is shared by the console
(`agent_console/`) and the voice webhooks (`ivr/`); neither imports the other.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime
from typing import Any

from flask import url_for
from sqlalchemy import select, update
from twilio.base.exceptions import TwilioRestException

from domain.audit import audit
from domain.calls.queue import accept_offer, offer_mode, publish_queue, waiting_condition
from domain.calls.record import record_event, request_key, set_outcome
from domain.clock import utcnow
from domain.db.once import rows_changed
from domain.phones import national_format
from domain.staff.presence import handle_seconds as handle_seconds  # the call screen's and call log's
from domain.staff.users import set_presence
from extensions import db
from models import Call, Outcome, Presence, User
from telephony.rest import public_url, twilio_client

log = logging.getLogger(__name__)

# Twilio's answers that mean the caller is no longer there to redirect:
# 21220 "Call is not in-progress. Cannot redirect.", 20404 the call is unknown.
CALL_GONE_CODES = {21220, 20404}
MAX_NOTES = 4000


class Redirect(str, enum.Enum):
    connected = "connected"  # Twilio accepted the redirect to the agent
    caller_gone = "caller_gone"  # the caller hung up meanwhile
    failed = "failed"  # Twilio could not be reached or refused for another reason


class Take(str, enum.Enum):
    """What came of an agent's click on "Take"."""

    taken = "taken"  # the call is on its way to this agent (also: a second click on it)
    not_queued = "not_queued"  # no such call in the queue
    busy = "busy"  # the agent has a call in hand that is not wrapped up
    other_agent = "other_agent"  # another agent was faster
    not_offered = "not_offered"  # routing by offer: this caller is not (or no longer) offered to this agent
    caller_left = "caller_left"  # the caller had hung up before the click
    caller_gone = "caller_gone"  # the caller hung up while Twilio was moving the call
    failed = "failed"  # Twilio did not answer: the call is back in the queue


# --- taking a call ------------------------------------------------------------------


def take_call(call_id: int, agent: User, *, address: str | None = None) -> Take:
    """An agent takes a waiting call: claim it (exactly one agent wins), then have Twilio move it.

    Two commits, not one, and on purpose: the claim is committed before the REST redirect,
    because Twilio then asks the IVR's agent-connect webhook (another request) who took
    the call, and no row lock is held while Twilio answers. What came of the redirect
    (the timeline step, the audit entry, or the claim undone) is the second.
    """
    call = db.session.get(Call, call_id)
    if call is None or call.queued_at is None:
        return Take.not_queued
    in_hand = call_in_hand(agent)
    if in_hand is not None and in_hand.id != call.id:
        return Take.busy
    # Routing by offer: only the agent offered the caller takes them, once (the offer row is
    # deleted in the claim's transaction; an offer that expired meanwhile is gone already).
    offered = not offer_mode() or accept_offer(call.id, agent.id)
    won = offered and claim(call.id, agent)
    db.session.commit()
    if not won:
        db.session.refresh(call)
        if call.agent_id == agent.id:  # a second click on the same button
            return Take.taken
        if call.agent_id is None and caller_left(call):
            return Take.caller_left
        return Take.other_agent if offered else Take.not_offered
    publish_queue()  # the other consoles drop the row now, not after Twilio answers
    db.session.refresh(call)
    result = redirect_to_agent(call)
    record_take(call, agent, result.value)
    if result is Redirect.connected:
        audit(agent, "take_call", target_type="call", target_id=call.id, address=address)
    else:
        release(call.id, agent.id, caller_gone=result is Redirect.caller_gone)
    db.session.commit()
    if result is Redirect.connected:
        return Take.taken
    publish_queue()  # back in the queue, or gone from it
    return Take.caller_gone if result is Redirect.caller_gone else Take.failed


def call_in_hand(agent: User) -> Call | None:
    """The call an agent took and has not wrapped up yet (at most one, see `claim`)."""
    return db.session.scalar(
        select(Call)
        .where(Call.agent_id == agent.id, Call.taken_at.is_not(None), Call.wrapped_up_at.is_(None))
        .order_by(Call.taken_at.desc())
        .limit(1)
    )


def claim(call_id: int, agent: User, now: datetime | None = None) -> bool:
    """Give a waiting call to this agent; True for exactly one of any number of agents.

    The condition is in the UPDATE itself: the database lets only the first writer
    match, whatever the isolation level, so two clicks at once cannot both win.
    """
    result = db.session.execute(
        update(Call)
        .where(Call.id == call_id, *waiting_condition())
        .values(agent_id=agent.id, taken_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


def caller_left(call: Call) -> bool:
    return call.ended_at is not None or call.queue_left_at is not None or call.queued_at is None


def redirect_to_agent(call: Call) -> Redirect:
    """Move the live call out of Twilio's queue to the webhook that dials the agent."""
    # A caller taken again (requeued, or transferred to the queue) asks a new URL (`s`), so
    # that the webhook is not taken for a replay of the first.
    again: dict[str, Any] = (
        {"s": len(call.events)} if any(event.step == "agent_connect" for event in call.events) else {}
    )
    url = public_url(url_for("ivr.agent_connect", call=call.id, **again))
    try:
        twilio_client().calls(call.sid).update(url=url, method="POST")
    except TwilioRestException as error:
        if error.code in CALL_GONE_CODES or error.status == 404:
            return Redirect.caller_gone
        log.warning("Twilio refused to redirect call %s: HTTP %s, code %s", call.sid, error.status, error.code)
        return Redirect.failed
    except Exception as error:  # network, timeout, TLS: the call is still waiting
        log.warning("Twilio unreachable while redirecting call %s: %s", call.sid, type(error).__name__)
        return Redirect.failed
    return Redirect.connected


def record_take(call: Call, agent: User, result: str) -> None:
    """A step in the call's timeline, so supervisors see who took it, when, and what came of it."""
    taken = call.taken_at.isoformat() if call.taken_at else ""
    record_event(
        call,
        key=request_key(call.sid, "take", str(agent.id), taken),
        step="agent_take",
        result=f"{result}:agent:{agent.id}"[:40],
    )


def release(call_id: int, agent_id: int, *, caller_gone: bool, now: datetime | None = None) -> None:
    """Undo a claim whose redirect did not happen.

    When the caller is gone the call also leaves the queue (Twilio's status callback
    will add the end time); otherwise it goes back to the queue for anyone to take.
    """
    values = {"agent_id": None, "taken_at": None}
    db.session.execute(
        update(Call)
        .where(Call.id == call_id, Call.agent_id == agent_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    call = db.session.get(Call, call_id)
    if call is None:
        return
    db.session.refresh(call)
    if caller_gone and call.queue_left_at is None:
        call.queue_left_at = now or utcnow()
        call.queue_result = "hangup"
        set_outcome(call, Outcome.abandoned_in_queue)


# --- the agent's leg, as the voice webhooks see it ----------------------------------


def ring_context(
    caller: str | None, region: str, *, call: Call | None = None, callback_id: int | None = None
) -> dict[str, str]:
    """What the agent's browser phone shows while it rings: who is calling, and about what.

    Sent as <Parameter>s of <Client>; the number in national format, as the console shows it.
    """
    context = {"caller": national_format(caller, region)}
    if call is not None:
        context.update(kind="queue", callId=str(call.id))
    if callback_id is not None:
        context.update(kind="callback", callbackId=str(callback_id))
    return {name: value for name, value in context.items() if value}


def connect(call: Call, agent: User, now: datetime | None = None) -> None:
    """The redirected call reached us and is about to dial the agent."""
    now = now or utcnow()
    if call.answered_at is None:
        call.answered_at = now
    if call.queued_at is not None and call.queue_left_at is None:  # <Enqueue action> may come later, or never
        call.queue_left_at = call.taken_at or now
        call.queue_result = "redirected"
    set_outcome(call, Outcome.agent_answered)
    set_presence(agent, Presence.on_call, now)


def agent_leg_ended(call: Call, agent: User | None, now: datetime | None = None) -> None:
    """The agent or the caller hung up: the agent goes to wrap-up."""
    now = now or utcnow()
    if call.agent_ended_at is None:
        call.agent_ended_at = now
    if call.held_at is not None:  # ended while the caller held: that hold counts to its end
        call.hold_s = (call.hold_s or 0) + max(0, int((now - call.held_at).total_seconds()))
        call.held_at = None
    if agent is not None and call.wrapped_up_at is None and agent.presence == Presence.on_call:
        set_presence(agent, Presence.wrap_up, now)


def requeue(call: Call, agent: User | None, now: datetime | None = None) -> None:
    """The agent did not answer: the caller goes back to the queue, the agent to 'away'.

    The agent is set away so that the same unanswered phone is not offered again at once.
    """
    now = now or utcnow()
    call.agent_id = None
    call.taken_at = None
    call.answered_at = None
    call.queue_left_at = None
    call.queue_result = None
    if call.outcome == Outcome.agent_answered:
        call.outcome = None
    if agent is not None and agent.presence in (Presence.on_call, Presence.available):
        set_presence(agent, Presence.away, now, reason="missed")


def agent_missed(call: Call, agent: User | None, now: datetime | None = None) -> bool:
    """The agent's phone did not answer, or could not be rung: True when the caller goes back
    to the queue. The citizen of a callback the agent placed is not queued (they did not call):
    their call ends with an apology, and the request stays with the agent to try again.
    """
    requeue(call, agent, now)
    if call.callback_id is None:
        return True
    call.outcome = Outcome.error
    return False


# --- after the call -------------------------------------------------------------------


def save_notes(call: Call, notes: str, disposition: str | None, dispositions: tuple[str, ...]) -> None:
    notes = (notes or "").strip()
    if len(notes) > MAX_NOTES:
        raise ValueError(f"notes longer than {MAX_NOTES} characters")
    if disposition and disposition not in dispositions:
        raise ValueError("unknown disposition")
    call.notes = notes or None
    call.disposition = disposition or None


def wrap_up(call: Call, now: datetime | None = None) -> bool:
    """Close the agent's work on the call, once; the agent is available again."""
    if call.wrapped_up_at is not None:
        return False
    now = now or utcnow()
    call.wrapped_up_at = now
    if call.agent_ended_at is None and call.ended_at is not None:
        call.agent_ended_at = call.ended_at
    agent = call.agent
    if agent is not None and agent.presence in (Presence.on_call, Presence.wrap_up):
        set_presence(agent, Presence.available, now)
    return True


def queue_seconds(call: Call, now: datetime | None = None) -> int | None:
    if call.queued_at is None:
        return None
    end = call.queue_left_at or call.taken_at or call.ended_at or now or utcnow()
    return max(0, int((end - call.queued_at).total_seconds()))
