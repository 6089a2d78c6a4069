"""Main menu key 2: where a complaint stands, by its code.

code (finishOnKey #) -> read back (1 confirm, 2 again) -> from the complaint's mobile: the
status, the entity and the date of the last change; from any other number: a one-time code
by SMS to that mobile, keyed in, then the status. Who may hear what, and the limits on
guessing, are domain/complaints/tracking.py's; each view only says it.
"""

from __future__ import annotations

from flask import current_app, request

from domain.calls.record import set_outcome
from domain.clock import local_today
from domain.complaints import codes
from domain.complaints.tracking import check_tracking_code, shown_on_call, start_tracking
from domain.letters.throttle import Throttle
from domain.phones import caller_key
from ivr import bp
from ivr.conversation import ask_complaint_code, choice_retry, hand_off, limits, retry_or_hand_off, throttle_answer
from ivr.steps import voice_step
from ivr.turn import Turn
from models import Complaint, Outcome
from voice_prompts import Digits, EntityName, Phrase, SpokenDate

OTP_DIGITS = 6


def code_arg() -> str | None:
    """The complaint code the action URL carries, if it is one."""
    code = request.args.get("c", "")
    return code if codes.is_valid(code) else None


def status_values(complaint: Complaint) -> dict:
    """The only fields of a complaint that are ever spoken: status, entity, date of the change."""
    entity = complaint.entity
    return {
        "status": Phrase(f"complaint_status.{complaint.status.value}"),
        "entity": EntityName(entity.code, {"ar": entity.name_ar, "ckb": entity.name_ckb, "en": entity.name_en}),
        "date": SpokenDate(local_today(current_app.config["TIMEZONE"], complaint.status_at)),
    }


def tell_status(turn: Turn, call, complaint: Complaint):
    turn.say("complaint.status", **status_values(complaint))
    set_outcome(call, Outcome.self_served)
    turn.say("complaint.result_menu")
    return turn.ask("ivr.complaint_result", c=complaint.code), f"complaint:{complaint.status.value}"


@bp.post("/complaint/code")
@voice_step("complaint_code")
def complaint_code(turn: Turn, call):
    keyed = codes.clean(turn.digits)
    if not codes.is_valid(keyed):  # a mistyped code is refused before anything is looked up
        reason = "complaint.not_a_code" if keyed else "complaint.no_code"
        return retry_or_hand_off(
            turn, call, reason, "ivr.complaint_code", "complaint.ask_code", num_digits=None, finish_on_key="#"
        )
    turn.say("complaint.readback_code", code=Digits(keyed))
    return turn.ask("ivr.complaint_code_confirm", c=keyed), "read_back"


@bp.post("/complaint/code/confirm")
@voice_step("complaint_code_confirm")
def complaint_code_confirm(turn: Turn, call):
    code = code_arg()
    if code is None or turn.digits == "2":
        return ask_complaint_code(turn, call)
    if turn.digits != "1":
        return choice_retry(
            turn,
            call,
            "ivr.complaint_code_confirm",
            "complaint.readback_code",
            c=code,
            say_values={"code": Digits(code)},
        )
    tracking = start_tracking(
        code,
        who=caller_key(call.caller),
        caller=call.caller,
        limits=limits(),
        attempt_key=turn.request_key,
        call_sid=call.sid,
        language=turn.lang,
    )
    if tracking.throttled is not None:
        return throttle_answer(turn, call, tracking.throttled, about="complaint")
    if tracking.complaint is not None:
        return tell_status(turn, call, tracking.complaint)
    # The same words whether or not the complaint exists, or has a mobile.
    turn.say("complaint.code_sent")
    return turn.ask("ivr.complaint_otp", num_digits=OTP_DIGITS, c=code), "code_sent"


@bp.post("/complaint/otp")
@voice_step("complaint_otp")
def complaint_otp(turn: Turn, call):
    code = code_arg()
    if code is None:
        return ask_complaint_code(turn, call)
    if not turn.digits:  # silence (the SMS may be slow): ask again, not a miss
        return retry_or_hand_off(
            turn, call, "no_input", "ivr.complaint_otp", "complaint.ask_otp", num_digits=OTP_DIGITS, c=code
        )
    tracking = check_tracking_code(
        code,
        turn.digits,
        who=caller_key(call.caller),
        limits=limits(),
        attempt_key=turn.request_key,
        call_sid=call.sid,
    )
    if tracking.throttled is not None:
        return throttle_answer(turn, call, tracking.throttled, about="complaint")
    if tracking.complaint is not None:
        return tell_status(turn, call, tracking.complaint)
    turn.say("complaint.not_verified")
    if tracking.last_try:
        return throttle_answer(turn, call, Throttle.per_call, about="complaint")
    turn.say("not_found_menu")
    return turn.ask("ivr.complaint_not_verified"), "complaint_not_verified"


@bp.post("/complaint/not-verified")
@voice_step("complaint_not_verified")
def complaint_not_verified(turn: Turn, call):
    if turn.digits == "1":
        return ask_complaint_code(turn, call)
    if turn.digits == "0":
        return hand_off(turn, call)
    return choice_retry(turn, call, "ivr.complaint_not_verified", "not_found_menu")


@bp.post("/complaint/result")
@voice_step("complaint_result")
def complaint_result(turn: Turn, call):
    code = code_arg()
    complaint = shown_on_call(code, call.sid) if code else None
    if turn.digits == "1" and complaint is not None:
        return tell_status(turn, call, complaint)
    if turn.digits == "2":
        return ask_complaint_code(turn, call)
    if turn.digits == "0":
        return hand_off(turn, call)
    if turn.out_of_tries:  # the caller has heard the status: end politely, no hand-off
        turn.say("invalid_choice" if turn.digits else "no_input").say("goodbye")
        return turn.hang_up(), "goodbye"
    return choice_retry(turn, call, "ivr.complaint_result", "complaint.result_menu", c=code)
