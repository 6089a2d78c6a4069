"""POST /sms/status: Twilio tells us what became of a message; the outbox row follows."""
from __future__ import annotations

from flask import Response, request

from domain.sms import record_delivery_status
from sms import bp
from telephony.signature import twilio_signed


@bp.post("/status")
@twilio_signed
def status():
    record_delivery_status(
        sid=request.form.get("MessageSid", "")[:64], row_id=request.args.get("m", "")[:12],
        twilio_status=request.form.get("MessageStatus", ""), error_code=request.form.get("ErrorCode", "")[:10],
    )
    return Response(status=204)
