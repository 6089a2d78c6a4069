"""Recordings of the agent's part of a conference call (RECORDING_ENABLED).

Twilio records the agent's participant leg in two channels (`record`, `recordingChannels=dual`
on participants.create): one channel is the agent, the other everything the agent hears
(the caller, a consulted colleague). A conference-wide `<Conference record>` would also
record the caller alone with hold music and the notice; the agent's leg is the agent's part.

The media stays at Twilio. The app keeps what the signed recording status callback said
(`call_recording`), streams the audio to supervisors through itself with its own credentials
(never a Twilio URL in a page), and deletes it at Twilio after RECORDING_RETENTION_DAYS or
on a supervisor's request, keeping the row with `deleted_at`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from flask import current_app, url_for
from sqlalchemy import select
from twilio.base.exceptions import TwilioException, TwilioRestException

from domain.audit import audit
from domain.calls.record import record_event, request_key
from domain.clock import utcnow
from extensions import db
from models import Call, CallRecording
from telephony.rest import REST_TIMEOUT_S, public_url, twilio_client

log = logging.getLogger(__name__)

# What Twilio reports about a recording; "absent" is a recording with no audio (silence).
RECORDING_EVENTS = ["completed", "absent"]
MEDIA_CHUNK = 64 * 1024
# Headers of Twilio's media answer passed on to the browser (Range support: 206, Content-Range).
PASSED_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "Accept-Ranges")


def recording_enabled() -> bool:
    return bool(current_app.config.get("RECORDING_ENABLED"))


def recording_options(call: Call) -> dict:
    """participants.create options that record this participant's leg in two channels; none when off."""
    if not recording_enabled():
        return {}
    return {
        "record": True,
        "recording_channels": "dual",
        "recording_status_callback": public_url(url_for("ivr.recording_status", call=call.id)),
        "recording_status_callback_method": "POST",
        "recording_status_callback_event": RECORDING_EVENTS,
    }


def small_int(value: str | None, limit: int = 10**7) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 <= number <= limit else None


def store_status(call: Call, recording_sid: str, status: str, duration: str | None, channels: str | None) -> bool:
    """Keep what Twilio's recording status callback said (once per recording, updated on repeats).
    False when the callback names no recording. The caller commits."""
    if not recording_sid.startswith("RE") or not status:
        return False
    row = db.session.scalar(select(CallRecording).where(CallRecording.recording_sid == recording_sid))
    if row is None:
        row = CallRecording(call_id=call.id, recording_sid=recording_sid, status=status)
        db.session.add(row)
    elif row.call_id != call.id:
        return False
    if row.deleted_at is None:
        row.status = status
    row.duration_s = small_int(duration) if duration else row.duration_s
    row.channels = small_int(channels, 8) if channels else row.channels
    db.session.flush()
    record_event(call, key=request_key(recording_sid, status, "recording"), step="recording", result=status[:40])
    return True


def playable(call: Call) -> list[CallRecording]:
    """The call's recordings a supervisor can play: completed and not deleted."""
    return list(
        db.session.scalars(
            select(CallRecording)
            .where(
                CallRecording.call_id == call.id,
                CallRecording.status == "completed",
                CallRecording.deleted_at.is_(None),
            )
            .order_by(CallRecording.id)
        )
    )


def recording_of(call: Call, recording_id: int) -> CallRecording | None:
    row = db.session.get(CallRecording, recording_id)
    return row if row is not None and row.call_id == call.id and row.deleted_at is None else None


@dataclass
class Media:
    status: int
    headers: dict[str, str]
    chunks: Iterator[bytes]


class MediaUnavailable(Exception):
    pass


def media_url(recording: CallRecording) -> str:
    config = current_app.config
    base = config["TWILIO_API_BASE_URL"].rstrip("/")
    return f"{base}/2010-04-01/Accounts/{config['TWILIO_ACCOUNT_SID']}/Recordings/{recording.recording_sid}.mp3"


def fetch_media(recording: CallRecording, byte_range: str | None) -> Media:
    """The recording's MP3 from Twilio's REST API with the app's credentials, streamed
    (the browser's Range passed on, Twilio's 206 passed back); raises MediaUnavailable."""
    config = current_app.config
    headers = {"Range": byte_range[:100]} if byte_range and byte_range.startswith("bytes=") else {}
    try:
        answer = requests.get(
            media_url(recording),
            auth=(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"]),
            headers=headers,
            stream=True,
            timeout=REST_TIMEOUT_S,
        )
    except requests.RequestException as error:
        log.warning("recording %s: Twilio unreachable (%s)", recording.id, type(error).__name__)
        raise MediaUnavailable() from error
    if answer.status_code not in (200, 206):
        log.warning("recording %s: Twilio answered %s", recording.id, answer.status_code)
        answer.close()
        raise MediaUnavailable()

    def chunks() -> Iterator[bytes]:
        try:
            yield from answer.iter_content(MEDIA_CHUNK)
        finally:
            answer.close()

    passed = {name: answer.headers[name] for name in PASSED_HEADERS if name in answer.headers}
    passed.setdefault("Content-Type", "audio/mpeg")
    return Media(answer.status_code, passed, chunks())


def delete_at_twilio(recording: CallRecording) -> bool:
    """DELETE the recording at Twilio; one Twilio no longer has counts as deleted."""
    try:
        twilio_client().recordings(recording.recording_sid).delete()
    except TwilioRestException as error:
        if error.status != 404:
            log.warning("recording %s: Twilio refused the delete (HTTP %s)", recording.id, error.status)
            return False
    except (TwilioException, requests.RequestException) as error:
        log.warning("recording %s: Twilio unreachable for the delete (%s)", recording.id, type(error).__name__)
        return False
    return True


def delete_recording(recording: CallRecording, user, *, address: str | None = None) -> bool:
    """A supervisor's request: deleted at Twilio, the row marked, audited. False when Twilio refused."""
    if recording.deleted_at is not None:
        return True
    if not delete_at_twilio(recording):
        db.session.rollback()
        return False
    recording.deleted_at = utcnow()
    audit(
        user,
        "delete_recording",
        target_type="call",
        target_id=recording.call_id,
        address=address,
        detail={"recording": recording.id},
    )
    db.session.commit()
    return True


def purge_recordings(moment: datetime, days: int, batch: int = 200) -> int:
    """Recordings older than the retention deleted at Twilio and marked; a refused one is tried
    again at the next purge. 0 days or less keeps them for ever."""
    if days <= 0:
        return 0
    old = list(
        db.session.scalars(
            select(CallRecording)
            .where(CallRecording.created_at < moment - timedelta(days=days), CallRecording.deleted_at.is_(None))
            .order_by(CallRecording.id)
            .limit(batch)
        )
    )
    deleted = 0
    for recording in old:
        if delete_at_twilio(recording):
            recording.deleted_at = moment
            deleted += 1
            db.session.commit()
    return deleted
