"""Twilio REST API documents as Twilio shapes them: calls, messages, pages and error bodies.

Pure functions (no app, no database), shared by the development stand-in served by the
app (`simulator/twilio_api.py`) and the test stand-in (`tests/support/twilio_stand_in.py`).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone
from email.utils import format_datetime

from domain.clock import utcnow

API_VERSION = "2010-04-01"
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
CALL_SID = re.compile(r"CA[0-9a-zA-Z]{32}")
# A made-up number for demo calls; a real account would use one of its Twilio numbers.
DEFAULT_TO = "+9645599"
DEFAULT_FROM = "+9647501234567"


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def rfc2822(moment: datetime | None = None) -> str:
    """Twilio's dates: RFC 2822 in UTC, e.g. 'Mon, 02 Jun 2025 10:00:00 +0000'."""
    return format_datetime((moment or utcnow()).astimezone(timezone.utc))


def rfc2822_now() -> str:
    return rfc2822()


def account_path(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}"


def call_resource(
    account_sid: str,
    sid: str,
    form: dict,
    *,
    status: str = "in-progress",
    direction: str = "inbound",
    created: datetime | None = None,
) -> dict:
    """A Call as Twilio returns it from create, fetch and update."""
    now = rfc2822()
    began = rfc2822(created) if created else now
    base = f"{account_path(account_sid)}/Calls/{sid}"
    to = form.get("To", DEFAULT_TO)
    from_ = form.get("From", DEFAULT_FROM)
    return {
        "sid": sid,
        "account_sid": account_sid,
        "parent_call_sid": None,
        "date_created": began,
        "date_updated": now,
        "start_time": None if status in {"queued", "ringing"} else began,
        "end_time": None,
        "to": to,
        "to_formatted": to,
        "from": from_,
        "from_formatted": from_,
        "phone_number_sid": None,
        "status": status,
        "duration": None,
        "price": None,
        "price_unit": "USD",
        "direction": direction,
        "answered_by": None,
        "api_version": API_VERSION,
        "forwarded_from": None,
        "group_sid": None,
        "caller_name": None,
        "queue_time": "0",
        "trunk_sid": None,
        "uri": base + ".json",
        "subresource_uris": {"notifications": base + "/Notifications.json", "recordings": base + "/Recordings.json"},
    }


def message_resource(
    account_sid: str, sid: str, form: dict, *, status: str = "queued", created: datetime | None = None
) -> dict:
    """A Message as Twilio returns it from create and list."""
    when = rfc2822(created)
    base = f"{account_path(account_sid)}/Messages/{sid}"
    return {
        "sid": sid,
        "account_sid": account_sid,
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "to": form.get("To"),
        "from": form.get("From"),
        "body": form.get("Body", ""),
        "status": status,
        "num_segments": "1",
        "num_media": "0",
        "direction": "outbound-api",
        "api_version": API_VERSION,
        "price": None,
        "price_unit": "USD",
        "error_code": None,
        "error_message": None,
        "date_created": when,
        "date_updated": when,
        "date_sent": None,
        "uri": base + ".json",
        "subresource_uris": {"media": base + "/Media.json"},
    }


def message_page(account_sid: str, messages: list[dict], page_size: int) -> dict:
    """GET .../Messages.json: one page of messages, newest first (the caller orders them)."""
    uri = f"{account_path(account_sid)}/Messages.json"
    shown = messages[:page_size]
    return {
        "messages": shown,
        "end": len(shown) - 1,
        "start": 0,
        "page": 0,
        "page_size": page_size,
        "first_page_uri": uri,
        "next_page_uri": None,
        "previous_page_uri": None,
        "uri": uri,
    }


def twilio_error(code: int, message: str, status: int) -> dict:
    """The body of every Twilio REST error; the twilio client raises TwilioRestException from it."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def participant_resource(
    account_sid: str, conference_sid: str, call_sid: str, state: dict, *, status: str = "connected"
) -> dict:
    """A conference Participant as Twilio returns it from create, fetch and update."""
    now = rfc2822()
    return {
        "account_sid": account_sid,
        "call_sid": call_sid,
        "conference_sid": conference_sid,
        "label": state.get("label"),
        "call_sid_to_coach": state.get("call_sid_to_coach"),
        "coaching": bool(state.get("coaching")),
        "date_created": now,
        "date_updated": now,
        "end_conference_on_exit": bool(state.get("end_conference_on_exit")),
        "muted": bool(state.get("muted")),
        "hold": bool(state.get("hold")),
        "start_conference_on_enter": bool(state.get("start_conference_on_enter", True)),
        "status": status,
        "queue_time": None,
        "uri": f"{account_path(account_sid)}/Conferences/{conference_sid}/Participants/{call_sid}.json",
    }


def participant_changes(form: dict) -> dict:
    """What a participants create or update request sets, from Twilio's form parameters."""
    flags = {
        "Hold": "hold",
        "Muted": "muted",
        "Coaching": "coaching",
        "EndConferenceOnExit": "end_conference_on_exit",
        "StartConferenceOnEnter": "start_conference_on_enter",
    }
    changes: dict = {name: form[key].lower() == "true" for key, name in flags.items() if key in form}
    for key, name in (("HoldUrl", "hold_url"), ("CallSidToCoach", "call_sid_to_coach"), ("Label", "label")):
        if key in form:
            changes[name] = form[key]
    return changes


def conference_resource(account_sid: str, sid: str, name: str, *, status: str = "in-progress") -> dict:
    now = rfc2822()
    return {
        "account_sid": account_sid,
        "sid": sid,
        "friendly_name": name,
        "status": status,
        "date_created": now,
        "date_updated": now,
        "region": "us1",
        "reason_conference_ended": None,
        "call_sid_ending_conference": None,
        "api_version": API_VERSION,
        "uri": f"{account_path(account_sid)}/Conferences/{sid}.json",
        "subresource_uris": {
            "participants": f"{account_path(account_sid)}/Conferences/{sid}/Participants.json",
            "recordings": f"{account_path(account_sid)}/Conferences/{sid}/Recordings.json",
        },
    }


# --- recordings' media --------------------------------------------------------------------

# One silent MPEG-1 Layer III frame (128 kbit/s, 44.1 kHz, joint stereo: two channels, as a
# dual-channel recording): the header, then zeroed side information and data (silence).
SILENT_MP3_FRAME = bytes([0xFF, 0xFB, 0x90, 0x64]) + bytes(413)
FRAMES_PER_SECOND = 38  # 1152 samples a frame at 44.1 kHz


def silent_mp3(seconds: int = 2) -> bytes:
    """A small, playable MP3 of silence: what the stand-ins serve as a recording's media."""
    return SILENT_MP3_FRAME * (FRAMES_PER_SECOND * seconds)


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """`Range: bytes=a-b` (one range) as (first, last) within size; None for the whole file."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first_text, _, last_text = header[6:].strip().partition("-")
    try:
        if first_text == "":
            first, last = max(0, size - int(last_text)), size - 1
        else:
            first, last = int(first_text), min(size - 1, int(last_text) if last_text else size - 1)
    except ValueError:
        return None
    return (first, last) if 0 <= first <= last else None
