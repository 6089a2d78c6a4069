"""The voice webhooks of 5599: each reads one Twilio request and answers with TwiML."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from functools import wraps

from flask import Response, current_app, g, request, send_from_directory, url_for
from twilio.twiml.voice_response import VoiceResponse

from domain.calls.agent import agent_leg_ended, connect, requeue, ring_context
from domain.calls.record import (close_queue_stay, finish_call, get_call, get_or_create_call, record_event, request_key,
                          set_outcome)
from domain.calls.callbacks import request_callback
from domain.clock import is_open, local_today
from domain.live import publish_agents_changed
from domain.letters.lookup import check_date, check_number, find_transactions
from domain.phones import caller_key, is_mobile, normalize_phone
from domain.sms import dispatch_outbox, send_status_sms, subscribe
from domain.calls.queue import publish_queue
from domain.calls.survey import survey_wanted
from domain.letters.throttle import Limits, Throttle, caller_throttle, failed_lookups, lock_lookups, record_attempt
from domain.staff.users import dialled_endpoint
from extensions import again_if_connection_died, database_unreachable, db
from ivr import bp, twiml
from ivr.speech import speak_status
from ivr.turn import Turn, date_arg, int_arg
from models import CallbackRequest, CallbackStatus, Direction, Outcome, SmsKind, Transaction, User
from telephony.signature import twilio_signed
from voice_prompts import LANGUAGES, Count, Digits, Hour, SpokenDate, Voices, render

log = logging.getLogger(__name__)
FINAL_CALL_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
LANGUAGE_KEYS = {"1": "ar", "2": "ckb", "3": "en"}
AGENT_RING_TIMEOUT_S = 20
# <Dial> results after which the agent never spoke to the caller, who is still on the line.
AGENT_MISSED = {"no-answer", "busy", "failed"}


def voices() -> Voices:
    """The voice settings and the list of recorded clips, read once per app."""
    cached = current_app.extensions.get("hotline.voices")
    if cached is None:
        cached = current_app.extensions["hotline.voices"] = Voices.from_config(current_app.config)
    return cached


def xml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def apology(lang: str) -> VoiceResponse:
    """What a caller hears when something broke: an apology, then an agent or goodbye.

    It touches no database, so it still works when the database is what broke.
    """
    config = current_app.config
    segments = render("apology", lang, voices())
    if is_open(config["AGENT_HOURS"], config["TIMEZONE"], config["AGENT_CLOSED_DATES"]):
        segments += render("transfer", lang, voices())
        return twiml.enqueue(
            segments, queue=config["AGENT_QUEUE_NAME"],
            wait_url=f"/ivr/queue/wait?lang={lang}", action=f"/ivr/queue/left?lang={lang}",
        )
    return twiml.say_and_hang_up(segments + render("goodbye", lang, voices()))


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
                if not database_unreachable(error):  # else marking it would wait out another timeout
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
            call, key=turn.request_key,
            step=step, digits=(turn.digits or None) and turn.digits[:32], result=result,
            spoken=turn.spoken,
        )
    if written:
        db.session.commit()
    else:  # a replayed webhook changes nothing; it is answered as the call stands now
        db.session.rollback()
    return turn, response


def lang_arg() -> str:
    lang = request.args.get("lang", "")
    return lang if lang in LANGUAGES else "ar"


def mark_error(sid: str) -> None:
    try:
        call = get_call(sid) if sid else None
        if call is None:
            return
        if call.outcome is None:
            call.outcome = Outcome.error
        if agents_open() and call.queued_at is None:
            # apology() puts the caller in the agents' queue: the consoles must show them.
            call.queued_at = datetime.now(timezone.utc)
            g.queue_changed = True
        db.session.commit()
        announce_changes()
    except Exception:
        db.session.rollback()


def announce_changes() -> None:
    """After the commit, tell the consoles what this webhook changed. Never raises."""
    try:
        if g.pop("queue_changed", False):
            publish_queue()
        if g.pop("agents_changed", False):
            publish_agents_changed()
    except Exception:  # a deaf console must not cost the caller their answer
        log.warning("console events not published after a voice step")


def agents_open() -> bool:
    config = current_app.config
    return is_open(config["AGENT_HOURS"], config["TIMEZONE"], config["AGENT_CLOSED_DATES"])


def limits() -> Limits:
    return Limits.from_config(current_app.config)


# --- hand-off ----------------------------------------------------------------------

def hand_off(turn: Turn, call) -> tuple[VoiceResponse, str]:
    """To the agents' queue within agent hours; otherwise the hours and a callback offer."""
    if agents_open():
        turn.say("transfer")
        if call.queued_at is None:
            call.queued_at = datetime.now(timezone.utc)
        g.queue_changed = True
        return turn.enqueue(current_app.config["AGENT_QUEUE_NAME"]), "queued"
    hours = current_app.config["AGENT_HOURS"]
    turn.say("after_hours", start=Hour(hours.start_text), end=Hour(hours.end_text))
    if call.caller is None:
        set_outcome(call, Outcome.after_hours)
        turn.say("callback_no_number").say("goodbye")
        return turn.hang_up(), "after_hours"
    turn.say("callback_offer")
    return turn.ask("ivr.callback"), "after_hours"


def retry_or_hand_off(turn: Turn, call, reason_key: str, endpoint: str, again_key: str,
                      num_digits: int | None = 1, finish_on_key: str | None = None, **params):
    """Say why the entry failed and ask again; after the last try, offer an agent."""
    turn.say(reason_key)
    if turn.out_of_tries:
        turn.say("too_many_tries")
        set_outcome(call, Outcome.failed_input)
        response, _ = hand_off(turn, call)
        return response, "out_of_tries"
    turn.say(again_key, **params.pop("say_values", {}))
    return turn.ask(endpoint, num_digits=num_digits, finish_on_key=finish_on_key,
                    t=turn.tries + 1, **params), "retry"


def choice_retry(turn: Turn, call, endpoint: str, again_key: str, **params):
    reason = "no_input" if not turn.digits else "invalid_choice"
    return retry_or_hand_off(turn, call, reason, endpoint, again_key, **params)


def ask_number(turn: Turn, call) -> tuple[VoiceResponse, str]:
    throttled = caller_throttle(limits(), caller_key=caller_key(call.caller), call_sid=call.sid)
    if throttled is not None:
        return throttle_answer(turn, call, throttled)
    turn.say("ask_number")
    return turn.ask("ivr.number", num_digits=None, finish_on_key="#"), "ask_number"


def throttle_answer(turn: Turn, call, throttled: Throttle) -> tuple[VoiceResponse, str]:
    set_outcome(call, Outcome.throttled)
    turn.say("throttled_number" if throttled is Throttle.per_number else "throttled_caller")
    response, _ = hand_off(turn, call)
    return response, f"throttled:{throttled.value}"


# --- the call ----------------------------------------------------------------------

@bp.post("/voice")
@voice_step("incoming")
def incoming(turn: Turn, call):
    turn.say("welcome", "ar")
    for language in ("ar", "ckb", "en"):
        turn.say(f"language_option.{language}", language)
    return turn.ask("ivr.language"), "greeted"


@bp.post("/language")
@voice_step("language")
def language(turn: Turn, call):
    chosen = LANGUAGE_KEYS.get(turn.digits or "")
    if chosen is None and turn.digits and not turn.out_of_tries:
        turn.say("invalid_choice")
        for lang in ("ar", "ckb", "en"):
            turn.say(f"language_option.{lang}", lang)
        return turn.ask("ivr.language", t=turn.tries + 1), "invalid"
    turn.lang = chosen or "ar"  # no key within the timeout: Arabic
    call.language = turn.lang
    return main_menu(turn, call)


def main_menu(turn: Turn, call):
    config = current_app.config
    if not is_open(config["SELF_SERVICE_HOURS"], config["TIMEZONE"]):
        turn.say("self_service_closed")
        response, _ = hand_off(turn, call)
        return response, f"self_service_closed:{turn.lang}"
    turn.say("main_menu")
    return turn.ask("ivr.menu"), turn.lang


@bp.post("/menu")
@voice_step("menu")
def menu(turn: Turn, call):
    if turn.digits == "1":
        return ask_number(turn, call)
    if turn.digits == "0":
        return hand_off(turn, call)
    return choice_retry(turn, call, "ivr.menu", "main_menu")


@bp.post("/number")
@voice_step("number")
def number(turn: Turn, call):
    checked = check_number(turn.digits)
    if not checked.ok:
        return retry_or_hand_off(
            turn, call, f"invalid.number.{checked.error}", "ivr.number", "ask_number",
            num_digits=None, finish_on_key="#",
        )
    turn.say("readback_number", number=Digits(checked.value))
    return turn.ask("ivr.number_confirm", n=checked.value), "read_back"


@bp.post("/number/confirm")
@voice_step("number_confirm")
def number_confirm(turn: Turn, call):
    checked = check_number(request.args.get("n"))
    if not checked.ok or turn.digits == "2":
        return ask_number(turn, call)
    if turn.digits == "1":
        call.asked_number = checked.value
        turn.say("ask_date")
        return turn.ask("ivr.date", num_digits=8, n=checked.value), "confirmed"
    return choice_retry(turn, call, "ivr.number_confirm", "readback_number",
                        n=checked.value, say_values={"number": Digits(checked.value)})


@bp.post("/date", endpoint="date")
@voice_step("date")
def date_entry(turn: Turn, call):
    number_value = check_number(request.args.get("n"))
    if not number_value.ok:
        return ask_number(turn, call)
    checked = check_date(turn.digits, local_today(current_app.config["TIMEZONE"]))
    if not checked.ok:
        return retry_or_hand_off(
            turn, call, f"invalid.date.{checked.error}", "ivr.date", "ask_date",
            num_digits=8, n=number_value.value,
        )
    turn.say("readback_date", date=SpokenDate(checked.value))
    return turn.ask("ivr.date_confirm", n=number_value.value, d=checked.value.isoformat()), "read_back"


@bp.post("/date/confirm")
@voice_step("date_confirm")
def date_confirm(turn: Turn, call):
    number_value = check_number(request.args.get("n"))
    on = date_arg("d")
    if not number_value.ok:
        return ask_number(turn, call)
    if on is None or turn.digits == "2":
        turn.say("ask_date")
        return turn.ask("ivr.date", num_digits=8, n=number_value.value), "re_enter"
    if turn.digits == "1":
        return look_up(turn, call, number_value.value, on)
    return choice_retry(turn, call, "ivr.date_confirm", "readback_date",
                        n=number_value.value, d=on.isoformat(), say_values={"date": SpokenDate(on)})


def look_up(turn: Turn, call, number_text: str, on):
    """The lookup step: throttles first, then the same find as the console and inquiry page."""
    key = turn.request_key
    who = caller_key(call.caller)
    lock_lookups(caller_key=who, number=number_text)
    failed = failed_lookups(limits(), caller_key=who, call_sid=call.sid, number=number_text, exclude_key=key)
    throttled = failed.throttle(limits())
    call.asked_number, call.asked_date = number_text, on
    if throttled is not None:
        return throttle_answer(turn, call, throttled)
    matches = find_transactions(number_text, on)
    record_attempt(dedupe_key=key, caller_key=who, number=number_text, found=bool(matches),
                   call_sid=call.sid)
    call.found = bool(matches)
    if not matches:
        # One message whether the number or the date was wrong: never tell which.
        turn.say("not_found")
        if failed.plus_one().throttle(limits()) in {Throttle.per_call, Throttle.per_caller}:
            return throttle_answer(turn, call, Throttle.per_call)
        turn.say("not_found_menu")
        return turn.ask("ivr.not_found"), "not_found"
    if len(matches) > 1:
        turn.say("direction_question")
        return turn.ask("ivr.direction", n=number_text, d=on.isoformat()), "two_directions"
    return tell_status(turn, call, matches[0])


def tell_status(turn: Turn, call, transaction: Transaction):
    call.transaction_id = transaction.id
    call.found = True
    speak_status(turn, transaction)
    set_outcome(call, Outcome.self_served)
    turn.say("result_menu")
    return turn.ask("ivr.result", tx=transaction.id), f"found:{transaction.status.value}"


@bp.post("/direction")
@voice_step("direction")
def direction(turn: Turn, call):
    number_value = check_number(request.args.get("n"))
    on = date_arg("d")
    if not number_value.ok or on is None:
        return ask_number(turn, call)
    chosen = {"1": Direction.to_federal, "2": Direction.to_region}.get(turn.digits or "")
    if chosen is None:
        return choice_retry(turn, call, "ivr.direction", "direction_question",
                            n=number_value.value, d=on.isoformat())
    matches = [t for t in find_transactions(number_value.value, on) if t.direction == chosen]
    if not matches:  # changed since the question; treat as not found, disclosing nothing
        turn.say("not_found").say("not_found_menu")
        return turn.ask("ivr.not_found"), "not_found"
    return tell_status(turn, call, matches[0])


@bp.post("/result")
@voice_step("result")
def result(turn: Turn, call):
    transaction = db.session.get(Transaction, int_arg("tx", 0, 0, 2**62))
    if turn.digits == "1" and transaction is not None:
        return tell_status(turn, call, transaction)
    if turn.digits in {"2", "3"} and transaction is not None:
        return sms_choice(turn, call, transaction)
    if turn.digits == "9":
        return ask_number(turn, call)
    if turn.digits == "0":
        return hand_off(turn, call)
    if turn.out_of_tries:  # the caller has heard the status: end politely, no hand-off
        turn.say("invalid_choice" if turn.digits else "no_input").say("goodbye")
        return turn.hang_up(), "goodbye"
    return choice_retry(turn, call, "ivr.result", "result_menu", tx=request.args.get("tx"))


def sms_choice(turn: Turn, call, transaction: Transaction):
    """Key 2: this status by SMS now; key 3: an SMS when the letter changes. Mobiles only."""
    if not is_mobile(call.caller):
        turn.say("sms_not_possible")
        result = "sms_not_mobile"
    elif turn.digits == "2":
        # One message per call and letter, however often 2 is pressed or Twilio replays it.
        send_status_sms(transaction=transaction, phone=call.caller, language=turn.lang,
                        kind=SmsKind.status, key=f"ivr-{call.sid}-{transaction.id}", call_id=call.id)
        turn.say("sms_will_send")
        result = "sms_status"
    else:
        subscribe(phone=call.caller, transaction=transaction, language=turn.lang, call_id=call.id)
        turn.say("sms_subscribed")
        result = "sms_subscribed"
    turn.say("result_menu")
    return turn.ask("ivr.result", tx=transaction.id), result


@bp.post("/not-found")
@voice_step("not_found_menu")
def not_found(turn: Turn, call):
    if turn.digits == "1":
        return ask_number(turn, call)
    if turn.digits == "0":
        return hand_off(turn, call)
    return choice_retry(turn, call, "ivr.not_found", "not_found_menu")


@bp.post("/callback")
@voice_step("callback")
def callback(turn: Turn, call):
    if turn.digits == "1" and call.caller:
        request_callback(call)
        set_outcome(call, Outcome.callback_requested)
        turn.say("callback_confirmed").say("goodbye")
        return turn.hang_up(), "callback_requested"
    if turn.digits in {"2", "", None} or turn.out_of_tries:
        set_outcome(call, Outcome.after_hours)
        turn.say("goodbye")
        return turn.hang_up(), "declined"
    return choice_retry(turn, call, "ivr.callback", "callback_offer")


@bp.post("/queue/left")
@voice_step("queue_left")
def queue_left(turn: Turn, call):
    """Twilio's <Enqueue action>: the caller left the queue (bridged, hung up, or an error)."""
    outcome = request.form.get("QueueResult", "")[:20]
    now = datetime.now(timezone.utc)
    if call.queue_left_at is None:
        call.queue_left_at = now
        call.queue_result = outcome
        g.queue_changed = True
    if outcome == "hangup":
        set_outcome(call, Outcome.abandoned_in_queue)
        return VoiceResponse(), outcome
    if outcome in {"bridged", "redirected-from-bridged"}:
        set_outcome(call, Outcome.agent_answered)
        turn.say("goodbye")
        return turn.hang_up(), outcome
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
    turn.say("transfer")
    if call.queued_at is None:
        call.queued_at = datetime.now(timezone.utc)
    call.queue_left_at = None
    call.queue_result = None
    g.queue_changed = True
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
    if int_arg("call", 0, 0, 2**62) != call.id or agent is None:
        # The claim was undone meanwhile (the console thought Twilio failed): wait again.
        return back_to_queue(turn, call), "not_taken"
    connect(call, agent)
    g.agents_changed = True
    turn.say("agent_answering")  # "please hold" was said on entering the queue
    response = twiml.dial_agent(
        turn.segments, kind=agent.endpoint_kind.value, endpoint=dialled_endpoint(agent),
        action=url_for("ivr.agent_done", call=call.id, agent=agent.id), timeout=AGENT_RING_TIMEOUT_S,
        context=ring_context(call.caller, current_app.config["DEFAULT_PHONE_REGION"], call=call),
    )
    return response, f"dial:{agent.endpoint_kind.value}"


@bp.post("/agent/done")
@voice_step("agent_done")
def agent_done(turn: Turn, call):
    """<Dial action>: the agent's leg ended. Answered: goodbye. Not answered: back to the queue."""
    agent_turn(turn, call)
    dial_status = request.form.get("DialCallStatus", "")[:20]
    agent = db.session.get(User, int_arg("agent", 0, 0, 2**62))
    g.agents_changed = True
    caller_still_here = request.form.get("CallStatus") in {None, "in-progress"}
    if dial_status in AGENT_MISSED and agent is not None and caller_still_here:
        if call.agent_id == agent.id:
            requeue(call, agent)
            return back_to_queue(turn, call), f"missed:{dial_status}"
        if call.agent_id is None and call.ended_at is None:  # repeated: already back in the queue
            return back_to_queue(turn, call), f"missed:{dial_status}"
    if call.agent_id is not None and (agent is None or call.agent_id == agent.id):
        agent_leg_ended(call, agent)
    if survey_wanted(call, enabled=current_app.config["SURVEY_ENABLED"], dial_status=dial_status,
                     caller_on_line=caller_still_here):
        turn.say("survey_ask")  # the key pressed goes to ivr/survey.py
        return turn.ask("ivr.survey"), "survey"
    turn.say("goodbye")
    return turn.hang_up(), f"ended:{dial_status or 'unknown'}"


# --- routes that are not a step of the conversation -------------------------------

@bp.post("/queue/wait")
@twilio_signed
def queue_wait():
    """Twilio's <Enqueue waitUrl>: the place in the queue, then hold audio. No database."""
    try:
        lang = request.args.get("lang", "ar")
        lang = lang if lang in LANGUAGE_KEYS.values() else "ar"
        try:
            position = int(request.form.get("QueuePosition", "0"))
        except ValueError:
            position = 0
        if position > 1:
            segments = render("queue_position", lang, voices(), position=Count(position))
        else:
            segments = render("queue_next", lang, voices())
        return xml(twiml.hold(segments, music_url=current_app.config["HOLD_MUSIC_URL"]))
    except Exception:
        log.exception("queue wait failed")
        return xml(twiml.hold([], music_url=current_app.config["HOLD_MUSIC_URL"]))


@bp.post("/status")
@twilio_signed
def status():
    """Twilio's status callback: the final status and duration, recorded once."""
    sid = request.form.get("CallSid", "")[:64]
    call_status = request.form.get("CallStatus", "")[:20]
    try:
        duration = int(request.form.get("CallDuration", ""))
    except ValueError:
        duration = None
    try:
        call = get_call(sid)
        if call is not None and call_status in FINAL_CALL_STATUSES:
            g.queue_changed = (call.queued_at is not None and call.queue_left_at is None
                               and call.agent_id is None)  # it was on the consoles' queue
            finish_call(call, status=call_status, duration=duration)
            if call.answered_at is not None and call.agent_ended_at is None:
                agent_leg_ended(call, call.agent)  # Twilio may not post the <Dial action>
                g.agents_changed = True
            record_event(call, key=request_key(sid, "status", call_status), step="status",
                         result=call_status)
            db.session.commit()
            announce_changes()
        elif call is not None and call.ended_at is None:
            call.twilio_status = call_status
            db.session.commit()
    except Exception:
        log.exception("status callback failed for call %s", sid)
        db.session.rollback()
    return xml(VoiceResponse())


@bp.post("/fallback")
@twilio_signed
def fallback():
    """Twilio's fallback URL: static TwiML that touches nothing."""
    segments = []
    for lang in ("ar", "en"):
        segments += render("apology", lang, voices()) + render("goodbye", lang, voices())
    return xml(twiml.say_and_hang_up(segments))


@bp.get("/audio/<language>/<path:filename>")
def audio(language: str, filename: str):
    """Recorded prompts, at the public URL that <Play> points to."""
    if language not in {"ckb"}:
        return Response(status=404)
    folder = current_app.config["PROMPTS_AUDIO_DIR"] / language
    return send_from_directory(folder, filename, mimetype="audio/mpeg", max_age=86400)


# --- callbacks placed by an agent (Twilio REST calls.create from the console) -------

CALLBACK_DIAL_TIMEOUT_S = 30


def callback_arg() -> int | None:
    try:
        return int(request.args.get("callback", ""))
    except ValueError:
        return None


@bp.post("/callback/connect")
@twilio_signed
def callback_connect():
    """The citizen answered a callback: say who is calling, then ring the agent who placed it."""
    lang = "ar"
    try:
        callback_id = callback_arg()
        callback = db.session.get(CallbackRequest, callback_id) if callback_id else None
        if callback is not None and callback.language in LANGUAGE_KEYS.values():
            lang = callback.language
        agent = callback.agent if callback is not None else None
        if callback is None or callback.status != CallbackStatus.in_progress or agent is None or not agent.active:
            return xml(twiml.say_and_hang_up(render("apology", lang, voices()) + render("goodbye", lang, voices())))
        segments = render("welcome", lang, voices()) + render("transfer", lang, voices())
        return xml(twiml.dial_agent(
            segments, kind=agent.endpoint_kind.value, endpoint=dialled_endpoint(agent),
            action=url_for("ivr.callback_ended", callback=callback.id, lang=lang),
            timeout=CALLBACK_DIAL_TIMEOUT_S,
            context=ring_context(callback.phone, current_app.config["DEFAULT_PHONE_REGION"],
                                 callback_id=callback.id),
        ))
    except Exception:  # the citizen picked up: never silence, never Twilio's error message
        log.exception("callback connect failed for callback %s", request.args.get("callback", "?")[:20])
        db.session.rollback()
        return xml(twiml.say_and_hang_up(render("apology", lang, voices()) + render("goodbye", lang, voices())))


@bp.post("/callback/ended")
@twilio_signed
def callback_ended():
    """<Dial action> of a callback: the agent's leg ended; a polite end either way. No database."""
    lang = request.args.get("lang", "ar")
    lang = lang if lang in LANGUAGE_KEYS.values() else "ar"
    segments = []
    if request.form.get("DialCallStatus") != "completed":  # the agent did not pick up
        segments += render("apology", lang, voices())
    return xml(twiml.say_and_hang_up(segments + render("goodbye", lang, voices())))
