"""The caller's conversation with the IVR: language, menu, number, date, the result, the callback offer.

Each view is one step (see ivr/steps.py): it reads the keys pressed, changes the call and
answers with what to say next and where the caller's next key goes.
"""

from __future__ import annotations

from flask import current_app, request
from twilio.twiml.voice_response import VoiceResponse

from domain.calls.callbacks import request_callback
from domain.calls.record import set_outcome
from domain.clock import is_open, local_today
from domain.db.ids import MAX_ID
from domain.languages import DEFAULT_LANGUAGE, LANGUAGES
from domain.letters.lookup import check_date, check_number, find_transactions, look_up_letter
from domain.letters.throttle import Limits, Throttle, caller_throttle
from domain.phones import caller_key
from domain.sms import may_text, send_status_sms, subscribe
from domain.staff.users import someone_answering
from extensions import db
from ivr import bp
from ivr.speech import speak_status
from ivr.steps import agents_open, mark_queued, voice_step
from ivr.turn import Turn, date_arg, int_arg
from models import Direction, Outcome, SmsKind, Transaction
from voice_prompts import Digits, Hour, SpokenDate

# The key for each language, in the order they are offered: 1 Arabic, 2 Kurdish, 3 English.
LANGUAGE_KEYS = {str(key): language for key, language in enumerate(LANGUAGES, start=1)}


def limits() -> Limits:
    """The IVR's limits on guessing letters, as configured."""
    return Limits.from_config(current_app.config)


# --- hand-off ----------------------------------------------------------------------


def hand_off(turn: Turn, call) -> tuple[VoiceResponse, str]:
    """To the agents' queue when an agent will answer it; otherwise a callback offer.

    Outside agent hours the caller hears the hours first; within them, with every agent away
    or logged out, that nobody is free: a queue nobody answers would never end.
    """
    if agents_open() and someone_answering():
        turn.say("transfer")
        mark_queued(call)
        return turn.enqueue(current_app.config["AGENT_QUEUE_NAME"]), "queued"
    if agents_open():
        turn.say("no_agents")
        return offer_callback(turn, call, "no_agents")
    hours = current_app.config["AGENT_HOURS"]
    turn.say("after_hours", start=Hour(hours.start_text), end=Hour(hours.end_text))
    return offer_callback(turn, call, "after_hours")


def offer_callback(turn: Turn, call, result: str) -> tuple[VoiceResponse, str]:
    """1 for a callback; a withheld number cannot be called back, so it hears goodbye."""
    if call.caller is None:
        if result == "after_hours":
            set_outcome(call, Outcome.after_hours)
            turn.say("callback_no_number")
        else:
            turn.say("callback_no_number_later")
        turn.say("goodbye")
        return turn.hang_up(), result
    turn.say("callback_offer")
    return turn.ask("ivr.callback"), result


def retry_or_hand_off(
    turn: Turn,
    call,
    reason_key: str,
    endpoint: str,
    again_key: str,
    num_digits: int | None = 1,
    finish_on_key: str | None = None,
    **params,
):
    """Say why the entry failed and ask again; after the last try, offer an agent."""
    turn.say(reason_key)
    if turn.out_of_tries:
        turn.say("too_many_tries")
        set_outcome(call, Outcome.failed_input)
        response, _ = hand_off(turn, call)
        return response, "out_of_tries"
    turn.say(again_key, **params.pop("say_values", {}))
    return turn.ask(endpoint, num_digits=num_digits, finish_on_key=finish_on_key, t=turn.tries + 1, **params), "retry"


def choice_retry(turn: Turn, call, endpoint: str, again_key: str, **params):
    reason = "no_input" if not turn.digits else "invalid_choice"
    return retry_or_hand_off(turn, call, reason, endpoint, again_key, **params)


def ask_number(turn: Turn, call) -> tuple[VoiceResponse, str]:
    throttled = caller_throttle(limits(), caller_key=caller_key(call.caller), call_sid=call.sid)
    if throttled is not None:
        return throttle_answer(turn, call, throttled)
    turn.say("ask_number")
    return turn.ask("ivr.number", num_digits=None, finish_on_key="#"), "ask_number"


def ask_complaint_code(turn: Turn, call) -> tuple[VoiceResponse, str]:
    """Main menu key 2: a complaint's code, under the same limits as a letter's lookup."""
    throttled = caller_throttle(limits(), caller_key=caller_key(call.caller), call_sid=call.sid)
    if throttled is not None:
        return throttle_answer(turn, call, throttled, about="complaint")
    turn.say("complaint.ask_code")
    return turn.ask("ivr.complaint_code", num_digits=None, finish_on_key="#"), "ask_complaint_code"


# What a caller is told when a limit on guessing stops the lookup, for a letter or a complaint.
THROTTLED_PROMPTS = {
    "letter": {Throttle.per_number: "throttled_number", None: "throttled_caller"},
    "complaint": {Throttle.per_number: "complaint.throttled_code", None: "complaint.throttled_caller"},
}


def throttle_answer(turn: Turn, call, throttled: Throttle, about: str = "letter") -> tuple[VoiceResponse, str]:
    set_outcome(call, Outcome.throttled)
    prompts = THROTTLED_PROMPTS[about]
    turn.say(prompts.get(throttled) or prompts[None])
    response, _ = hand_off(turn, call)
    return response, f"throttled:{throttled.value}"


# --- the call ----------------------------------------------------------------------


@bp.post("/voice")
@voice_step("incoming")
def incoming(turn: Turn, call):
    turn.say("welcome", "ar")
    for language in LANGUAGES:
        turn.say(f"language_option.{language}", language)
    return turn.ask("ivr.language"), "greeted"


@bp.post("/language")
@voice_step("language")
def language(turn: Turn, call):
    chosen = LANGUAGE_KEYS.get(turn.digits or "")
    if chosen is None and turn.digits and not turn.out_of_tries:
        turn.say("invalid_choice")
        for language in LANGUAGES:
            turn.say(f"language_option.{language}", language)
        return turn.ask("ivr.language", t=turn.tries + 1), "invalid"
    turn.lang = chosen or DEFAULT_LANGUAGE  # no key within the timeout: Arabic
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
    if turn.digits == "2":
        return ask_complaint_code(turn, call)
    if turn.digits == "0":
        return hand_off(turn, call)
    return choice_retry(turn, call, "ivr.menu", "main_menu")


@bp.post("/number")
@voice_step("number")
def number(turn: Turn, call):
    checked = check_number(turn.digits)
    if not checked.ok:
        return retry_or_hand_off(
            turn,
            call,
            f"invalid.number.{checked.error}",
            "ivr.number",
            "ask_number",
            num_digits=None,
            finish_on_key="#",
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
    return choice_retry(
        turn,
        call,
        "ivr.number_confirm",
        "readback_number",
        n=checked.value,
        say_values={"number": Digits(checked.value)},
    )


@bp.post("/date", endpoint="date")
@voice_step("date")
def date_entry(turn: Turn, call):
    number_value = check_number(request.args.get("n"))
    if not number_value.ok:
        return ask_number(turn, call)
    checked = check_date(turn.digits, local_today(current_app.config["TIMEZONE"]))
    if not checked.ok:
        return retry_or_hand_off(
            turn,
            call,
            f"invalid.date.{checked.error}",
            "ivr.date",
            "ask_date",
            num_digits=8,
            n=number_value.value,
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
    return choice_retry(
        turn,
        call,
        "ivr.date_confirm",
        "readback_date",
        n=number_value.value,
        d=on.isoformat(),
        say_values={"date": SpokenDate(on)},
    )


def look_up(turn: Turn, call, number_text: str, on):
    """The lookup step: the same policy and find as the inquiry page, within this step's transaction."""
    call.asked_number, call.asked_date = number_text, on
    lookup = look_up_letter(
        number_text,
        on,
        who=caller_key(call.caller),
        limits=limits(),
        attempt_key=turn.request_key,
        call_sid=call.sid,
        commit=False,
    )
    if lookup.throttled is not None:
        return throttle_answer(turn, call, lookup.throttled)
    call.found = lookup.found
    if not lookup.found:
        # One message whether the number or the date was wrong: never tell which.
        turn.say("not_found")
        if lookup.last_try:
            return throttle_answer(turn, call, Throttle.per_call)
        turn.say("not_found_menu")
        return turn.ask("ivr.not_found"), "not_found"
    if len(lookup.letters) > 1:
        turn.say("direction_question")
        return turn.ask("ivr.direction", n=number_text, d=on.isoformat()), "two_directions"
    return tell_status(turn, call, lookup.letters[0])


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
        return choice_retry(turn, call, "ivr.direction", "direction_question", n=number_value.value, d=on.isoformat())
    matches = [t for t in find_transactions(number_value.value, on) if t.direction == chosen]
    if not matches:  # changed since the question; treat as not found, disclosing nothing
        turn.say("not_found").say("not_found_menu")
        return turn.ask("ivr.not_found"), "not_found"
    return tell_status(turn, call, matches[0])


@bp.post("/result")
@voice_step("result")
def result(turn: Turn, call):
    transaction = db.session.get(Transaction, int_arg("tx", 0, 0, MAX_ID))
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
    """Key 2: this status by SMS now; key 3: an SMS when the letter changes. Mobiles we may text only."""
    if not may_text(call.caller):  # a landline, withheld, or a country we do not text
        turn.say("sms_not_possible")
        result = "sms_not_mobile"
    elif turn.digits == "2":
        # One message per call and letter, however often 2 is pressed or Twilio replays it.
        message = send_status_sms(
            transaction=transaction,
            phone=call.caller,
            language=turn.lang,
            kind=SmsKind.status,
            key=f"ivr-{call.sid}-{transaction.id}",
            call_id=call.id,
        )
        if message is None:  # the number had its SMS for today
            turn.say("sms_limit_reached")
            result = "sms_limit"
        else:
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
        callback = request_callback(call)
        set_outcome(call, Outcome.callback_requested)
        # A request made on an earlier call still waits: say so, rather than promise a second call.
        turn.say("callback_confirmed" if callback.call_id == call.id else "callback_already_registered")
        turn.say("goodbye")
        return turn.hang_up(), "callback_requested"
    if turn.digits in {"2", "", None} or turn.out_of_tries:
        if not agents_open():  # in hours (nobody free), the final status says how it ended
            set_outcome(call, Outcome.after_hours)
        turn.say("goodbye")
        return turn.hang_up(), "declined"
    return choice_retry(turn, call, "ivr.callback", "callback_offer")
