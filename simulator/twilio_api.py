"""A development stand-in for Twilio's REST API, served by the app itself under /dev/twilio.

With `TWILIO_API_BASE_URL=http://127.0.0.1:PORT/dev/twilio` (what scripts/run-demo sets
when no Twilio account is configured) the app's real `twilio` client talks to these
routes: taking a call (calls(sid).update), placing a callback (calls.create) and sending
SMS (messages.create, messages.list) answer as Twilio would, with HTTP basic auth
checked against TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN. Every request is recorded in
the database (not in a process: `flask run` and gunicorn may run several), and the call
simulator reads those records to follow a redirect or ring a callback.

Which calls exist is what the simulator made of them: an inbound call is the app's own
Call row (ended once its status callback came), a placed call is a DevTwilioCall.
The blueprint is registered only in development and testing; it answers 404 otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import select, update

from domain.clock import utcnow
from extensions import db
from models import Call, DevTwilioCall, DevTwilioRequest
from simulator import twilio_shapes as shapes

bp = Blueprint("dev_twilio", __name__, url_prefix="/dev/twilio")

DEVELOPMENT_ENVS = {"development", "testing"}
API = r"/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})"
CALL = re.compile(API + r"/Calls/(?P<sid>CA[0-9a-zA-Z]{32})\.json")
CALLS = re.compile(API + r"/Calls\.json")
MESSAGES = re.compile(API + r"/Messages\.json")
CONFERENCE = re.compile(API + r"/Conferences/(?P<conference>CF[0-9a-fA-F]{32})\.json")
PARTICIPANTS = re.compile(API + r"/Conferences/(?P<conference>[^/]{1,128})/Participants\.json")
PARTICIPANT = re.compile(
    API + r"/Conferences/(?P<conference>CF[0-9a-fA-F]{32})/Participants/(?P<sid>[^/]{1,128})\.json"
)
RECORDING_MEDIA = re.compile(API + r"/Recordings/(?P<sid>RE[0-9a-fA-F]{32})\.mp3")
RECORDING = re.compile(API + r"/Recordings/(?P<sid>RE[0-9a-fA-F]{32})\.json")
ENDING_STATUSES = {"completed", "canceled"}
RINGING = "queued"
MAX_FORM_VALUE = 4000
MAX_PAGE_SIZE = 1000
DEFAULT_RING_S = 60  # Twilio's default Timeout for calls.create
MAX_RING_S = 600


class TwilioError(Exception):
    """A refusal, answered with Twilio's error document."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@bp.before_request
def development_only():
    """A second lock besides the factory: these routes pretend to be Twilio."""
    if current_app.config.get("APP_ENV") not in DEVELOPMENT_ENVS:
        return answer(404, shapes.twilio_error(20404, "The requested resource was not found", 404))
    return None


def answer(status: int, document: dict, headers: dict | None = None):
    response = jsonify(document)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def account_sid() -> str:
    return current_app.config["TWILIO_ACCOUNT_SID"]


def authorised() -> bool:
    """HTTP basic auth with the account SID and auth token, compared in constant time."""
    auth = request.authorization
    if auth is None or auth.type != "basic":
        return False
    expected_user, expected_password = account_sid(), current_app.config["TWILIO_AUTH_TOKEN"]
    if not expected_user or not expected_password:
        return False
    user_ok = hmac.compare_digest((auth.username or "").encode(), expected_user.encode())
    password_ok = hmac.compare_digest((auth.password or "").encode(), expected_password.encode())
    return user_ok and password_ok


def form_values() -> dict[str, str]:
    """The parameters as the twilio client sends them (form body), last value of each."""
    return {key: values[-1][:MAX_FORM_VALUE] for key, values in request.form.lists()}


# --- the one route: every request is recorded, then answered --------------------------


@bp.route("/<path:path>", methods=["GET", "POST", "DELETE"])
def api(path: str):
    path = "/" + path
    entry = DevTwilioRequest(method=request.method, path=path[:300], operation=operation_of(path))
    if not authorised():
        document = shapes.twilio_error(20003, "Authenticate", 401)
        document["detail"] = "Your AccountSid or AuthToken was incorrect."
        record(entry, 401, error_code=20003)
        return answer(401, document, {"WWW-Authenticate": 'Basic realm="Twilio API"'})
    form = form_values() if request.method == "POST" else request.args.to_dict()
    entry.form = form
    try:
        status, document = dispatch(entry, path, form)
    except TwilioError as error:
        record(entry, error.status, error_code=error.code)
        return answer(error.status, shapes.twilio_error(error.code, error.message, error.status))
    record(entry, status)
    if entry.operation == "recordings.media":
        return recording_media()
    if status == 204:  # deleted: no body, as Twilio answers
        return current_app.response_class(status=204)
    return answer(status, document)


def operation_of(path: str) -> str:
    method = request.method
    if CALL.fullmatch(path):
        return {"POST": "calls.update", "GET": "calls.fetch"}.get(method, "unknown")
    if CALLS.fullmatch(path) and method == "POST":
        return "calls.create"
    if MESSAGES.fullmatch(path):
        return "messages.create" if method == "POST" else "messages.list"
    if PARTICIPANTS.fullmatch(path) and method == "POST":
        return "participants.create"
    if PARTICIPANT.fullmatch(path):
        return {"POST": "participants.update", "DELETE": "participants.delete"}.get(method, "unknown")
    if CONFERENCE.fullmatch(path) and method == "POST":
        return "conferences.update"
    if RECORDING_MEDIA.fullmatch(path) and method == "GET":
        return "recordings.media"
    if RECORDING.fullmatch(path) and method == "DELETE":
        return "recordings.delete"
    return "unknown"


def record(entry: DevTwilioRequest, status: int, *, error_code: int | None = None) -> None:
    entry.status_code = status
    entry.error_code = error_code
    db.session.add(entry)
    db.session.commit()


def not_found(path: str) -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {path} was not found")


def dispatch(entry: DevTwilioRequest, path: str, form: dict) -> tuple[int, dict]:
    for pattern in (CALL, CALLS, MESSAGES, PARTICIPANTS, PARTICIPANT, CONFERENCE, RECORDING_MEDIA, RECORDING):
        match = pattern.fullmatch(path)
        if match is not None:
            break
    else:
        raise not_found(path)
    if match.group("account") != account_sid():
        raise not_found(path)
    operation = entry.operation
    if operation == "calls.update":
        entry.call_sid = match.group("sid")
        return update_call(entry, match.group("sid"), form, path)
    if operation == "calls.fetch":
        entry.call_sid = match.group("sid")
        return fetch_call(match.group("sid"), path)
    if operation == "calls.create":
        return create_call(entry, form)
    if operation == "messages.create":
        return create_message(entry, form)
    if operation == "messages.list":
        return 200, list_messages(form)
    if operation == "participants.create":
        return add_participant(entry, match.group("conference"), form)
    if operation in ("participants.update", "participants.delete"):
        return change_participant(entry, match.group("conference"), match.group("sid"), form, path)
    if operation == "conferences.update":
        entry.action = "end" if form.get("Status") == "completed" else "none"
        return 200, shapes.conference_resource(account_sid(), match.group("conference"), "", status="completed")
    if operation in ("recordings.media", "recordings.delete"):
        return recording_request(entry, match.group("sid"), path)
    raise TwilioError(405, 20004, "Method not allowed")


# --- recordings: any recording sid has a small silent MP3 until it is deleted -------------


def recording_request(entry: DevTwilioRequest, sid: str, path: str) -> tuple[int, dict]:
    entry.resource_sid = sid
    deleted = db.session.scalar(
        select(DevTwilioRequest.id)
        .where(
            DevTwilioRequest.operation == "recordings.delete",
            DevTwilioRequest.resource_sid == sid,
            DevTwilioRequest.status_code == 204,
        )
        .limit(1)
    )
    if deleted is not None:
        raise not_found(path)
    return (204 if entry.operation == "recordings.delete" else 200), {}


def recording_media():
    """The media of a recording: the whole small MP3, or the byte range asked for."""
    body = shapes.silent_mp3()
    headers = {"Accept-Ranges": "bytes", "Cache-Control": "no-store"}
    wanted = shapes.byte_range(request.headers.get("Range"), len(body))
    status = 200
    if wanted:
        first, last = wanted
        headers["Content-Range"] = f"bytes {first}-{last}/{len(body)}"
        body, status = body[first : last + 1], 206
    return current_app.response_class(body, status=status, mimetype="audio/mpeg", headers=headers)


# --- calls --------------------------------------------------------------------------------


def call_status(sid: str) -> tuple[str, str] | None:
    """(status, direction) of a call as Twilio would see it now; None when it never existed."""
    placed = placed_call(sid)
    if placed is not None:
        return placed_status(placed), "outbound-api"
    inbound = db.session.scalar(select(Call).where(Call.sid == sid))
    if inbound is None:
        return None
    hung_up = db.session.scalar(
        select(DevTwilioRequest.id)
        .where(
            DevTwilioRequest.call_sid == sid,
            DevTwilioRequest.operation == "calls.update",
            DevTwilioRequest.action == "hangup",
            DevTwilioRequest.status_code == 200,
        )
        .limit(1)
    )
    if inbound.ended_at is not None or hung_up is not None:
        return "completed", "inbound"
    return "in-progress", "inbound"


def placed_call(sid: str) -> DevTwilioCall | None:
    return db.session.scalar(select(DevTwilioCall).where(DevTwilioCall.sid == sid))


def placed_status(placed: DevTwilioCall, moment: datetime | None = None) -> str:
    """A ringing call nobody answered within its Timeout is 'no-answer', as on Twilio."""
    if placed.status == RINGING and placed.created_at + timedelta(seconds=placed.timeout_s) < (moment or utcnow()):
        return "no-answer"
    return placed.status


def fetch_call(sid: str, path: str) -> tuple[int, dict]:
    known = call_status(sid)
    if known is None:
        raise not_found(path)
    status, direction = known
    return 200, shapes.call_resource(account_sid(), sid, call_parties(sid), status=status, direction=direction)


def call_parties(sid: str) -> dict:
    placed = placed_call(sid)
    if placed is not None:
        return {"To": placed.to_phone, "From": placed.from_phone}
    inbound = db.session.scalar(select(Call).where(Call.sid == sid))
    if inbound is None:
        return {}
    return {"To": inbound.called or shapes.DEFAULT_TO, "From": inbound.caller or "anonymous"}


def update_call(entry: DevTwilioRequest, sid: str, form: dict, path: str) -> tuple[int, dict]:
    """Redirect (Url or Twiml) or end (Status) a live call, as calls(sid).update does."""
    known = call_status(sid)
    if known is None:
        raise not_found(path)
    status, direction = known
    new_status = form.get("Status")
    if new_status is not None and new_status not in ENDING_STATUSES:
        raise TwilioError(400, 21218, f"Invalid Status: {new_status!r} (completed or canceled)")
    live = status in {"in-progress", RINGING}
    if new_status is not None:
        entry.action = "hangup" if live else "none"  # ending an ended call changes nothing
        if live:
            status = "canceled" if status == RINGING else "completed"
            end_placed_call(sid, status)
    elif "Url" in form or "Twiml" in form:
        if not live or status == RINGING:
            raise TwilioError(400, 21220, "Call is not in-progress. Cannot redirect.")
        if "Url" in form:
            check_url(form["Url"], "Url")
            check_method(form.get("Method", "POST"))
            entry.action = "redirect"
        else:
            check_twiml(form["Twiml"])
            entry.action = "twiml"
    else:
        entry.action = "none"
    return 200, shapes.call_resource(account_sid(), sid, call_parties(sid), status=status, direction=direction)


def end_placed_call(sid: str, status: str) -> None:
    db.session.execute(
        update(DevTwilioCall)
        .where(DevTwilioCall.sid == sid, DevTwilioCall.ended_at.is_(None))
        .values(status=status, ended_at=utcnow())
    )


def check_url(value: str, name: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise TwilioError(400, 21205, f"{name} is not a valid URL: {value}")


def check_twiml(value: str) -> None:
    """TwiML given by REST must be a <Response> document, as Twilio parses it."""
    try:
        root = ET.fromstring(value)
    except ET.ParseError:
        raise TwilioError(400, 12100, "Document parse failure") from None
    if root.tag != "Response":
        raise TwilioError(400, 12100, "Document parse failure")


def check_method(value: str) -> None:
    if value.upper() not in {"GET", "POST"}:
        raise TwilioError(400, 21207, f"Method is not valid: {value} (GET or POST)")


def create_call(entry: DevTwilioRequest, form: dict) -> tuple[int, dict]:
    """calls.create: the call rings on the simulator page until answered, declined or timed out."""
    if not form.get("To"):
        raise TwilioError(400, 21201, "No 'To' number is specified")
    if not form.get("From"):
        raise TwilioError(400, 21213, "No 'From' number is specified")
    if not form.get("Url") and not form.get("Twiml"):
        raise TwilioError(400, 21205, "Url parameter is required.")
    if form.get("Url"):
        check_url(form["Url"], "Url")
        check_method(form.get("Method", "POST"))
    if form.get("StatusCallback"):
        check_url(form["StatusCallback"], "StatusCallback")
    try:
        timeout = max(5, min(int(form.get("Timeout", DEFAULT_RING_S)), MAX_RING_S))
    except ValueError:
        raise TwilioError(400, 21207, "Timeout must be a whole number of seconds") from None
    placed = DevTwilioCall(
        sid=shapes.new_sid("CA"),
        to_phone=form["To"][:32],
        from_phone=form["From"][:32],
        url=form.get("Url"),
        method=form.get("Method", "POST").upper(),
        twiml=form.get("Twiml"),
        status_callback=form.get("StatusCallback"),
        timeout_s=timeout,
        status=RINGING,
        created_at=utcnow(),
    )
    db.session.add(placed)
    entry.call_sid = entry.resource_sid = placed.sid
    return 201, shapes.call_resource(
        account_sid(), placed.sid, form, status="queued", direction="outbound-api", created=placed.created_at
    )


# --- conferences and their participants ----------------------------------------------------


def conference_sid(name_or_sid: str) -> str:
    """A conference's sid: as given, or one that its friendly name always gives (no state kept)."""
    if re.fullmatch(r"CF[0-9a-fA-F]{32}", name_or_sid):
        return name_or_sid
    return "CF" + hashlib.sha256(name_or_sid.encode()).hexdigest()[:32]


def add_participant(entry: DevTwilioRequest, conference: str, form: dict) -> tuple[int, dict]:
    """participants.create: a new leg, answered at once (as the simulator treats <Dial>)."""
    if not form.get("To") or not form.get("From"):
        raise TwilioError(400, 21201, "No 'To' or 'From' number is specified")
    for name in ("StatusCallback", "WaitUrl"):
        if form.get(name):
            check_url(form[name], name)
    placed = DevTwilioCall(
        sid=shapes.new_sid("CA"),
        to_phone=form["To"][:32],
        from_phone=form["From"][:32],
        status_callback=form.get("StatusCallback"),
        status="in-progress",
        created_at=utcnow(),
        answered_at=utcnow(),
    )
    db.session.add(placed)
    sid = conference_sid(conference)
    entry.call_sid = entry.resource_sid = placed.sid
    entry.action = "add"
    state = shapes.participant_changes(form)
    return 201, shapes.participant_resource(account_sid(), sid, placed.sid, state, status="queued")


def change_participant(entry: DevTwilioRequest, conference: str, key: str, form: dict, path: str) -> tuple[int, dict]:
    """participants(sid).update (hold, muted, coaching...) or .delete, of a live leg or caller."""
    known = call_status(key)
    if known is None or known[0] != "in-progress":
        raise TwilioError(404, 20404, f"The requested resource {path} was not found")
    entry.call_sid = key
    if request.method == "DELETE":
        entry.action = "remove"
        end_placed_call(key, "completed")
        return 204, {}
    changes = shapes.participant_changes(form)
    if "HoldUrl" in form:
        check_url(form["HoldUrl"], "HoldUrl")
    entry.action = next((name for name in ("hold", "muted", "coaching") if name in changes), "update")
    return 200, shapes.participant_resource(account_sid(), conference, key, changes)


# --- messages -----------------------------------------------------------------------------


def create_message(entry: DevTwilioRequest, form: dict) -> tuple[int, dict]:
    if not form.get("To"):
        raise TwilioError(400, 21604, "A 'To' phone number is required.")
    if not form.get("From") and not form.get("MessagingServiceSid"):
        raise TwilioError(400, 21603, "A 'From' phone number is required.")
    if not form.get("Body") and not form.get("MediaUrl"):
        raise TwilioError(400, 21602, "Message body is required.")
    entry.resource_sid = shapes.new_sid("SM")
    return 201, shapes.message_resource(account_sid(), entry.resource_sid, form, created=utcnow())


def list_messages(query: dict) -> dict:
    """Messages made so far, newest first, optionally to one number, one page."""
    try:
        size = max(1, min(int(query.get("PageSize", "50")), MAX_PAGE_SIZE))
    except ValueError:
        raise TwilioError(400, 21207, "PageSize must be a whole number") from None
    rows = db.session.scalars(
        select(DevTwilioRequest)
        .where(DevTwilioRequest.operation == "messages.create", DevTwilioRequest.status_code == 201)
        .order_by(DevTwilioRequest.id.desc())
    )
    to = query.get("To")
    messages = [
        shapes.message_resource(account_sid(), row.resource_sid, row.form or {}, created=row.received_at)
        for row in rows
        if to is None or (row.form or {}).get("To") == to
    ]
    return shapes.message_page(account_sid(), messages, size)


# --- what the call simulator reads -------------------------------------------------------


def pending_update(call_sid: str, after_id: int = 0) -> DevTwilioRequest | None:
    """The oldest accepted calls(sid).update after `after_id` that changes the call."""
    return db.session.scalar(
        select(DevTwilioRequest)
        .where(
            DevTwilioRequest.call_sid == call_sid,
            DevTwilioRequest.id > after_id,
            DevTwilioRequest.operation == "calls.update",
            DevTwilioRequest.status_code == 200,
            DevTwilioRequest.action.in_(("redirect", "twiml", "hangup")),
        )
        .order_by(DevTwilioRequest.id)
        .limit(1)
    )


def ringing_calls(limit: int = 5) -> list[DevTwilioCall]:
    """Placed calls still ringing (queued, not yet timed out), oldest first."""
    moment = utcnow()
    rows = db.session.scalars(
        select(DevTwilioCall)
        .where(DevTwilioCall.status == RINGING, DevTwilioCall.created_at >= moment - timedelta(seconds=MAX_RING_S))
        .order_by(DevTwilioCall.id)
        .limit(50)
    )
    return [row for row in rows if placed_status(row, moment) == RINGING][:limit]


def pick_up(sid: str) -> DevTwilioCall | None:
    """The simulator answers a ringing call; None when it stopped ringing (or another tab won)."""
    placed = placed_call(sid)
    if placed is None or placed_status(placed) != RINGING:
        return None
    result = db.session.execute(
        update(DevTwilioCall)
        .where(DevTwilioCall.id == placed.id, DevTwilioCall.status == RINGING)
        .values(status="in-progress", answered_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    db.session.refresh(placed)
    return placed


def hang_up_placed(sid: str, status: str = "completed") -> DevTwilioCall | None:
    """A placed call ends (the callee hung up or declined); the row, or None if not placed here."""
    placed = placed_call(sid)
    if placed is None:
        return None
    end_placed_call(sid, status)
    db.session.commit()
    db.session.refresh(placed)
    return placed
