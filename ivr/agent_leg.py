"""The agent's side of a call: leaving the queue, ringing the agent who took it, the leg's end,
and the callbacks an agent places (Twilio REST calls.create from the console).

These webhooks come from Twilio's <Enqueue action>, a REST redirect or a <Dial action>,
not from a menu key; the steps among them go through the same voice_step as the rest.
"""

from __future__ import annotations

import logging

from flask import Response, current_app, g, request, url_for
from twilio.twiml.voice_response import VoiceResponse

from domain.calls.agent import agent_leg_ended, agent_missed, connect, ring_context
from domain.calls.callbacks import callback_call, placed_call_status
from domain.calls.conference import (
    CONFERENCE_EVENTS,
    TwilioFailed,
    add_agent,
    conference_name,
    conferences_enabled,
)
from domain.calls.record import get_call, record_event, request_key, set_outcome
from domain.calls.recordings import recording_enabled
from domain.calls.survey import survey_wanted
from domain.clock import utcnow
from domain.db.ids import MAX_ID, row_id
from domain.languages import language_or_default
from domain.staff.users import dialled_endpoint
from extensions import db
from ivr import bp, twiml
from ivr.conversation import offer_callback
from ivr.steps import announce_changes, apology_and_goodbye, mark_queued, voice_step, voices, xml
from ivr.turn import Turn, int_arg
from ivr.twilio_events import FINAL_CALL_STATUSES, call_ended
from models import CallbackRequest, CallbackStatus, Outcome, User
from telephony.signature import twilio_signed
from voice_prompts import render

log = logging.getLogger(__name__)
AGENT_RING_TIMEOUT_S = 20
CALLBACK_DIAL_TIMEOUT_S = 30
# <Dial> results after which the agent never spoke to the caller, who is still on the line.
AGENT_MISSED = {"no-answer", "busy", "failed"}


@bp.post("/queue/left")
@voice_step("queue_left")
def queue_left(turn: Turn, call):
    """Twilio's <Enqueue action>: the caller left the queue (bridged, hung up, or an error)."""
    outcome = request.form.get("QueueResult", "")[:20]
    if call.queue_left_at is None:
        call.queue_left_at = utcnow()
        call.queue_result = outcome
        g.queue_changed = True
    g.call_changed = call.id
    if outcome == "hangup":
        set_outcome(call, Outcome.abandoned_in_queue)
        return VoiceResponse(), outcome
    if outcome in {"bridged", "redirected-from-bridged"}:
        set_outcome(call, Outcome.agent_answered)
        turn.say("goodbye")
        return turn.hang_up(), outcome
    if outcome == "leave":  # the wait URL found no agent who will answer, and said so
        return offer_callback(turn, call, "no_agents")
    if outcome in {"redirected", "bridging-in-process"}:
        # An agent took the call (the console redirected it); the new TwiML is already running.
        return VoiceResponse(), outcome
    # queue-full, error, system-error: the caller is still on the line.
    turn.say("apology")
    if call.caller is None:
        turn.say("goodbye")
        return turn.hang_up(), outcome or "error"
    turn.say("callback_offer")
    return turn.ask("ivr.callback"), outcome or "error"


# --- an agent takes the call --------------------------------------------------------


def back_to_queue(turn: Turn, call) -> VoiceResponse:
    """The caller waits again, and shows again on the consoles' queue."""
    if call.callback_id is not None:  # a callback's citizen is not queued (`agent_missed`)
        turn.say("apology")
        turn.say("goodbye")
        return turn.hang_up()
    turn.say("transfer")
    mark_queued(call)
    call.queue_left_at = None
    call.queue_result = None
    return turn.enqueue(current_app.config["AGENT_QUEUE_NAME"])


def agent_turn(turn: Turn, call) -> None:
    """These webhooks come from a REST redirect or <Dial>, not from our own menu URLs:
    speak the caller's language, and number the next URLs after the steps so far."""
    turn.lang = call.language or turn.lang
    turn.seq = len(call.events)


@bp.post("/agent/connect")
@voice_step("agent_connect")
def agent_connect(turn: Turn, call):
    """The console redirected the call here after an agent took it: ring that agent."""
    agent_turn(turn, call)
    agent = call.agent
    if call.ended_at is not None or call.agent_ended_at is not None:
        # A late or repeated redirect: the caller has gone, or this agent's leg is over.
        return twiml.say_and_hang_up([]), "stale"
    if int_arg("call", 0, 0, MAX_ID) != call.id or agent is None:
        # The claim was undone meanwhile (the console thought Twilio failed): wait again.
        return back_to_queue(turn, call), "not_taken"
    connect(call, agent)
    g.agents_changed = True
    g.call_changed = call.id
    turn.say("agent_answering")  # "please hold" was said on entering the queue
    context = ring_context(call.caller, current_app.config["DEFAULT_PHONE_REGION"], call=call)
    if conferences_enabled():
        return meet_in_conference(turn, call, agent, context)
    response = twiml.dial_agent(
        turn.segments,
        kind=agent.endpoint_kind.value,
        endpoint=dialled_endpoint(agent),
        action=url_for("ivr.agent_done", call=call.id, agent=agent.id),
        timeout=AGENT_RING_TIMEOUT_S,
        context=context,
    )
    return response, f"dial:{agent.endpoint_kind.value}"


def meet_in_conference(turn: Turn, call, agent: User, context: dict[str, str]):
    """Call control: the agent is rung into the call's conference by REST, the caller joins it.

    Twilio refusing to ring the agent sends the caller back to the queue, as an unanswered
    agent does; the agent's leg status (`ivr.conference_leg`) handles the agent not answering.
    """
    try:
        add_agent(call, agent, context)
    except TwilioFailed as failure:
        agent_missed(call, agent)
        return back_to_queue(turn, call), f"conference_failed:{failure.reason}"[:40]
    if recording_enabled():
        turn.say("recording_notice")  # before the caller joins the agent's recorded leg
    return conference_twiml(turn, call, agent), f"conference:{agent.endpoint_kind.value}"


def conference_twiml(turn: Turn, call, agent: User) -> VoiceResponse:
    """The caller joins the call's conference; `agent_done` follows when they leave it."""
    return twiml.conference(
        turn.segments,
        name=conference_name(call),
        action=url_for("ivr.agent_done", call=call.id, agent=agent.id),
        wait_url=url_for("ivr.conference_hold", lang=turn.lang, wait=1),
        status_callback=url_for("ivr.conference_events", call=call.id),
        events=CONFERENCE_EVENTS,
    )


@bp.post("/agent/done")
@voice_step("agent_done")
def agent_done(turn: Turn, call):
    """<Dial action>: the agent's leg ended. Answered: goodbye. Not answered: back to the queue."""
    agent_turn(turn, call)
    dial_status = request.form.get("DialCallStatus", "")[:20]
    agent = db.session.get(User, int_arg("agent", 0, 0, MAX_ID))
    g.agents_changed = True
    g.call_changed = call.id
    caller_still_here = request.form.get("CallStatus") in {None, "in-progress"}
    if dial_status in AGENT_MISSED and agent is not None and caller_still_here:
        # The agent is named in the result: their call screen says what happened (MISSED_PREFIX).
        if call.agent_id == agent.id:
            agent_missed(call, agent)
            return back_to_queue(turn, call), f"missed:{dial_status}:agent:{agent.id}"
        if call.agent_id is None and call.ended_at is None:  # repeated: already back in the queue
            return back_to_queue(turn, call), f"missed:{dial_status}:agent:{agent.id}"
    if call.agent_id is not None and call.conference_sid is not None:
        agent_leg_ended(call, call.agent)  # the conference ended: whoever has the call now (a transfer)
    elif call.agent_id is not None and (agent is None or call.agent_id == agent.id):
        agent_leg_ended(call, agent)
    if survey_wanted(
        call, enabled=current_app.config["SURVEY_ENABLED"], dial_status=dial_status, caller_on_line=caller_still_here
    ):
        turn.say("survey_ask")  # the key pressed goes to ivr/survey.py
        return turn.ask("ivr.survey"), "survey"
    turn.say("goodbye")
    return turn.hang_up(), f"ended:{dial_status or 'unknown'}"


# --- callbacks placed by an agent (Twilio REST calls.create from the console) -------


def callback_arg() -> int | None:
    return row_id(request.args.get("callback"))


@bp.post("/callback/connect")
@twilio_signed
def callback_connect():
    """The citizen answered a callback: say who is calling, then ring the agent who placed it."""
    lang = language_or_default(None)
    try:
        callback_id = callback_arg()
        callback = db.session.get(CallbackRequest, callback_id) if callback_id else None
        if callback is not None:
            lang = language_or_default(callback.language)
        agent = callback.agent if callback is not None else None
        if callback is None or callback.status != CallbackStatus.in_progress or agent is None or not agent.active:
            return xml(apology_and_goodbye(lang))
        if conferences_enabled():
            return xml(callback_conference(callback, agent, lang))
        segments = render("welcome", lang, voices()) + render("transfer", lang, voices())
        return xml(
            twiml.dial_agent(
                segments,
                kind=agent.endpoint_kind.value,
                endpoint=dialled_endpoint(agent),
                action=url_for("ivr.callback_ended", callback=callback.id, lang=lang),
                timeout=CALLBACK_DIAL_TIMEOUT_S,
                context=ring_context(
                    callback.phone, current_app.config["DEFAULT_PHONE_REGION"], callback_id=callback.id
                ),
            )
        )
    except Exception:  # the citizen picked up: never silence, never Twilio's error message
        log.exception("callback connect failed for callback %s", request.args.get("callback", "?")[:20])
        db.session.rollback()
        return xml(apology_and_goodbye(lang))


def callback_conference(callback: CallbackRequest, agent: User, lang: str) -> VoiceResponse:
    """Call control on a callback: the citizen's call becomes a call of its own, which the agent
    joins in a conference as for a caller taken from the queue (hold, transfer, supervisors,
    recording, the survey after). Twilio fetching this again changes nothing further."""
    turn = Turn(voices())
    turn.lang = lang
    call = callback_call(callback, turn.sid, called=request.form.get("From", "")[:32])
    turn.seq = len(call.events)
    if call.agent_leg_sid is not None or call.agent_ended_at is not None:
        return twiml.say_and_hang_up([]) if call.agent_ended_at is not None else conference_twiml(turn, call, agent)
    connect(call, agent)
    db.session.commit()  # the new row is written before Twilio is asked, no lock held meanwhile
    turn.say("welcome")
    turn.say("transfer")
    context = ring_context(callback.phone, current_app.config["DEFAULT_PHONE_REGION"], callback_id=callback.id)
    response, result = meet_in_conference(turn, call, agent, context | {"callId": str(call.id)})
    key = request_key(turn.sid, "callback_connect")
    record_event(call, key=key, step="callback_connect", result=result, spoken=turn.spoken)
    db.session.commit()
    g.agents_changed = True
    g.call_changed = call.id
    announce_changes()
    return response


@bp.post("/callback/status")
@twilio_signed
def callback_status():
    """Twilio's status callbacks of a placed callback: ringing, answered, no answer... kept on
    the request for the agent's list. An error status when not stored, so Twilio retries."""
    sid, call_status = request.form.get("CallSid", "")[:64], request.form.get("CallStatus", "")[:20]
    try:
        changed = placed_call_status(callback_arg(), sid, call_status)
        call = get_call(sid)  # with call control, the citizen's answered call is a call of its own
        if call is not None and call.callback_id is not None and call_status in FINAL_CALL_STATUSES:
            call_ended(call, call_status)
        db.session.commit()
        announce_changes()
    except Exception:
        log.exception("callback status not stored for callback %s", request.args.get("callback", "?")[:20])
        db.session.rollback()
        return Response("not stored, try again", status=503, mimetype="text/plain")
    if changed:
        log.info("callback %s: placed call %s", request.args.get("callback", "?")[:20], request.form.get("CallStatus"))
    return xml(VoiceResponse())


@bp.post("/callback/ended")
@twilio_signed
def callback_ended():
    """<Dial action> of a callback: the agent's leg ended; a polite end either way. No database."""
    lang = language_or_default(request.args.get("lang"))
    segments = []
    if request.form.get("DialCallStatus") != "completed":  # the agent did not pick up
        segments += render("apology", lang, voices())
    return xml(twiml.say_and_hang_up(segments + render("goodbye", lang, voices())))
