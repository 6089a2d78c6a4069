"""Twilio's recording status callback for the agent's recorded leg (domain/calls/recordings.py)."""

from __future__ import annotations

import logging

from flask import Response, request

from domain.calls.recordings import store_status
from domain.db.ids import row_id
from extensions import db
from ivr import bp
from models import Call
from telephony.signature import twilio_signed

log = logging.getLogger(__name__)


@bp.post("/recording/status")
@twilio_signed
def recording_status():
    """Signed by Twilio; kept once per recording. An error status when not stored, so Twilio retries."""
    call_id = row_id(request.args.get("call"))
    call = db.session.get(Call, call_id) if call_id else None
    if call is None:
        return "", 204
    try:
        store_status(
            call,
            request.form.get("RecordingSid", "")[:64],
            request.form.get("RecordingStatus", "")[:20],
            request.form.get("RecordingDuration"),
            request.form.get("RecordingChannels"),
        )
        db.session.commit()
    except Exception:
        log.exception("recording status not stored for call %s", call.id)
        db.session.rollback()
        return Response("not stored, try again", status=503, mimetype="text/plain")
    return "", 204
