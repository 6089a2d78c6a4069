"""The plumbing of every voice step: signature, one Turn, one transaction, one CallEvent, never a 500."""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import wraps

from flask import Response, current_app, g, request
from sqlalchemy.exc import DBAPIError
from twilio.twiml.voice_response import VoiceResponse

from domain.calls.offers import route_after_change
from domain.calls.queue import publish_queue
from domain.calls.record import close_queue_stay, get_call, get_or_create_call, record_event
from domain.clock import is_open, utcnow
from domain.languages import language_or_default
from domain.live import publish_agents_changed, publish_call_changed
from domain.phones import normalize_phone
from domain.prompts.studio import approved_clips
from domain.sms import dispatch_outbox
from extensions import again_if_connection_died, db
from ivr import twiml
from ivr.turn import Turn
from models import Outcome
from telephony.signature import twilio_signed
from voice_prompts import Voices, render

log = logging.getLogger(__name__)


def voices(refresh: bool = True) -> Voices:
    """The voice settings (read once per app) with the approved recorded clips, which come
    from the database and are read again every few seconds (`approved_clips`): a clip approved
    in the studio is played by every node without a restart.

    `refresh=False` where the database may be what failed: the clips this process last read.
    """
    cached = current_app.extensions.get("hotline.voices")
    if cached is None:
        cached = current_app.extensions["hotline.voices"] = Voices.from_config(current_app.config)
    clips = approved_clips(refresh)
    if cached.recorded is not clips:
        cached = current_app.extensions["hotline.voices"] = replace(cached, recorded=clips)
    return cached


def xml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def agents_open() -> bool:
    config = current_app.config
    return is_open(config["AGENT_HOURS"], config["TIMEZONE"], config["AGENT_CLOSED_DATES"])


def apology(lang: str) -> VoiceResponse:
    """What a caller hears when something broke: an apology, then an agent or goodbye.

    It touches no database, so it still works when the database is what broke.
    """
    segments = render("apology", lang, voices(refresh=False))
    if agents_open():
        segments += render("transfer", lang, voices(refresh=False))
        return twiml.enqueue(
            segments,
            queue=current_app.config["AGENT_QUEUE_NAME"],
            wait_url=f"/ivr/queue/wait?lang={lang}",
            action=f"/ivr/queue/left?lang={lang}",
        )
    return twiml.say_and_hang_up(segments + render("goodbye", lang, voices(refresh=False)))


def apology_and_goodbye(lang: str) -> VoiceResponse:
    """An apology and goodbye, then the line closes: for legs that cannot go to the queue."""
    said = voices(refresh=False)
    return twiml.say_and_hang_up(render("apology", lang, said) + render("goodbye", lang, said))


def lang_arg() -> str:
    return language_or_default(request.args.get("lang"))


def mark_queued(call) -> None:
    """The caller is in the agents' queue (again): the consoles are told after the commit."""
    if call.queued_at is None:
        call.queued_at = utcnow()
    g.queue_changed = True


def voice_step(step: str):
    """Wrap a voice webhook: signature checked, one Turn, one CallEvent, never a 500."""

    def decorate(view):
        @wraps(view)
        @twilio_signed
        def answer(**kwargs):
            turn = None
            try:
                # One transaction: safe to run again if the database restarted meanwhile.
                turn, response = again_if_connection_died(lambda: answer_step(step, view, kwargs))
                dispatch_outbox()  # SMS rows of this step, now committed, go to their queue
                announce_changes()
                return xml(response)
            except Exception as error:  # a caller must never hear silence or Twilio's error message
                log.exception("voice step %s failed for call %s", step, request.form.get("CallSid", "?"))
                db.session.rollback()
                if not isinstance(error, DBAPIError):  # else marking it would wait out another timeout
                    mark_error(request.form.get("CallSid", ""))
                return xml(apology(turn.lang if turn else lang_arg()))

        return answer

    return decorate


def answer_step(step: str, view, kwargs) -> tuple[Turn, VoiceResponse]:
    """Run one step in one transaction: the call row, the view, the step's event, commit.

    Changes to the call are flushed once, at the commit, not before every query.
    """
    turn = Turn(voices())
    with db.session.no_autoflush:
        call = get_or_create_call(
            turn.sid,
            caller=lambda: normalize_phone(request.form.get("From"), current_app.config["DEFAULT_PHONE_REGION"]),
            called=request.form.get("To", "")[:32],
        )
        response, result = view(turn, call, **kwargs)
        if call.ended_at is not None:  # Twilio's final status came first: end it as in order
            close_queue_stay(call)
        written = record_event(
            call,
            key=turn.request_key,
            step=step,
            digits=(turn.digits or None) and turn.digits[:32],
            result=result,
            spoken=turn.spoken,
        )
    if written:
        db.session.commit()
    else:  # a replayed webhook changes nothing; it is answered as the call stands now
        db.session.rollback()
    return turn, response


def mark_error(sid: str) -> None:
    try:
        call = get_call(sid) if sid else None
        if call is None:
            return
        if call.outcome is None:
            call.outcome = Outcome.error
        if agents_open() and call.queued_at is None:
            mark_queued(call)  # apology() puts the caller in the agents' queue
        db.session.commit()
        announce_changes()
    except Exception:
        db.session.rollback()


def announce_changes() -> None:
    """After the commit, tell the consoles what this webhook changed. Never raises."""
    try:
        if g.pop("queue_changed", False):
            publish_queue()
            route_after_change()  # a caller queued (or back in the queue): offered to an agent
        if g.pop("agents_changed", False):
            publish_agents_changed()
        if call_id := g.pop("call_changed", None):
            publish_call_changed(call_id)
    except Exception:  # a deaf console must not cost the caller their answer
        log.warning("console events not published after a voice step")
