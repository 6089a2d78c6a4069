"""The supervisors' wallboard: big numbers for a wall screen, kept live over Server-Sent Events,
and under them the agents on a call with the supervise controls (agent_console/supervise.py).

The wallboard listens to the same live broker as the agents' queue. Any queue or agent
event, and at least every WALLBOARD_REFRESH_S seconds (calls enter and leave the IVR
without an event), it recounts and sends the whole snapshot: numbers only, never a
caller or a letter, so its stream is safe to leave open on a screen in the hall.
"""

from __future__ import annotations

import json
import time

from flask import current_app, jsonify, render_template
from flask_babel import gettext as _

from agent_console import bp
from agent_console.access import supervisor_required
from agent_console.streams import event_stream, live_down, sse_event, subscribe
from agent_console.supervise import agents_on_calls
from domain.live import broker
from domain.reporting.wallboard import wallboard_snapshot
from extensions import db

WALLBOARD_EVENT = "wallboard"


def js_strings() -> dict:
    """The words wallboard.js shows, in the supervisor's language."""
    return {
        "live": _("Live"),
        "connecting": _("Connecting…"),
        "offline": _("Not live"),
        "down": _("Live updates are down. The figures are refreshed every few seconds instead."),
        "frozen": _("The server cannot be reached: these figures are frozen as they were at %(time)s.", time="{time}"),
    }


def counted() -> dict:
    """A fresh snapshot, without keeping a database connection while the stream waits."""
    try:
        return wallboard_snapshot()
    finally:
        db.session.close()


def sse(snapshot: dict) -> str:
    return sse_event(WALLBOARD_EVENT, json.dumps({"type": WALLBOARD_EVENT, "at": time.time(), **snapshot}))


@bp.get("/wallboard")
@supervisor_required
def wallboard():
    return render_template(
        "console/wallboard.html",
        board=wallboard_snapshot(),
        strings=js_strings(),
        alert_after_s=current_app.config["SERVICE_LEVEL_SECONDS"],
        on_calls=agents_on_calls(),
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
    """The figures at once, then recounted on every event and at least every WALLBOARD_REFRESH_S."""
    subscription = subscribe(current_app.config["WALLBOARD_REFRESH_S"], name="wallboard")
    if subscription is None:
        return live_down()
    return event_stream(subscription, sse(counted()), lambda _message: sse(counted()), name="wallboard")
