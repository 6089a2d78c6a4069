"""The call screen: the caller's letter and its history, the IVR steps, notes, callback, wrap-up."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from agent_console import bp
from agent_console.access import agent_required, client_address, opened_from_this_site
from agent_console.forms import CallbackForm, CallNotesForm, options
from domain.audit import audit
from domain.calls.agent import handle_seconds, queue_seconds, save_notes, wrap_up
from domain.calls.callbacks import OPEN, CallbackError, is_earlier_request, open_callback_for, schedule_callback
from domain.complaints.inbox import complaints_from
from domain.letters.lookup import find_transactions
from domain.live import publish_agents_changed
from domain.phones import national_format
from extensions import db
from models import Call, CallbackRequest, Role, Transaction

# The words for the disposition codes of config DISPOSITIONS; a code without one shows as is.
DISPOSITION_LABELS = {
    "status_given": _l("Status given"),
    "status_explained": _l("Status explained"),
    "wrong_office": _l("Wrong office"),
    "complaint_logged": _l("Complaint logged"),
    "callback_promised": _l("Callback promised"),
    "transferred": _l("Transferred"),
    "no_record": _l("No record found"),
    "silent_or_dropped": _l("Silent or dropped"),
}

# The IVR's step codes (CallEvent.step) as the call screen names them.
STEP_LABELS = {
    "incoming": _l("Call answered"),
    "language": _l("Language chosen"),
    "menu": _l("Main menu"),
    "number": _l("Letter number keyed"),
    "number_confirm": _l("Number confirmed"),
    "date": _l("Letter date keyed"),
    "date_confirm": _l("Date confirmed"),
    "direction": _l("Direction chosen"),
    "result": _l("After the status"),
    "not_found_menu": _l("After not found"),
    "callback": _l("Callback offer"),
    "queue_left": _l("Left the queue"),
    "agent_take": _l("Taken by an agent"),
    "agent_connect": _l("Ringing the agent"),
    "agent_done": _l("Agent's leg ended"),
    "status": _l("Call ended"),
}

CALL_STATES = {
    "waiting": _l("Waiting in the queue"),
    "connecting": _l("Connecting"),
    "connected": _l("Connected"),
    "ended": _l("Ended"),
    "wrapped_up": _l("Wrapped up"),
}

CALLBACK_ERRORS = {
    "bad_phone": _l("This is not a phone number that can be called."),
    "bad_language": _l("Choose one of the languages."),
    "long_note": _l("The note is too long."),
    "due_past": _l("This time has already passed."),
    "due_far": _l("Choose a time within the next 90 days."),
}


def disposition_label(code: str | None) -> str:
    return str(DISPOSITION_LABELS.get(code, code)) if code else ""


def call_state(call: Call) -> str:
    if call.wrapped_up_at is not None:
        return "wrapped_up"
    if call.ended_at is not None or call.agent_ended_at is not None:
        return "ended"
    if call.answered_at is not None:
        return "connected"
    if call.taken_at is not None:
        return "connecting"
    return "waiting"


def step_label(step: str) -> str:
    return str(STEP_LABELS.get(step, step))


def visible_call(call_id: int) -> Call:
    """An agent sees the calls they took; a supervisor sees any call."""
    call = db.session.get(Call, call_id)
    if call is None:
        abort(404)
    if call.agent_id != current_user.id and not current_user.has_role(Role.supervisor):
        abort(403)
    return call


def shown_transactions(call: Call) -> tuple[list[Transaction], bool]:
    """The letter the IVR spoke, or else the letters matching what the caller keyed in.

    The second value says whether the caller heard this letter's status already.
    """
    if call.transaction is not None:
        return [call.transaction], True
    if call.asked_number and call.asked_date:
        return find_transactions(call.asked_number, call.asked_date), False
    return [], False


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
    from agent_console.call_complaint import intake_form  # it needs visible_call from here

    transactions, spoken = shown_transactions(call)
    for record in transactions:  # every view of a record is audited, re-renders included
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
        state=call_state(call),
        state_label=CALL_STATES[call_state(call)],
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
    return render_call(visible_call(call_id))


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
        flash(
            _("The call is wrapped up. You are available for the next caller.")
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
