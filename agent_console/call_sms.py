"""The call screen's "send status by SMS": the letter's status to the caller's mobile, once per call."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from agent_console import bp
from agent_console.access import agent_required, client_address
from agent_console.call_screen import shown_transactions, visible_call
from domain.audit import audit
from domain.sms import OUTBOX_KEY, dispatch_outbox, may_text, send_status_sms
from extensions import db
from models import SmsKind


@bp.post("/calls/<int:call_id>/sms/<int:transaction_id>")
@agent_required
def send_call_sms(call_id: int, transaction_id: int):
    call = visible_call(call_id)
    letters, _spoken = shown_transactions(call)
    letter = next((t for t in letters if t.id == transaction_id), None)
    if letter is None:
        abort(404)  # only a letter shown on this call's screen
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
