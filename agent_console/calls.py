"""The agent's queue page: waiting calls live, presence, the call in hand, and taking a call."""

from __future__ import annotations

import json
import time

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from agent_console import bp
from agent_console.access import agent_required, client_address, officer_required
from agent_console.forms import ActionForm
from agent_console.labels import LABELS
from agent_console.presence import state_of
from agent_console.streams import KEEPALIVE, event_stream, live_down, sse_event, subscribe
from domain.calls.agent import Take, call_in_hand, take_call as take
from domain.calls.offers import route_after_change
from domain.calls.queue import QUEUE_EVENT, offer_mode, snapshot
from domain.clock import utcnow
from domain.live import broker
from domain.staff.presence import day_figures
from extensions import db
from models import Role


def js_strings() -> dict:
    """The words console.js shows, in the agent's language (the JS holds no text of its own)."""
    return {
        "languages": {code: str(name) for code, name in LABELS["language"].items()},
        "found": _("Found"),
        "not_found": _("Not found"),
        "not_looked_up": _("Not looked up"),
        "withheld": _("Withheld number"),
        "take": _("Take"),
        "taking": _("Taking…"),
        "empty": _("No callers are waiting."),
        "live": _("Live"),
        "connecting": _("Connecting…"),
        "offline": _("Not live"),
        "down": _("Live updates are down. The queue is refreshed every few seconds instead."),
        "busy": _("Wrap up the call you have before taking another."),
        "take_failed": _("The call could not be taken. Please try again."),
        "no_connection": _("The console cannot reach the server. Check the network connection."),
        "signed_out_short": _("Signed out"),
        "signed_out": _("You have been signed out. Reload the page to log in again."),
        "offered_elsewhere": _("Offered to an agent"),
    }


@bp.get("/")
@officer_required
def home():
    """Each role's start page: an officer's complaints inbox, the agents' queue for the others."""
    if current_user.role is Role.officer:
        return redirect(url_for("console.complaints"))
    now = utcnow()
    return render_template(
        "console/home.html",
        action_form=ActionForm(),
        in_hand=call_in_hand(current_user),
        queue=snapshot(now),
        strings=js_strings(),
        my_state=state_of(current_user, now),
        day=day_figures(current_user, now),
        offer_mode=offer_mode(),
    )


@bp.get("/queue.json")
@agent_required
def queue_json():
    """The snapshot for browsers whose live stream is down; `live` says whether to retry it."""
    data = snapshot()
    data["live"] = broker().healthy()
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the live stream (Server-Sent Events) ---------------------------------------------


def sse(message: str) -> str:
    """One published message as an SSE event named by its type ('queue', 'agents', ...)."""
    try:
        event = json.loads(message).get("type", "message")
    except (ValueError, AttributeError):
        return ""
    return sse_event(event, message)


@bp.get("/stream")
@agent_required
def stream():
    """The current queue at once, then every change; a keep-alive when nothing happens."""
    subscription = subscribe(current_app.config["SSE_KEEPALIVE_S"], name="live")
    if subscription is None:
        return live_down()
    first = json.dumps({"type": QUEUE_EVENT, "at": time.time(), **snapshot()})
    db.session.close()  # hold no database connection while the stream stays open
    return event_stream(
        subscription,
        sse(first),
        lambda message: KEEPALIVE if message is None else sse(message),
        name="live",
        presence=True,  # an agent with the console open is seen without the heartbeat POST
    )


# --- taking a call ----------------------------------------------------------------------


def wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def taken(call_id: int):
    target = url_for("console.call", call_id=call_id)
    if wants_json():
        return jsonify(ok=True, url=target)
    return redirect(target, code=303)


def refused(status: int, reason: str, message: str):
    if wants_json():
        return jsonify(ok=False, reason=reason, message=message), status
    flash(message, "error")
    return redirect(url_for("console.home"), code=303)


# What the agent is told when a take did not work: HTTP status, reason code, message.
REFUSALS = {
    Take.not_queued: (404, "unknown", lambda: _("This call is not in the queue.")),
    Take.busy: (409, "busy", lambda: _("Wrap up the call you have before taking another.")),
    Take.other_agent: (409, "taken", lambda: _("Another agent took this call.")),
    Take.not_offered: (409, "not_offered", lambda: _("This caller is not offered to you any more.")),
    Take.caller_left: (410, "gone", lambda: _("The caller hung up.")),
    Take.caller_gone: (410, "gone", lambda: _("The caller hung up before the call could be connected.")),
    Take.failed: (
        502,
        "failed",
        lambda: _("The telephone service did not answer. The call is back in the queue; please try again."),
    ),
}


@bp.post("/calls/<int:call_id>/take")
@agent_required
def take_call(call_id: int):
    """Claim the call (one agent wins), then have Twilio move it from the queue to this agent."""
    outcome = take(call_id, current_user, address=client_address())
    if outcome is Take.taken:
        return taken(call_id)
    if outcome is Take.failed:
        route_after_change()  # the caller waits again: offered anew
    status, reason, message = REFUSALS[outcome]
    return refused(status, reason, message())
