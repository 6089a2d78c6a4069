"""Callback requests: a caller asks an agent to call back."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import Call, CallbackRequest


def request_callback(call: Call) -> CallbackRequest:
    """One request per call, however often the caller (or Twilio) presses the key."""
    existing = db.session.scalar(select(CallbackRequest).where(CallbackRequest.call_id == call.id))
    if existing is not None:
        return existing
    callback = CallbackRequest(
        call_id=call.id, phone=call.caller, language=call.language or "ar",
        transaction_id=call.transaction_id, source="ivr",
    )
    try:
        with db.session.begin_nested():
            db.session.add(callback)
    except IntegrityError:
        callback = db.session.scalar(select(CallbackRequest).where(CallbackRequest.call_id == call.id))
    return callback
