"""The call screen's "send status by SMS": the letter's status to the caller's mobile, once per call;
and attaching a letter found by search to the call, so that it can be sent too."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from agent_console import bp
from agent_console.access import agent_required, client_address
from agent_console.call_screen import attached_letters, shown_transactions, visible_call
from domain.audit import audit
from domain.sms import OUTBOX_KEY, dispatch_outbox, may_text, send_status_sms
from extensions import db
from models import CallLetter, SmsKind, Transaction


@bp.post("/calls/<int:call_id>/sms/<int:transaction_id>")
@agent_required
def send_call_sms(call_id: int, transaction_id: int):
    call = visible_call(call_id)
    letters, _spoken = shown_transactions(call)
    letter = next((t for t in letters + attached_letters(call) if t.id == transaction_id), None)
    if letter is None:
        abort(404)  # only a letter shown on this call's screen or attached to it
    message = send_status_sms(
        transaction=letter,
        phone=call.caller,
        language=call.language or "ar",
        kind=SmsKind.agent,
        key=f"agent-{call.id}-{letter.id}",
        call_id=call.id,
        user_id=current_user.id,
    )
    if message is None and may_text(call.caller):
        flash(_("The caller's number has had as many SMS today as may be sent to it; none was sent."), "error")
        return redirect(url_for("console.call", call_id=call.id))
    if message is None:
        flash(_("The caller's number is not a mobile number; no SMS can be sent to it."), "error")
        return redirect(url_for("console.call", call_id=call.id))
    fresh = message.id in db.session.info.get(OUTBOX_KEY, [])  # made now, not on an earlier click
    audit(current_user, "send_sms", target_type="transaction", target_id=letter.id, address=client_address())
    db.session.commit()
    dispatch_outbox()
    if not fresh:
        flash(_("An SMS about this letter was already made on this call; its result is shown below."), "info")
    # else nothing to flash: the screen shows the message's own status (waiting, sent, not sent and why)
    return redirect(url_for("console.call", call_id=call.id))


@bp.post("/calls/<int:call_id>/letters")
@agent_required
def attach_call_letter(call_id: int):
    """A letter found by search, attached to the call: on its screen, ready to send by SMS."""
    call = visible_call(call_id)
    raw = request.form.get("transaction_id", "")
    letter = db.session.get(Transaction, int(raw)) if raw.isdigit() and len(raw) <= 12 else None
    if letter is None:
        abort(404)
    shown = {record.id for record in shown_transactions(call)[0] + attached_letters(call)}
    if letter.id not in shown:
        db.session.add(CallLetter(call_id=call.id, transaction_id=letter.id, user_id=current_user.id))
        audit(
            current_user,
            "attach_letter",
            target_type="call",
            target_id=call.id,
            detail={"transaction_id": letter.id},
            address=client_address(),
        )
        try:
            db.session.commit()
        except IntegrityError:  # a second click at the same moment: attached once all the same
            db.session.rollback()
        flash(_("Letter %(number)s is attached to the call.", number=letter.number), "success")
    return redirect(url_for("console.call", call_id=call.id, _anchor=f"attached-{letter.id}"))
