"""The simulator's development page and the JSON API it calls to play the IVR.

The server keeps no call state: the page sends back the call SID, the caller and the
action URL of the waiting <Gather>, and each request signs and forwards one webhook.
"""
from __future__ import annotations

import re

from flask import abort, current_app, jsonify, render_template, request

import extensions
from simulator import bp
from simulator.engine import (
    DEFAULT_CALLER, WITHHELD_CALLER, FlaskTransport, Gather, QueueEntry, SimulatedCall,
    SimulatedTurn, SimulatorError, Speech,
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


class InvalidBody(ValueError):
    """The page (or someone else) posted JSON the API cannot use: answered with 400."""


@bp.record_once
def exempt_from_csrf(state) -> None:
    # JSON-only endpoints: a cross-site form cannot send application/json without a CORS
    # preflight, and the blueprint only exists in development and testing. The shared
    # CSRFProtect is asked too, in case the factory binds it after the blueprints.
    for csrf in {id(c): c for c in (state.app.extensions.get("csrf"),
                                   getattr(extensions, "csrf", None)) if c is not None}.values():
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
    return render_template("simulator/index.html", default_caller=DEFAULT_CALLER)


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
    call = SimulatedCall.resume(transport(), sid=call_sid(body), caller=caller_field(body),
                                gather=gather)
    return turn_json(call, call.press(digits))


@bp.post("/api/hangup")
def hang_up():
    body = json_body()
    queue_action = ivr_path(body, "queue_action_url", required=False)
    queue = QueueEntry(name="", wait_url=None, action_url=queue_action) if queue_action else None
    call = SimulatedCall.resume(transport(), sid=call_sid(body), caller=caller_field(body),
                                queue=queue)
    duration = call.hang_up(duration=optional_int(body, "duration", 0, MAX_DURATION_S))
    return jsonify(call_sid=call.sid, state="ended", duration=duration)


def transport() -> FlaskTransport:
    return FlaskTransport(current_app._get_current_object())


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


def turn_json(call: SimulatedCall, turn: SimulatedTurn):
    gather = turn.gather
    queue = turn.queue
    return jsonify(
        call_sid=call.sid,
        caller=call.caller,
        state=turn.state,
        digits=turn.digits,
        spoken=[speech_json(s) for s in turn.spoken],
        gather=gather and {
            "action_url": gather.action_url, "num_digits": gather.num_digits,
            "finish_on_key": gather.finish_on_key, "timeout": gather.timeout,
        },
        queue=queue and {
            "name": queue.name, "action_url": queue.action_url, "wait_url": queue.wait_url,
        },
        hold=[speech_json(s) for s in turn.hold],
    )
