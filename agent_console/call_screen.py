"""The call screen: the caller's letter and its history, the IVR steps, notes, callback, wrap-up."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from agent_console import bp
from agent_console.access import agent_required, client_address, opened_from_this_site
from agent_console.complaint_form import intake_form
from agent_console.forms import CallbackForm, CallNotesForm, options
from agent_console.labels import LABELS, label, prompt_text, sms_reason, step_label
from agent_console.streams import KEEPALIVE, event_stream, live_down, sse_event, subscribe
from domain.audit import audit
from domain.calls.agent import handle_seconds, queue_seconds, save_notes, wrap_up
from domain.calls.callbacks import (
    OPEN,
    CallbackError,
    close_callback,
    is_earlier_request,
    open_callback_for,
    schedule_callback,
)
from domain.calls.conference import Supervise, heard_supervision
from domain.clock import utcnow
from domain.complaints.inbox import complaints_from
from domain.languages import language_or_default
from domain.letters.lookup import find_transactions
from domain.live import CALL_EVENT, broker, publish_agents_changed
from domain.phones import national_format
from extensions import db
from models import Call, CallbackRequest, CallbackStatus, CallLetter, Role, SmsMessage, Transaction, User

# The words for the disposition codes of config DISPOSITIONS (a code without one shows as is).
DISPOSITION_LABELS = LABELS["disposition"]


# The results of the IVR's steps (CallEvent.result), as words; "head:detail" codes name their head.
RESULT_LABELS = {
    "greeted": _l("Greeted"),
    "read_back": _l("Number read back to the caller"),
    "confirmed": _l("Confirmed"),
    "re_enter": _l("Keying it again"),
    "retry": _l("Asked again"),
    "invalid": _l("Not a valid key"),
    "out_of_tries": _l("Too many tries"),
    "found": _l("Letter found"),
    "not_found": _l("No letter found"),
    "two_directions": _l("Two letters match: direction asked"),
    "direction_question": _l("Direction asked"),
    "ask_number": _l("Asked for the letter number"),
    "main_menu": _l("Back to the main menu"),
    "result_menu": _l("Options after the status"),
    "not_found_menu": _l("Options after not found"),
    "status": _l("Status read"),
    "queued": _l("Put in the agents' queue"),
    "callback_offer": _l("Callback offered"),
    "callback_requested": _l("Callback requested"),
    "declined": _l("Declined"),
    "no_agents": _l("No agent answering"),
    "after_hours": _l("Outside opening hours"),
    "goodbye": _l("Goodbye said"),
    "throttled": _l("Too many calls from this number"),
    "self_service_closed": _l("Self-service closed"),
    "connected": _l("Put through to"),
    "caller_gone": _l("The caller hung up during the take"),
    "failed": _l("Failed"),
    "dial": _l("Ringing the agent"),
    "missed": _l("The agent's phone did not answer"),
    "ended": _l("Ended"),
    "stale": _l("Late request, ignored"),
    "not_taken": _l("Take undone: back to the queue"),
    "survey": _l("Survey offered"),
    "score": _l("Survey score"),
    "no_score": _l("No survey score"),
    # Twilio's words for the call and the queue
    "completed": _l("Completed"),
    "busy": _l("Busy"),
    "no-answer": _l("No answer"),
    "canceled": _l("Cancelled"),
    "hangup": _l("Caller hung up"),
    "bridged": _l("Put through to an agent"),
    "redirected": _l("Moved to an agent"),
    "leave": _l("Left to be offered a callback"),
    "error": _l("Error"),
    # call control (conferences)
    "conference": _l("Ringing the agent into the call's conference"),
    "conference_failed": _l("Twilio did not ring the agent"),
    "requeued": _l("Back to the queue"),
    "apology": _l("Apology and goodbye (a callback is not queued)"),
}
DIAL_KINDS = {"client": _l("browser"), "sip": _l("SIP phone"), "phone": _l("phone")}


def result_label(result: str | None) -> str:
    """A step's result in words: "found:received" -> "Letter found: Received", and so on."""
    if not result:
        return ""
    head, _sep, rest = result.partition(":")
    words = RESULT_LABELS.get(head) or RESULT_LABELS.get(result)
    if words is None:
        return LABELS["language"].get(result, result)
    parts = rest.split(":") if rest else []
    agent_name = ""
    if "agent" in parts:  # ...:agent:<id>
        index = parts.index("agent")
        agent = (
            db.session.get(User, int(parts[index + 1]))
            if parts[index + 1 :][:1] and parts[index + 1].isdigit()
            else None
        )
        agent_name = agent.display_name or agent.username if agent is not None else ""
        parts = parts[:index]
    detail = []
    if head == "found" and parts:
        detail.append(label("status", parts[0]))
    elif head in ("dial", "conference") and parts:
        detail.append(str(DIAL_KINDS.get(parts[0], parts[0])))
    elif head in ("missed", "ended") and parts:
        detail.append(str(RESULT_LABELS.get(parts[0], parts[0])))
    elif head == "throttled" and parts:
        detail.append(parts[0])
    elif head in ("score", "tones") and parts:  # a survey's score; how many tones were sent
        detail.append(parts[0])
    elif head == "self_service_closed" and parts:
        detail.append(LABELS["language"].get(parts[0], parts[0]))
    text = str(words)
    if detail:
        text += ": " + ", ".join(detail)
    if agent_name:
        text += (" " if head == "connected" else " · ") + agent_name
    return text


# An SMS as it stands in the outbox, in words; a message not sent says why.
SMS_RESULTS = {
    "pending": (_l("Waiting to be sent"), ""),
    "queued": (_l("Waiting to be sent"), ""),
    "sending": (_l("Sending"), ""),
    "sent": (_l("Sent; delivery not confirmed yet"), ""),
    "delivered": (_l("Delivered to the caller's phone"), "good"),
    "undelivered": (_l("Not delivered"), "bad"),
    "failed": (_l("Failed"), "bad"),
    "suppressed": (_l("Not sent"), "bad"),
}
SMS_FINAL = {"delivered", "undelivered", "failed", "suppressed"}


def sms_result(message) -> dict:
    """What came of an SMS: words, a badge colour, the reason when not sent, whether final."""
    status = message.status.value
    words, tone = SMS_RESULTS.get(status, (status, ""))
    reason = sms_reason(message.error)
    return {"status": status, "words": str(words), "tone": tone, "reason": reason, "final": status in SMS_FINAL}


def call_sms(call: Call) -> dict[int, dict]:
    """The latest SMS of this call about each letter, as `sms_result` says it."""
    rows = db.session.scalars(select(SmsMessage).where(SmsMessage.call_id == call.id).order_by(SmsMessage.id)).all()
    return {row.transaction_id: sms_result(row) for row in rows if row.transaction_id is not None}


CALL_STATES = {
    "waiting": _l("Waiting in the queue"),
    "connecting": _l("Ringing your phone"),
    "connected": _l("Connected"),
    "ended": _l("Ended"),
    "wrapped_up": _l("Wrapped up"),
    "missed": _l("Your phone did not answer"),
}

# What the live call screen says beside the state, when there is more to say.
STATE_MESSAGES = {
    "ended": _l("The call has ended. Write your notes, choose a disposition and wrap up."),
    "missed": _l(
        "Your phone did not answer, so the caller went back to the queue and you were set to Away. "
        "Set yourself Available on the queue page when you are ready."
    ),
}
# What the agent is told while a supervisor can be heard on their call (agent_console/supervise.py);
# a supervisor listening in silently is not shown, as in most contact centres.
SUPERVISION_NOTICES = {
    Supervise.whisper: _l("A supervisor is coaching you: only you can hear them, the caller cannot."),
    Supervise.barge: _l("A supervisor has joined the call: the caller hears them too."),
}
MISSED_PREFIX = "missed:"  # agent_done's result when the agent's phone did not answer

CALLBACK_ERRORS = {
    "bad_phone": _l("This is not a phone number that can be called."),
    "bad_language": _l("Choose one of the languages."),
    "long_note": _l("The note is too long."),
    "due_past": _l("This time has already passed."),
    "due_far": _l("Choose a time within the next 90 days."),
}


def disposition_label(code: str | None) -> str:
    return str(DISPOSITION_LABELS.get(code, code)) if code else ""


def missed_by(call: Call, user_id: int) -> bool:
    """Whether this agent took the call but their phone did not answer (the call went back)."""
    return call.agent_id != user_id and any(
        event.step == "agent_done"
        and event.result.startswith(MISSED_PREFIX)
        and event.result.endswith(f":agent:{user_id}")
        for event in call.events
    )


def call_state(call: Call, viewer_id: int | None = None) -> str:
    if viewer_id is not None and missed_by(call, viewer_id):
        return "missed"
    if call.wrapped_up_at is not None:
        return "wrapped_up"
    if call.ended_at is not None or call.agent_ended_at is not None:
        return "ended"
    if call.answered_at is not None:
        return "connected"
    if call.taken_at is not None:
        return "connecting"
    return "waiting"


def visible_call(call_id: int, *, to_change: bool = True) -> Call:
    """An agent sees and changes the calls they took; a supervisor any call. An agent whose
    phone did not answer still sees the call (read only), to be told what happened."""
    call = db.session.get(Call, call_id)
    if call is None:
        abort(404)
    if call.agent_id != current_user.id and not current_user.has_role(Role.supervisor):
        if to_change or not missed_by(call, current_user.id):
            abort(403)
    return call


def state_of(call: Call) -> dict:
    """The call screen's live state: what it shows, and the times its talk timer counts."""
    state = call_state(call, current_user.id)
    ended = call.agent_ended_at or call.ended_at
    return {
        "call_id": call.id,
        "state": state,
        "label": str(CALL_STATES[state]),
        "message": str(STATE_MESSAGES.get(state, "")),
        "answered_at": call.answered_at.isoformat() if call.answered_at and state != "missed" else None,
        "ended_at": ended.isoformat() if ended else None,
        "now": utcnow().isoformat(),
        "sms": {str(letter_id): result for letter_id, result in call_sms(call).items()},
        "supervision": supervision_notice(call),
    }


def supervision_notice(call: Call) -> str:
    """For the call's agent while it goes on: a supervisor whispering to them, or heard by all."""
    if call.agent_id != current_user.id or call.conference_sid is None or call.agent_ended_at or call.ended_at:
        return ""
    mode = heard_supervision(call)
    return str(SUPERVISION_NOTICES[mode]) if mode in SUPERVISION_NOTICES else ""


def shown_transactions(call: Call) -> tuple[list[Transaction], bool]:
    """The letter the IVR spoke, or else the letters matching what the caller keyed in.

    The second value says whether the caller heard this letter's status already.
    """
    if call.transaction is not None:
        return [call.transaction], True
    if call.asked_number and call.asked_date:
        return find_transactions(call.asked_number, call.asked_date), False
    return [], False


def attached_letters(call: Call) -> list[Transaction]:
    """The letters an agent found by search and attached to this call, besides those shown."""
    shown = {record.id for record in shown_transactions(call)[0]}
    rows = db.session.scalars(select(CallLetter).where(CallLetter.call_id == call.id).order_by(CallLetter.id)).all()
    return [row.transaction for row in rows if row.transaction_id not in shown]


def notes_form(call: Call, formdata=None) -> CallNotesForm:
    form = CallNotesForm(formdata=formdata, notes=call.notes, disposition=call.disposition or "")
    form.disposition.choices = options(
        [("", _("Choose…"))] + [(code, disposition_label(code)) for code in current_app.config["DISPOSITIONS"]]
    )
    return form


def callback_form(call: Call, formdata=None) -> CallbackForm:
    region = current_app.config["DEFAULT_PHONE_REGION"]
    return CallbackForm(
        formdata=formdata, prefix="callback", phone=national_format(call.caller, region), language=call.language or "ar"
    )


def render_call(
    call: Call,
    *,
    notes: CallNotesForm | None = None,
    callback: CallbackForm | None = None,
    complaint=None,
    code_sent: bool = False,
    status: int = 200,
):
    transactions, spoken = shown_transactions(call)
    attached = attached_letters(call)
    for record in transactions + attached:  # every view of a record is audited, re-renders included
        audit(
            current_user, "view_transaction", target_type="transaction", target_id=record.id, address=client_address()
        )
    caller_complaints = complaints_from(call.caller)
    if caller_complaints:
        audit(
            current_user,
            "search",
            target_type="complaint",
            detail={"by": "caller", "call_id": call.id, "matches": len(caller_complaints)},
            address=client_address(),
        )
    db.session.commit()
    existing_callback = (call.caller and open_callback_for(call.caller)) or db.session.scalar(
        select(CallbackRequest).where(CallbackRequest.call_id == call.id)
    )
    return render_template(
        "console/call.html",
        call=call,
        transactions=transactions,
        spoken=spoken,
        attached=attached,
        events=call.events,
        notes_form=notes or notes_form(call),
        callback_form=callback or callback_form(call),
        existing_callback=existing_callback,
        callback_open=existing_callback is not None and existing_callback.status in OPEN and callback is None,
        caller_complaints=caller_complaints,
        complaint_form=complaint or intake_form(call),
        complaint_open=complaint is not None,
        code_sent=code_sent,
        queue_s=queue_seconds(call),
        handle_s=handle_seconds(call),
        disposition_label=disposition_label,
        duration=duration,
        step_label=step_label,
        result_label=result_label,
        prompt_text=lambda key: prompt_text(key, language_or_default(str(get_locale()), "en")),
        state=state_of(call),
        state_label=CALL_STATES[call_state(call, current_user.id)],
    ), status


def duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


@bp.get("/calls/<int:call_id>")
@agent_required
@opened_from_this_site
def call(call_id: int):
    return render_call(visible_call(call_id, to_change=False))


@bp.get("/calls/<int:call_id>/state.json")
@agent_required
def call_state_json(call_id: int):
    """The call's state, for a call screen whose live stream is down; `live` says whether to retry it."""
    data = state_of(visible_call(call_id, to_change=False))
    data["live"] = broker().healthy()
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/calls/<int:call_id>/stream")
@agent_required
def call_stream(call_id: int):
    """The call's state at once, then again whenever the IVR says this call changed."""
    visible_call(call_id, to_change=False)
    subscription = subscribe(current_app.config["SSE_KEEPALIVE_S"], name="call")
    if subscription is None:
        return live_down()
    db.session.expire_all()  # read after subscribing: a change committed meanwhile is in it, or comes as an event
    first = sse_event("state", json.dumps(state_of(visible_call(call_id, to_change=False))))
    db.session.close()

    def next_event(message: str | None) -> str:
        if message is None or not concerns(message, call_id):
            return KEEPALIVE
        db.session.expire_all()
        data = json.dumps(state_of(visible_call(call_id, to_change=False)))
        db.session.close()  # hold no database connection between events
        return sse_event("state", data)

    return event_stream(subscription, first, next_event, name="call")


def concerns(message: str, call_id: int) -> bool:
    try:
        event = json.loads(message)
    except ValueError:
        return False
    return isinstance(event, dict) and event.get("type") == CALL_EVENT and event.get("call_id") == call_id


@bp.post("/calls/<int:call_id>/notes")
@agent_required
def save_call_notes(call_id: int):
    call = visible_call(call_id)
    form = notes_form(call, formdata=request.form)
    if not form.validate():
        return render_call(call, notes=form, status=422)
    if form.wrap_up.data and not form.disposition.data:
        form.disposition.errors = [_("Choose a disposition before wrapping up.")]
        return render_call(call, notes=form, status=422)
    save_notes(call, form.notes.data, form.disposition.data, current_app.config["DISPOSITIONS"])
    if form.wrap_up.data:
        wrapped = wrap_up(call)
        db.session.commit()
        publish_agents_changed()
        closed = (
            wrapped
            and call.callback_id is not None
            and form.close_callback.data
            and close_callback(call.callback_id, current_user, CallbackStatus.done, address=client_address())
        )
        flash(
            _("The call is wrapped up and its callback request is done. You are available for the next caller.")
            if closed
            else _("The call is wrapped up. You are available for the next caller.")
            if wrapped
            else _("Notes saved. The call was already wrapped up."),
            "success",
        )
        return redirect(url_for("console.home"), code=303)
    db.session.commit()
    flash(_("Notes saved."), "success")
    return redirect(url_for("console.call", call_id=call.id), code=303)


@bp.post("/calls/<int:call_id>/callback")
@agent_required
def schedule_call_callback(call_id: int):
    """A callback promised on this call: a CallbackRequest with source 'agent'."""
    call = visible_call(call_id)
    form = CallbackForm(prefix="callback")
    if not form.validate():
        return render_call(call, callback=form, status=422)
    try:
        callback = schedule_callback(
            phone=form.phone.data,
            language=form.language.data,
            note=form.note.data or "",
            due_at=local_to_utc(form.due()),
            requested_by=current_user,
            transaction_id=call.transaction_id,
            call_id=free_call_link(call),
            region=current_app.config["DEFAULT_PHONE_REGION"],
        )
    except CallbackError as error:
        field = getattr(form, error.field or "phone", form.phone)
        field.errors = [str(CALLBACK_ERRORS.get(error.code, _("Please check this value.")))]
        return render_call(call, callback=form, status=422)
    if is_earlier_request(callback):
        flash(_("A callback for this number is already waiting; no second one was added."), "warning")
        return redirect(url_for("console.call", call_id=call.id), code=303)
    db.session.commit()
    flash(_("Callback scheduled."), "success")
    return redirect(url_for("console.call", call_id=call.id), code=303)


def free_call_link(call: Call) -> int | None:
    """A call links to one callback request (the IVR may have made it): later ones stand alone."""
    linked = db.session.scalar(select(CallbackRequest.id).where(CallbackRequest.call_id == call.id))
    return None if linked else call.id


def local_to_utc(moment: datetime | None) -> datetime | None:
    """The form's time is the centre's local time (Baghdad), as the agent reads the clock."""
    if moment is None:
        return None
    return moment.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"])).astimezone(timezone.utc)
