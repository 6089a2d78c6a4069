"""The agent's queue page: waiting calls live, presence, the call in hand, and taking a call."""
from __future__ import annotations

import json
import logging
import time

from flask import (Response, current_app, flash, jsonify, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import gettext as _
from flask_login import current_user

from agent_console import bp
from agent_console.access import agent_required, client_address
from agent_console.forms import PresenceForm
from agent_console.labels import LABELS, label
from domain.calls.agent import (Redirect, call_in_hand, caller_left, claim, record_take,
                                redirect_to_agent, release)
from domain.audit import audit
from domain.clock import utcnow as now_utc
from domain.live import broker
from domain.calls.queue import QUEUE_EVENT, publish_queue, snapshot
from extensions import db
from models import Call

log = logging.getLogger(__name__)
# A stream ends after this long and the browser reconnects (EventSource does so by
# itself): the login and role are checked again, and no request lives for days.
STREAM_MAX_S = 30 * 60
STREAM_RETRY_MS = 3000


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
    }


@bp.get("/")
@agent_required
def home():
    presence = current_user.presence.value
    form = PresenceForm(presence=presence if presence in ("available", "away") else "available")
    return render_template(
        "console/home.html", presence_form=form, in_hand=call_in_hand(current_user),
        queue=snapshot(), strings=js_strings(), presence_label=label("presence", presence),
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
    return f"event: {event}\ndata: {message}\n\n"


@bp.get("/stream")
@agent_required
def stream():
    """The current queue at once, then every change; a comment line keeps proxies from timing out."""
    try:
        # Subscribe before reading the snapshot, so no change falls between the two.
        subscription = broker().listen(current_app.config["SSE_KEEPALIVE_S"])
    except Exception:
        log.warning("live stream refused: the broker is unreachable")
        return jsonify(error="live_down", message=_("Live updates are down.")), 503
    first = json.dumps({"type": QUEUE_EVENT, "at": time.time(), **snapshot()})
    db.session.close()  # hold no database connection while the stream stays open

    def events():
        started = time.monotonic()
        try:
            yield f"retry: {STREAM_RETRY_MS}\n\n"
            yield sse(first)
            for message in subscription:
                if message is not None:
                    yield sse(message)
                elif time.monotonic() - started > STREAM_MAX_S:
                    return
                else:
                    yield ": keep-alive\n\n"
        except Exception:  # the broker went away mid-stream: say so, the browser falls back
            log.warning("live stream ended: the broker is unreachable")
            yield 'event: down\ndata: {"type": "down"}\n\n'
        finally:
            subscription.close()

    return Response(
        stream_with_context(events()), mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# --- taking a call ----------------------------------------------------------------------

def wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def taken(call: Call):
    target = url_for("console.call", call_id=call.id)
    if wants_json():
        return jsonify(ok=True, url=target)
    return redirect(target, code=303)


def refused(status: int, reason: str, message: str):
    if wants_json():
        return jsonify(ok=False, reason=reason, message=message), status
    flash(message, "error")
    return redirect(url_for("console.home"), code=303)


@bp.post("/calls/<int:call_id>/take")
@agent_required
def take_call(call_id: int):
    """Claim the call (one agent wins), then have Twilio move it from the queue to this agent."""
    call = db.session.get(Call, call_id)
    if call is None or call.queued_at is None:
        return refused(404, "unknown", _("This call is not in the queue."))
    in_hand = call_in_hand(current_user)
    if in_hand is not None and in_hand.id != call.id:
        return refused(409, "busy", _("Wrap up the call you have before taking another."))
    if not claim(call.id, current_user, now_utc()):
        db.session.refresh(call)
        if call.agent_id == current_user.id:  # a second click on the same button
            return taken(call)
        if call.agent_id is not None:
            return refused(409, "taken", _("Another agent took this call."))
        if caller_left(call):
            return refused(410, "gone", _("The caller hung up."))
        return refused(409, "taken", _("Another agent took this call."))
    publish_queue()  # the other consoles drop the row now, not after Twilio answers
    db.session.refresh(call)
    result = redirect_to_agent(call)
    record_take(call, current_user, result.value)
    if result is Redirect.connected:
        audit(current_user, "take_call", target_type="call", target_id=call.id, address=client_address())
        db.session.commit()
        return taken(call)
    release(call.id, current_user.id, caller_gone=result is Redirect.caller_gone)
    publish_queue()
    if result is Redirect.caller_gone:
        return refused(410, "gone", _("The caller hung up before the call could be connected."))
    return refused(502, "failed", _("The telephone service did not answer. The call is back in the "
                                    "queue; please try again."))
