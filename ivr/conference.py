"""Twilio's requests about a call's conference (call control, domain/calls/conference.py):
what a held or waiting caller hears, the legs the app rang in, the conference's own events,
and the way back to the queue when the agent never answered.
"""

from __future__ import annotations

import logging

from flask import current_app, g, request, url_for
from sqlalchemy import select

from domain.calls.agent import agent_missed
from domain.calls.conference import (
    NOT_ANSWERED,
    TwilioFailed,
    consult_leg_status,
    supervisor_leg_status,
    transfer_answered,
    transfer_leg_status,
    twilio_request,
)
from domain.calls.record import record_event, request_key
from domain.db.ids import MAX_ID, row_id
from domain.languages import language_or_default
from extensions import db
from ivr import bp, twiml
from ivr.agent_leg import agent_turn, back_to_queue
from ivr.steps import announce_changes, voice_step, voices, xml
from ivr.turn import Turn, int_arg
from models import Call, CallLeg, User
from telephony.rest import public_url, twilio_client
from telephony.signature import twilio_signed
from voice_prompts import render

log = logging.getLogger(__name__)


@bp.post("/conference/hold")
@twilio_signed
def conference_hold():
    """A conference participant's holdUrl (or the caller's waitUrl while the agent rings): a line
    in the caller's language (not while waiting: "an agent is answering" was just said), then music.
    No database: it is fetched again and again while the caller holds."""
    lang = language_or_default(request.args.get("lang"))
    segments = [] if request.args.get("wait") else render("on_hold", lang, voices(refresh=False))
    return xml(twiml.hold_audio(segments, music_url=current_app.config["HOLD_MUSIC_URL"]))


def call_of_request() -> Call | None:
    call_id = row_id(request.args.get("call"))
    return db.session.get(Call, call_id) if call_id else None


def event_key(*parts: str) -> str:
    return request_key(*parts, request.form.get("Timestamp", ""), request.form.get("SequenceNumber", ""))


@bp.post("/conference/leg")
@twilio_signed
def conference_leg():
    """The status callback of a participant the app rang in: the agent, a consulted colleague
    or outside number, a transfer target or a supervisor listening in.

    The agent never answering sends the caller, who waits in the conference, back to the queue.
    """
    status = request.form.get("CallStatus", "")[:20]
    leg_sid = request.form.get("CallSid", "")[:64]
    try:
        call = call_of_request()
        if call is None:
            return "", 204
        # A colleague consulted (their id), or an outside number (`consult=number`).
        consulted = row_id(request.args.get("consult")) or request.args.get("consult") == "number"
        transferred = request.args.get("transfer") == "1"
        if row_id(request.args.get("supervise")):
            leg = db.session.scalar(select(CallLeg).where(CallLeg.call_sid == leg_sid, CallLeg.call_id == call.id))
            result = "leg_unknown" if leg is None else supervisor_leg_status(call, leg, status)
            g.call_changed = call.id  # the agent's call screen says whether a supervisor is heard
        elif consulted or (transferred and not request.args.get("agent")):
            leg = db.session.scalar(select(CallLeg).where(CallLeg.call_sid == leg_sid, CallLeg.call_id == call.id))
            if leg is None:
                result = "leg_unknown"
            else:
                result = (consult_leg_status if consulted else transfer_leg_status)(call, leg, status)
        else:
            result = agent_leg_status(call, leg_sid, status)
        written = record_event(call, key=event_key(leg_sid, status, "leg"), step="conference_leg", result=result[:40])
        if written:
            db.session.commit()
        else:
            db.session.rollback()
        g.agents_changed = True
        announce_changes()
    except Exception:  # Twilio retries nothing here: log it, answer empty
        log.exception("conference leg status failed for call %s", request.args.get("call", "?")[:20])
        db.session.rollback()
    return "", 204


def agent_leg_status(call: Call, leg_sid: str, status: str) -> str:
    if leg_sid != call.agent_leg_sid:  # an earlier agent's leg (a transfer): nothing to do
        return f"agent_{status}:old"
    if status == "in-progress" and request.args.get("transfer") == "1":
        return transfer_answered(call)  # a colleague the call was transferred to: the caller comes off hold
    if status not in NOT_ANSWERED or call.answered_at is None or call.ended_at is not None:
        return f"agent_{status}"
    agent = db.session.get(User, int_arg("agent", 0, 0, MAX_ID))
    if call.agent_id is None or (agent is not None and call.agent_id != agent.id):
        return f"agent_{status}:stale"
    url = public_url(url_for("ivr.agent_requeue", call=call.id))
    try:
        twilio_request("requeue", call, lambda: twilio_client().calls(call.sid).update(url=url, method="POST"))
    except TwilioFailed:
        return f"agent_{status}:stuck"
    queued = agent_missed(call, agent or call.agent)
    call.agent_leg_sid = None
    return f"agent_{status}:{'requeued' if queued else 'apology'}"


@bp.post("/agent/requeue")
@voice_step("agent_requeue")
def agent_requeue(turn: Turn, call):
    """The agent never answered: the caller, redirected out of the conference, waits again."""
    agent_turn(turn, call)
    if call.ended_at is not None:
        return twiml.say_and_hang_up([]), "stale"
    return back_to_queue(turn, call), "requeued" if call.callback_id is None else "apology"


@bp.post("/conference/events")
@twilio_signed
def conference_events():
    """<Conference statusCallback>: start, end, joins, leaves, holds. Keeps the conference sid
    (the REST API wants it) and puts the events on the call's timeline."""
    event = request.form.get("StatusCallbackEvent", "")[:30]
    try:
        call = call_of_request()
        if call is None:
            return "", 204
        sid = request.form.get("ConferenceSid", "")[:64]
        if sid and call.conference_sid is None:
            call.conference_sid = sid
        who = "caller" if request.form.get("CallSid") == call.sid else request.form.get("ParticipantLabel", "")
        record_event(
            call,
            key=event_key(sid, event, request.form.get("CallSid", "")),
            step="conference",
            result=f"{event}:{who}"[:40],
        )
        db.session.commit()
    except Exception:
        log.exception("conference event failed for call %s", request.args.get("call", "?")[:20])
        db.session.rollback()
    return "", 204
