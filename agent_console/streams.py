"""Server-Sent Events for the consoles: one shape for the agents' queue and the wallboard.

A stream opens a subscription to the live broker before its first snapshot (so no change
falls between the two), sends the reconnect delay and that snapshot, then one event per
tick of the subscription: a message, or None when its interval passed quietly. It ends
after STREAM_MAX_S and the browser reconnects by itself (EventSource does), so the login
and role are checked again and no request lives for days. When the broker goes away
mid-stream a "down" event tells the browser to poll instead. The session is checked again
on a tick at least SESSION_RECHECK_S after the last check: once the user logged out, was
deactivated or got a new password, an "ended" event closes the stream and the page
reloads (to the login page). A stream opened with `presence=True` (the agents' own) counts
as a heartbeat: the agent is seen while it is open, even if the page's heartbeat POST never
arrives, with at most one write per PRESENCE_HEARTBEAT_S per agent (`stream_seen`).
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from flask import Response, current_app, jsonify, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user

from domain.live import broker
from domain.staff.presence import stream_seen
from domain.staff.users import session_is_current
from extensions import db

log = logging.getLogger(__name__)
STREAM_MAX_S = 30 * 60
STREAM_RETRY_MS = 3000
KEEPALIVE = ": keep-alive\n\n"  # a comment line: keeps proxies from timing the stream out
DOWN = 'event: down\ndata: {"type": "down"}\n\n'
ENDED = 'event: ended\ndata: {"type": "ended"}\n\n'
SESSION_RECHECK_S = 5.0


def sse_event(event: str, data: str) -> str:
    return f"event: {event}\ndata: {data}\n\n"


def subscribe(interval_s: float, *, name: str):
    """A subscription whose ticks come at least every `interval_s`; None when the broker is down."""
    try:
        return broker().listen(interval_s)
    except Exception:
        log.warning("%s stream refused: the broker is unreachable", name)
        return None


def live_down():
    """The answer to a stream asked for while the broker is down: the browser polls instead."""
    return jsonify(error="live_down", message=_("Live updates are down.")), 503


def event_stream(
    subscription, first: str, next_event: Callable[[str | None], str], *, name: str, presence: bool = False
) -> Response:
    """`first`, then `next_event(message)` for each tick of `subscription`, until STREAM_MAX_S
    or until the session that opened it ends. With `presence`, the user is seen (a heartbeat)
    when it opens and on a tick at least PRESENCE_HEARTBEAT_S after the last time."""
    user_id, version = current_user.id, current_user.session_version
    seen_every_s = current_app.config["PRESENCE_HEARTBEAT_S"] if presence else None

    def events():
        started = checked = time.monotonic()
        seen = None

        def keep_seen(now: float) -> None:
            nonlocal seen
            if seen_every_s is not None and (seen is None or now - seen >= seen_every_s):
                seen = now
                stream_seen(user_id, seen_every_s)
                db.session.close()

        try:
            yield f"retry: {STREAM_RETRY_MS}\n\n"
            keep_seen(started)
            yield first
            for message in subscription:
                now = time.monotonic()
                if now - started > STREAM_MAX_S:
                    return
                # The event first, the database after: every open stream gets an event at the
                # same moment, and the checks due then would queue for the pool's connections
                # ahead of it. A session ended meanwhile gets at most this one event more.
                yield next_event(message)
                if now - checked >= SESSION_RECHECK_S:
                    checked = now
                    current = session_is_current(user_id, version)
                    db.session.close()  # hold no database connection between ticks
                    if not current:
                        yield ENDED
                        return
                keep_seen(now)  # after the session check: a signed-out page is not seen
        except Exception:  # the broker (or the database) went away mid-stream
            log.warning("%s stream ended early", name)
            yield DOWN
        finally:
            subscription.close()

    return Response(
        stream_with_context(events()),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
