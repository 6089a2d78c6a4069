"""POST /sms/status: Twilio tells us what became of a message; the outbox row follows."""

from __future__ import annotations

import re

from flask import Response, abort, request

from domain.db.ids import row_id
from domain.sms import record_delivery_status
from sms import bp
from telephony.signature import twilio_signed

MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")


@bp.post("/status")
@twilio_signed
def status():
    sid, row = request.form.get("MessageSid", ""), request.args.get("m", "")
    # Twilio's message sids, and the row ids our own callback URLs carry: anything else is no message.
    if (sid and not MESSAGE_SID.fullmatch(sid)) or (row and row_id(row) is None):
        abort(400)
    record_delivery_status(
        sid=sid,
        row_id=row,
        twilio_status=request.form.get("MessageStatus", ""),
        error_code=request.form.get("ErrorCode", "")[:10],
    )
    return Response(status=204)
