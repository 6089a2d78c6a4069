"""The supervisors' wallboard: big numbers for a wall screen, kept live over Server-Sent Events.

The wallboard listens to the same live broker as the agents' queue. Any queue or agent
event, and at least every WALLBOARD_REFRESH_S seconds (calls enter and leave the IVR
without an event), it recounts and sends the whole snapshot: numbers only, never a
caller or a letter, so its stream is safe to leave open on a screen in the hall.
"""
from __future__ import annotations

import json
import logging
import time

from flask import Response, current_app, jsonify, render_template, stream_with_context
from flask_babel import gettext as _

from agent_console import bp
from agent_console.access import supervisor_required
from domain.live import broker
from domain.reporting.wallboard import wallboard_snapshot
from extensions import db

log = logging.getLogger(__name__)
WALLBOARD_EVENT = "wallboard"
# The stream ends after this long and the browser reconnects (login and role checked again).
STREAM_MAX_S = 30 * 60
STREAM_RETRY_MS = 3000


def js_strings() -> dict:
    """The words wallboard.js shows, in the supervisor's language."""
    return {"live": _("Live"), "connecting": _("Connecting…"), "offline": _("Not live"),
            "down": _("Live updates are down. The figures are refreshed every few seconds instead.")}


def counted() -> dict:
    """A fresh snapshot, without keeping a database connection while the stream waits."""
    try:
        return wallboard_snapshot()
    finally:
        db.session.close()


def sse(snapshot: dict) -> str:
    message = json.dumps({"type": WALLBOARD_EVENT, "at": time.time(), **snapshot})
    return f"event: {WALLBOARD_EVENT}\ndata: {message}\n\n"


@bp.get("/wallboard")
@supervisor_required
def wallboard():
    return render_template(
        "console/wallboard.html", board=wallboard_snapshot(), strings=js_strings(),
        alert_after_s=current_app.config["SERVICE_LEVEL_SECONDS"],
    )


@bp.get("/wallboard.json")
@supervisor_required
def wallboard_json():
    """The snapshot for a browser whose live stream is down."""
    data = wallboard_snapshot()
    data["live"] = broker().healthy()  # as queue.json: whether the stream is worth retrying
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/wallboard/stream")
@supervisor_required
def wallboard_stream():
    try:
        # Subscribe before counting, so that no change falls between the two.
        subscription = broker().listen(current_app.config["WALLBOARD_REFRESH_S"])
    except Exception:
        log.warning("wallboard stream refused: the broker is unreachable")
        return jsonify(error="live_down", message=_("Live updates are down.")), 503
    first = counted()

    def events():
        started = time.monotonic()
        try:
            yield f"retry: {STREAM_RETRY_MS}\n\n"
            yield sse(first)
            for _message in subscription:  # an event, or None when the refresh interval passed
                if time.monotonic() - started > STREAM_MAX_S:
                    return
                yield sse(counted())
        except Exception:  # the broker or the database went away: the browser polls instead
            log.warning("wallboard stream ended early")
            yield 'event: down\ndata: {"type": "down"}\n\n'
        finally:
            subscription.close()

    return Response(
        stream_with_context(events()), mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
