"""The simulator's development page and the JSON API it calls to play the IVR.

The server keeps no call state: the page sends back the call SID, the caller and the
action URL of the waiting <Gather> (or <Enqueue>, or <Dial>), and each request signs and
forwards one webhook. What the app asked Twilio's REST API to do to a call (an agent took
it, a callback was placed) is read from the development Twilio stand-in's records.
"""

from __future__ import annotations

import math
import re

from flask import abort, current_app, jsonify, render_template, request, url_for
from sqlalchemy import select

import extensions
from domain.clock import utcnow
from extensions import db
from models import Call, CallOffer, DevTwilioCall, DevTwilioRequest, EmailMessage, User
from simulator import bp, conference as conference_follow, twilio_api
from simulator.engine import (
    DEFAULT_CALLER,
    OUTBOUND_API,
    WITHHELD_CALLER,
    Dial,
    FlaskTransport,
    Gather,
    QueueEntry,
    SimulatedCall,
    SimulatedTurn,
    SimulatorError,
    Speech,
    public_path,
)

DEVELOPMENT_ENVS = {"development", "testing"}
CALL_SID = re.compile(r"CA[0-9a-f]{32}")
CALLER = re.compile(r"\+?[0-9]{3,15}")
# A path on the IVR only: the page must not make the server sign requests for anything else.
IVR_PATH = re.compile(r"/ivr/[A-Za-z0-9/_.-]*(\?[A-Za-z0-9=&_.%+-]*)?")
KEYS = re.compile(r"[0-9*#]{0,64}")
FINISH_KEYS = {"", "#", "*", *"0123456789"}
MAX_URL_LENGTH = 500
MAX_DURATION_S = 24 * 3600
MAX_REQUEST_ID = 2**62
# What the page may say about how the agent's leg ended (Twilio's DialCallStatus values).
DIAL_STATUSES = {"completed", "no-answer", "busy", "failed"}


class InvalidBody(ValueError):
    """The page (or someone else) posted JSON the API cannot use: answered with 400."""


@bp.record_once
def exempt_from_csrf(state) -> None:
    # JSON-only endpoints: a cross-site form cannot send application/json without a CORS
    # preflight, and the blueprint only exists in development and testing. The shared
    # CSRFProtect is asked too, in case the factory binds it after the blueprints.
    for csrf in {
        id(c): c for c in (state.app.extensions.get("csrf"), getattr(extensions, "csrf", None)) if c is not None
    }.values():
        csrf.exempt(bp)


@bp.before_request
def development_only():
    """A second lock besides the factory: this page signs requests as Twilio."""
    if current_app.config.get("APP_ENV") not in DEVELOPMENT_ENVS:
        abort(404)


@bp.errorhandler(InvalidBody)
def invalid_body(error: InvalidBody):
    return jsonify(error=str(error)), 400


@bp.errorhandler(SimulatorError)
def ivr_failed(error: SimulatorError):
    # The IVR (not this API) answered something Twilio could not play.
    return jsonify(error=str(error)), 502


@bp.get("/")
def page():
    return render_template(
        "simulator/index.html",
        default_caller=DEFAULT_CALLER,
        console_url=url_for("console.home"),
        routing_mode=current_app.config["ROUTING_MODE"],
        mail_url=url_for("simulator.mail"),
    )


@bp.post("/api/start")
def start():
    body = json_body()
    call = SimulatedCall(transport(), caller_field(body, required=False))
    return turn_json(call, call.start())


@bp.post("/api/press")
def press():
    body = json_body()
    gather = Gather(
        action_url=ivr_path(body, "action_url"),
        num_digits=optional_int(body, "num_digits", 1, 64),
        finish_on_key=choice(body, "finish_on_key", FINISH_KEYS, default="#"),
    )
    digits = matching(body, "digits", KEYS, "only the digits 0-9, * and # (at most 64)")
    call = SimulatedCall.resume(transport(), sid=call_sid(body), caller=caller_field(body), gather=gather)
    return turn_json(call, call.press(digits))


@bp.post("/api/hangup")
def hang_up():
    body = json_body()
    queue_action = ivr_path(body, "queue_action_url", required=False)
    queue = QueueEntry(name="", wait_url=None, action_url=queue_action) if queue_action else None
    call = resume(body, queue=queue)
    duration = call.hang_up(duration=optional_int(body, "duration", 0, MAX_DURATION_S))
    twilio_api.hang_up_placed(call.sid)
    return jsonify(call_sid=call.sid, state="ended", duration=duration)


# --- what the REST API did to the call: an agent took it, the app hung up ----------------


@bp.get("/api/poll")
def poll():
    """Cheap, for the page to ask every second while it waits: has the app updated the call?"""
    sid = matching(request.args, "call_sid", CALL_SID, '"CA" and 32 lowercase hex digits')
    after = request_id(request.args.get("after", "0"), "after")
    update = twilio_api.pending_update(sid, after)
    return jsonify(call_sid=sid, update=update and update_json(update), offer=offer_json(sid))


def offer_json(sid: str) -> dict | None:
    """With routing by offer, the agent this waiting caller is offered to and the seconds they
    have left to accept (None: not offered, or routing from the list)."""
    if current_app.config["ROUTING_MODE"] != "offer":
        return None
    now = utcnow()
    row = db.session.execute(
        select(User.id, User.display_name, User.username, CallOffer.expires_at)
        .join(CallOffer, CallOffer.agent_id == User.id)
        .join(Call, Call.id == CallOffer.call_id)
        .where(Call.sid == sid, CallOffer.expires_at > now)
    ).first()
    if row is None:
        return None
    left = max(0, math.ceil((row.expires_at - now).total_seconds()))
    return {"agent_id": row.id, "agent": row.display_name or row.username, "expires_in_s": left}


@bp.post("/api/follow")
def follow():
    """Do what the recorded calls(sid).update asked, as Twilio would: redirect, TwiML or hang-up."""
    body = json_body()
    sid = call_sid(body)
    update = db.session.get(DevTwilioRequest, request_id(body.get("update_id"), "update_id"))
    if (
        update is None
        or update.call_sid != sid
        or update.operation != "calls.update"
        or update.status_code != 200
        or update.action not in {"redirect", "twiml", "hangup"}
    ):
        raise InvalidBody("update_id must be an update the app made to this call")
    queue_action = ivr_path(body, "queue_action_url", required=False)
    queue = QueueEntry(name="", wait_url=None, action_url=queue_action) if queue_action else None
    call = resume(body, queue=queue, dial=dial_field(body))
    form = update.form or {}
    if update.action == "hangup":
        duration = call.end_by_api()
        twilio_api.hang_up_placed(sid)
        return jsonify(call_sid=sid, state="ended", duration=duration, update_id=update.id, by_api=True)
    if update.action == "twiml":
        turn = call.run_twiml(form.get("Twiml", ""))
    else:
        turn = call.redirect(form.get("Url", ""), form.get("Method", "POST"))
    return turn_json(call, turn, update_id=update.id)


@bp.post("/api/dial-ended")
def dial_ended():
    """The agent hung up (completed) or never answered: Twilio posts the <Dial action>."""
    body = json_body()
    status = choice(body, "dial_status", DIAL_STATUSES, default="completed")
    dial = dial_field(body) or Dial(targets=(), action_url=None)
    call = resume(body, dial=dial)
    turn = call.dial_ended(status, duration=optional_int(body, "duration", 0, MAX_DURATION_S))
    return turn_json(call, turn)


CONFERENCE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@bp.post("/api/conference")
def conference():
    """With CALL_CONFERENCES: do what the app asked Twilio to do to the caller's conference
    since `after` (ring legs in and answer them, hold, whisper...), as lines of the transcript."""
    body = json_body()
    dial = body.get("dial")
    if not isinstance(dial, dict):
        raise InvalidBody("dial must be the conference the caller is in")
    name = matching(dial, "conference", CONFERENCE_NAME, "a conference name")
    events_url = ivr_path(dial, "events_url", required=False)
    since = request_id(dial.get("since", 0), "dial.since")
    after = request_id(body.get("after", 0), "after")
    call = resume(body, dial=dial_field(body))
    followed = conference_follow.follow(call, name, events_url, since, after)
    return jsonify(
        call_sid=call.sid,
        last_id=followed.last_id,
        notes=[
            {"title": n.title, "text": n.text, "spoken": [speech_json(s) for s in n.spoken]} for n in followed.notes
        ],
        turn=followed.turn and turn_dict(call, followed.turn),
    )


# --- calls the app placed (calls.create): they ring here ----------------------------------


@bp.get("/api/incoming")
def incoming():
    """Calls placed through the stand-in that are still ringing, for the page to offer."""
    calls = [
        {
            "call_sid": placed.sid,
            "to": placed.to_phone,
            "from": placed.from_phone,
            "placed_at": placed.created_at.isoformat(),
        }
        for placed in twilio_api.ringing_calls()
    ]
    return jsonify(calls=calls)


@bp.post("/api/answer")
def answer():
    body = json_body()
    sid = call_sid(body)
    placed = twilio_api.pick_up(sid)
    if placed is None:
        return jsonify(error="This call is no longer ringing."), 409
    call = placed_call(placed)
    try:
        turn = call.answer(url=placed.url, twiml=placed.twiml)
    except SimulatorError:
        twilio_api.hang_up_placed(sid, "failed")
        raise
    return turn_json(call, turn)


@bp.post("/api/decline")
def decline():
    body = json_body()
    sid = call_sid(body)
    placed = twilio_api.placed_call(sid)
    if placed is None or twilio_api.placed_status(placed) != twilio_api.RINGING:
        return jsonify(error="This call is no longer ringing."), 409
    twilio_api.hang_up_placed(sid, "busy")
    placed_call(placed).decline("busy")
    return jsonify(call_sid=sid, state="ended")


# --- e-mail the app sent (or would have): development has no SMTP server ---------------------

MAIL_SHOWN = 50


def mail_rows(after: int = 0) -> list[EmailMessage]:
    """The latest e-mails of the outbox, newest first: sent, or kept `suppressed` (no SMTP_HOST)."""
    query = select(EmailMessage).where(EmailMessage.id > after).order_by(EmailMessage.id.desc()).limit(MAIL_SHOWN)
    return list(db.session.scalars(query))


@bp.get("/mail")
def mail():
    """What a citizen would have received by e-mail: the demo has no SMTP server, so the rows
    stay `suppressed` (with the reason) and are shown here instead."""
    return render_template("simulator/mail.html", messages=mail_rows(), simulator_url=url_for("simulator.page"))


@bp.get("/api/mail")
def mail_json():
    after = request_id(request.args.get("after", "0"), "after")
    return jsonify(
        messages=[
            {
                "id": message.id,
                "to": message.to_address,
                "subject": message.subject,
                "body": message.body,
                "language": message.language,
                "status": message.status.value,
                "reason": message.error,
                "created_at": message.created_at.isoformat(),
            }
            for message in mail_rows(after)
        ]
    )


def transport() -> FlaskTransport:
    return FlaskTransport(current_app._get_current_object())


def account_sid() -> str:
    return current_app.config.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32


def placed_options(placed: DevTwilioCall, public_base_url: str) -> dict:
    """The engine's view of a call the app placed: From the hotline, To the person rung."""
    callback = placed.status_callback
    return {
        "called": placed.to_phone,
        "direction": OUTBOUND_API,
        "account_sid": account_sid(),
        "status_callback": public_path(public_base_url, "/", callback) if callback else None,
    }


def placed_call(placed: DevTwilioCall) -> SimulatedCall:
    link = transport()
    return SimulatedCall(link, placed.from_phone, sid=placed.sid, **placed_options(placed, link.public_base_url))


def resume(body: dict, **state) -> SimulatedCall:
    """The call the page is playing, from what it sent back (and, for a placed call, the record)."""
    sid = call_sid(body)
    link = transport()
    placed = twilio_api.placed_call(sid)
    if placed is None:
        return SimulatedCall.resume(link, sid=sid, caller=caller_field(body), account_sid=account_sid(), **state)
    return SimulatedCall.resume(
        link, sid=sid, caller=placed.from_phone, **placed_options(placed, link.public_base_url), **state
    )


# --- reading the request ----------------------------------------------------------------


def json_body() -> dict:
    if not request.is_json:
        raise InvalidBody("send a JSON object with Content-Type: application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidBody("the body must be a JSON object")
    return body


def matching(body: dict, name: str, pattern: re.Pattern, what: str, required: bool = True):
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidBody(f"{name} must be {what}")
    return value


def request_id(value, name: str) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_REQUEST_ID:
        raise InvalidBody(f"{name} must be a whole number")
    return value


def dial_field(body: dict) -> Dial | None:
    """The <Dial> the call is in, as the page kept it: only its action URL matters here."""
    dial = body.get("dial")
    if dial is None:
        return None
    if not isinstance(dial, dict):
        raise InvalidBody("dial must be an object or null")
    return Dial(targets=(), action_url=ivr_path(dial, "action_url", required=False))


def call_sid(body: dict) -> str:
    return matching(body, "call_sid", CALL_SID, '"CA" and 32 lowercase hex digits')


def caller_field(body: dict, required: bool = True) -> str | None:
    """The caller's number; None (withheld) when `withheld` is true or caller is "anonymous"."""
    withheld = body.get("withheld", False)
    if not isinstance(withheld, bool):
        raise InvalidBody("withheld must be true or false")
    if withheld or body.get("caller") == WITHHELD_CALLER:
        return None
    if "caller" not in body and not required:
        return DEFAULT_CALLER
    return matching(body, "caller", CALLER, 'a phone number of 3 to 15 digits, or "anonymous"')


def ivr_path(body: dict, name: str, required: bool = True) -> str | None:
    value = matching(body, name, IVR_PATH, "a relative /ivr/ path", required=required)
    if value is not None and (len(value) > MAX_URL_LENGTH or "/../" in value or value.endswith("/..")):
        raise InvalidBody(f"{name} must be a relative /ivr/ path")
    return value


def optional_int(body: dict, name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    # bool is an int in Python; true is not a number of digits
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidBody(f"{name} must be a whole number from {low} to {high}, or null")
    return value


def choice(body: dict, name: str, allowed: set, default: str) -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str) or value not in allowed:
        raise InvalidBody(f"{name} must be one key (0-9, * or #) or empty")
    return value


# --- answering --------------------------------------------------------------------------


def speech_json(speech: Speech) -> dict:
    return {"kind": speech.kind, "text": speech.content, "language": speech.language}


def update_json(update: DevTwilioRequest) -> dict:
    form = update.form or {}
    return {
        "id": update.id,
        "action": update.action,
        "url": form.get("Url"),
        "method": form.get("Method", "POST"),
        "at": update.received_at.isoformat(),
    }


def turn_json(call: SimulatedCall, turn: SimulatedTurn, **extra):
    return jsonify(turn_dict(call, turn, **extra))


def dial_dict(dial: Dial) -> dict:
    conference = dial.conference
    since, agent, kind = conference_follow.joined_at(conference) if conference else (0, "", "")
    return {
        "action_url": dial.action_url,
        "timeout": dial.timeout,
        "targets": [{"kind": t.kind, "address": t.address} for t in dial.targets],
        # The caller waits in a conference: the page follows it from where they joined.
        "conference": conference,
        "events_url": dial.conference_events_url,
        "since": since,
        "agent": {"address": agent, "kind": kind} if conference else None,
    }


def turn_dict(call: SimulatedCall, turn: SimulatedTurn, **extra) -> dict:
    gather = turn.gather
    queue = turn.queue
    dial = turn.dial
    return dict(
        call_sid=call.sid,
        caller=call.caller,
        called=call.called,
        direction=call.direction,
        state=turn.state,
        digits=turn.digits,
        spoken=[speech_json(s) for s in turn.spoken],
        gather=gather
        and {
            "action_url": gather.action_url,
            "num_digits": gather.num_digits,
            "finish_on_key": gather.finish_on_key,
            "timeout": gather.timeout,
        },
        queue=queue
        and {
            "name": queue.name,
            "action_url": queue.action_url,
            "wait_url": queue.wait_url,
        },
        hold=[speech_json(s) for s in turn.hold],
        dial=dial and dial_dict(dial),
        **extra,
    )
