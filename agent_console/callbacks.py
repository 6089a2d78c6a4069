"""Callback requests: the list, requests made by hand, taking one, placing the call, closing it.

Taking is one guarded UPDATE, so two agents clicking at once cannot both get a request.
Placing the call (domain.calls.callbacks.place_callback) asks Twilio's REST API to ring the
citizen; when they answer, Twilio fetches /ivr/callback/connect, which dials the agent.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from agent_console import bp
from agent_console.access import agent_required, client_address
from agent_console.forms import ActionForm, CallbackForm, CloseCallbackForm
from domain.audit import audit
from domain.calls.callbacks import (
    OPEN,
    PLACING_STALE,
    CallbackError,
    Placing,
    close_callback,
    count_by_status,
    is_earlier_request,
    list_callbacks,
    may_handle,
    place_callback,
    release_callback,
    schedule_callback,
    take_callback,
)
from domain.clock import utcnow
from extensions import db
from models import CallbackRequest, CallbackStatus

PAGE_SIZE = 50


def callback_error(code: str) -> str:
    return {
        "bad_phone": _(
            "This is not a phone number that can be called. Write it as 0750 123 4567 or +964 750 123 4567."
        ),
        "bad_language": _("Choose the language of the call."),
        "long_note": _("The note is too long (at most 1000 characters)."),
        "due_past": _("This time has already passed."),
        "due_far": _("A callback is due within 90 days."),
    }.get(code, _("This value is not accepted."))


def status_filter() -> CallbackStatus:
    try:
        return CallbackStatus(request.args.get("status", "pending"))
    except ValueError:
        return CallbackStatus.pending


def page_number() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 10_000))
    except ValueError:
        return 1


def render_list(form: CallbackForm | None = None, status_code: int = 200, open_form: bool = False):
    status = status_filter()
    page = page_number()
    rows = list_callbacks(status, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    now = utcnow()
    return render_template(
        "console/_callback_list.html" if request.args.get("part") == "list" else "console/callbacks.html",
        overdue=lambda cb: cb.status in OPEN and cb.due_at is not None and cb.due_at < now,
        placing=lambda cb: cb.placing_at is not None and cb.placing_at >= now - PLACING_STALE,
        placed_status=placed_status_label,
        callbacks=rows[:PAGE_SIZE],
        has_next=len(rows) > PAGE_SIZE,
        page=page,
        status=status,
        counts={s.value: n for s, n in count_by_status().items()},
        form=form or CallbackForm(formdata=None),
        action_form=ActionForm(),
        close_form=CloseCallbackForm(formdata=None),
        open_form=open_form,
        may_handle=lambda cb: may_handle(cb, current_user),
        caller_id_set=bool(current_app.config.get("HOTLINE_CALLER_ID")),
    ), status_code


def back_to_list():
    """Back to the list the agent was looking at (the filter travels in the form's action URL)."""
    return redirect(url_for("console.callbacks", status=request.args.get("status") or None))


def get_callback(callback_id: int) -> CallbackRequest:
    callback = db.session.get(CallbackRequest, callback_id)
    if callback is None:
        abort(404)
    return callback


def check_action_form() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


# The placed call's progress, from Twilio's status callbacks (CallStatus).
PLACED_STATUS_LABELS = {
    "queued": _l("Calling…"),
    "initiated": _l("Calling…"),
    "ringing": _l("Ringing"),
    "in-progress": _l("Answered"),
    "answered": _l("Answered"),
    "completed": _l("Call ended"),
    "no-answer": _l("No answer"),
    "busy": _l("Busy"),
    "failed": _l("Could not be placed"),
    "canceled": _l("Cancelled"),
}
PLACED_STATUS_TONES = {"in-progress": "good", "answered": "good", "no-answer": "bad", "busy": "bad", "failed": "bad"}


def placed_status_label(code: str | None) -> tuple[str, str]:
    """The words and the badge colour of a placed call's last status."""
    if not code:
        return "", ""
    return str(PLACED_STATUS_LABELS.get(code, code)), PLACED_STATUS_TONES.get(code, "")


@bp.get("/callbacks")
@agent_required
def callbacks():
    """The list; with ?part=list only the list itself, which the page reads again every few seconds."""
    return render_list()


@bp.post("/callbacks/new")
@agent_required
def callback_create():
    form = CallbackForm()
    if not form.validate_on_submit():
        return render_list(form, 422, open_form=True)
    due_at = None
    if form.due() is not None:  # typed in the centre's local time
        due_at = form.due().replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
    try:
        callback = schedule_callback(
            phone=form.phone.data,
            language=form.language.data,
            note=form.note.data,
            due_at=due_at,
            requested_by=current_user,
            region=current_app.config["DEFAULT_PHONE_REGION"],
        )
    except CallbackError as error:
        form[error.field].errors = [*form[error.field].errors, callback_error(error.code)]
        return render_list(form, 422, open_form=True)
    if is_earlier_request(callback):
        flash(_("A callback for this number is already waiting; no second one was added."), "info")
        return redirect(url_for("console.callbacks"))
    db.session.flush()
    audit(current_user, "callback_create", target_type="callback", target_id=callback.id, address=client_address())
    db.session.commit()
    flash(_("Callback request added."), "success")
    return redirect(url_for("console.callbacks"))


@bp.post("/callbacks/<int:callback_id>/take")
@agent_required
def callback_take(callback_id: int):
    check_action_form()
    get_callback(callback_id)
    if not take_callback(callback_id, current_user, address=client_address()):
        # Someone else was faster: say so plainly, with 409, and show the list as it is now.
        flash(_("Another agent has already taken this callback."), "error")
        return render_list(status_code=409)
    flash(_("The callback is yours. Place the call when you are ready."), "success")
    return redirect(url_for("console.callbacks", status="in_progress"))


@bp.post("/callbacks/<int:callback_id>/place")
@agent_required
def callback_place(callback_id: int):
    check_action_form()
    placed = place_callback(
        callback_id, current_user, caller_id=current_app.config.get("HOTLINE_CALLER_ID"), address=client_address()
    )
    if placed.outcome is Placing.unknown:
        abort(404)
    if placed.outcome is Placing.not_taken:
        flash(_("Take the callback before placing the call."), "error")
        return render_list(status_code=409)
    if placed.outcome is Placing.already_placing:
        flash(_("A call to this citizen is already ringing or under way; no second call was placed."), "info")
        return redirect(url_for("console.callbacks", status="in_progress"), code=303)
    if placed.outcome is Placing.no_caller_id:
        flash(_("Calls cannot be placed: the hotline's caller number is not configured."), "error")
        return render_list(status_code=503)
    if placed.outcome is Placing.twilio_failed:
        flash(
            _(
                "Twilio did not place the call (%(reason)s). Nothing was lost; try again in a moment.",
                reason=placed.reason,
            ),
            "error",
        )
        return render_list(status_code=502)
    flash(_("Calling the citizen now; your phone rings when they answer."), "success")
    return redirect(url_for("console.callbacks", status="in_progress"))


@bp.post("/callbacks/<int:callback_id>/release")
@agent_required
def callback_release(callback_id: int):
    check_action_form()
    get_callback(callback_id)
    if not release_callback(callback_id, current_user, address=client_address()):
        flash(_("This callback is not yours to give back."), "error")
        return render_list(status_code=409)
    flash(_("The callback is back in the pending list."), "success")
    return back_to_list()


@bp.post("/callbacks/<int:callback_id>/close")
@agent_required
def callback_close(callback_id: int):
    get_callback(callback_id)
    form = CloseCallbackForm()
    if not form.validate_on_submit():
        if not form.note.errors:
            abort(400)  # not a choice the page offers
        too_long = len(form.note.data or "") > 1000
        flash(_("The note is too long (at most 1000 characters).") if too_long else form.note.errors[0], "error")
        return render_list(status_code=422)
    status = CallbackStatus(form.status.data)
    if not close_callback(callback_id, current_user, status, form.note.data, address=client_address()):
        flash(_("This callback is already closed or is handled by another agent."), "error")
        return render_list(status_code=409)
    flash(_("Callback marked done.") if status == CallbackStatus.done else _("Callback cancelled."), "success")
    return back_to_list()
