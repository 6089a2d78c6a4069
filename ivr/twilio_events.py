"""Twilio's own requests, outside the conversation: hold while queued, the call's status,
the fallback URL, and the recorded prompts that <Play> fetches.
"""

from __future__ import annotations

import logging

from flask import Response, current_app, g, request
from twilio.twiml.voice_response import VoiceResponse

from domain.calls.agent import agent_leg_ended
from domain.calls.record import finish_call, get_call, record_event, request_key, waiting_unrecorded
from domain.languages import language_or_default
from domain.phones import normalize_phone
from domain.prompts.studio import approved_take
from domain.staff.users import someone_answering
from extensions import db
from ivr import bp, twiml
from ivr.steps import announce_changes, voices, xml
from models import Call
from telephony.signature import twilio_signed
from voice_prompts import Count, render

log = logging.getLogger(__name__)
FINAL_CALL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


@bp.post("/queue/wait")
@twilio_signed
def queue_wait():
    """Twilio's <Enqueue waitUrl>, fetched again each time its TwiML ends: the place in the
    queue, then hold audio.

    Each fetch also looks at the records, the caller never hearing the difference: when no
    agent will answer any more (the last one left), the caller is told and leaves the queue
    for the callback offer (`ivr.agent_leg.queue_left`); a caller queued by the apology
    while the database failed is recorded as waiting once it answers again.
    """
    lang = language_or_default(request.args.get("lang"))
    try:
        if not someone_answering():
            db.session.rollback()
            return xml(twiml.leave_queue(render("no_agents", lang, voices())))
        call = waiting_unrecorded(
            request.form.get("CallSid", "")[:64],
            caller=lambda: normalize_phone(request.form.get("From"), current_app.config["DEFAULT_PHONE_REGION"]),
            called=request.form.get("To", "")[:32],
        )
        if call is not None:
            db.session.commit()
            g.queue_changed = True
            announce_changes()
        else:
            db.session.rollback()
    except Exception:  # the database is still away: the caller holds on, and it is tried next time
        log.warning("queue wait: the records could not be read or written")
        db.session.rollback()
    return xml(hold(lang))


def hold(lang: str) -> VoiceResponse:
    try:
        position = int(request.form.get("QueuePosition", "0"))
    except ValueError:
        position = 0
    if position > 1:
        segments = render("queue_position", lang, voices(), position=Count(position))
    else:
        segments = render("queue_next", lang, voices())
    return twiml.hold(segments, music_url=current_app.config["HOLD_MUSIC_URL"])


@bp.post("/status")
@twilio_signed
def status():
    """Twilio's status callback: the final status and duration, recorded once."""
    sid = request.form.get("CallSid", "")[:64]
    call_status = request.form.get("CallStatus", "")[:20]
    try:
        call = get_call(sid)
        if call is not None and call_status in FINAL_CALL_STATUSES:
            call_ended(call, call_status)
            db.session.commit()
            announce_changes()
        elif call is not None and call.ended_at is None:
            call.twilio_status = call_status
            db.session.commit()
    except Exception:  # not stored: an error status, so that Twilio sends it again
        log.exception("status callback failed for call %s", sid)
        db.session.rollback()
        return Response("not stored, try again", status=503, mimetype="text/plain")
    return xml(VoiceResponse())


def call_ended(call: Call, call_status: str) -> None:
    """Twilio's final status of a call (its own status callback, or a placed callback's): the
    end and duration, the agent's part over, a step on the timeline. Leaves the commit."""
    try:
        duration: int | None = int(request.form.get("CallDuration", ""))
    except ValueError:
        duration = None
    g.queue_changed = (
        call.queued_at is not None and call.queue_left_at is None and call.agent_id is None
    )  # it was on the consoles' queue
    finish_call(call, status=call_status, duration=duration)
    if call.answered_at is not None and call.agent_ended_at is None:
        agent_leg_ended(call, call.agent)  # Twilio may not post the <Dial action>
        g.agents_changed = True
    record_event(call, key=request_key(call.sid, "status", call_status), step="status", result=call_status)
    g.call_changed = call.id  # an open call screen shows the hang-up at once


@bp.post("/fallback")
@twilio_signed
def fallback():
    """Twilio's fallback URL: static TwiML that touches nothing."""
    segments = []
    for lang in ("ar", "en"):
        segments += render("apology", lang, voices(refresh=False)) + render("goodbye", lang, voices(refresh=False))
    return xml(twiml.say_and_hang_up(segments))


@bp.get("/audio/<language>/<filename>")
def audio(language: str, filename: str):
    """Approved recorded prompts, at the public URL that <Play> points to, from the database.

    The URL names the clip and its version (`?v=` the take's id): a versioned URL never
    changes its audio, so Twilio and proxies may keep it a year; a clip approved again gets a
    new URL. Without a (known) version, the clip's live take, kept a minute.
    """
    take = approved_take(language, filename, request.args.get("v", ""))
    if take is None:
        return Response(status=404)
    response = Response(take.audio, mimetype=take.mimetype)
    response.set_etag(take.sha256)
    if str(take.id) == request.args.get("v"):
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "public, max-age=60"
    return response.make_conditional(request)
