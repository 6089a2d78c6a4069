"""POST /sms/status: Twilio tells us what became of a message; the outbox row follows."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import Response, request
from sqlalchemy import or_, select

from extensions import db
from models import SmsMessage, SmsStatus
from sms import bp
from telephony.signature import twilio_signed

log = logging.getLogger(__name__)
# Twilio's MessageStatus values that we keep, and how far along each is: a late "sent"
# must not overwrite an earlier "delivered" (Twilio does not promise the order).
RANK = {
    SmsStatus.sending: 1, SmsStatus.sent: 2,
    SmsStatus.delivered: 3, SmsStatus.undelivered: 3, SmsStatus.failed: 3,
}
TWILIO_STATUS = {"sent": SmsStatus.sent, "delivered": SmsStatus.delivered,
                 "undelivered": SmsStatus.undelivered, "failed": SmsStatus.failed}


def message_for(sid: str, row_id: str) -> SmsMessage | None:
    # The row id travels in the callback URL too: Twilio may call back before our
    # worker has stored the sid it was given.
    conditions = [SmsMessage.twilio_sid == sid] if sid else []
    if row_id.isdigit():
        conditions.append(SmsMessage.id == int(row_id))
    if not conditions:
        return None
    return db.session.scalars(select(SmsMessage).where(or_(*conditions))).first()


@bp.post("/status")
@twilio_signed
def status():
    sid = request.form.get("MessageSid", "")[:64]
    new = TWILIO_STATUS.get(request.form.get("MessageStatus", ""))
    message = message_for(sid, request.args.get("m", "")[:12])
    if message is None or new is None:
        return Response(status=204)
    if message.twilio_sid and sid and message.twilio_sid != sid:
        return Response(status=204)  # a callback for another message of ours: not this row
    if RANK.get(new, 0) >= RANK.get(message.status, 0):
        message.status = new
        message.status_at = datetime.now(timezone.utc)
        if sid and message.twilio_sid is None:
            message.twilio_sid = sid
        code = request.form.get("ErrorCode", "")[:10]
        if new in {SmsStatus.failed, SmsStatus.undelivered} and code:
            message.error = f"twilio {code}"
        db.session.commit()
    return Response(status=204)
