"""Live events from the web tier to the consoles' streams: Redis pub/sub, or in-process.

With REDIS_URL set, every web node publishes to and listens on one Redis channel, so an
event raised by the IVR on one node reaches streams held open on every other node. In
the embedded default (no Redis) an in-process broker does the same within one process.
Publishing never raises: a caller's webhook must not fail because a console is deaf.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from typing import Iterator

from flask import current_app

log = logging.getLogger(__name__)


class InProcessBroker:
    def __init__(self):
        self._lock = threading.Lock()
        self._subscribers: set[queue.Queue] = set()

    def publish(self, message: str) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for inbox in subscribers:
            try:
                inbox.put_nowait(message)
            except queue.Full:  # a stuck stream loses events, not the publisher
                pass

    def listen(self, timeout: float) -> "Subscription":
        inbox: queue.Queue = queue.Queue(maxsize=1000)
        with self._lock:
            self._subscribers.add(inbox)
        return Subscription(lambda t: _get(inbox, t), lambda: self._drop(inbox), timeout)

    def _drop(self, inbox) -> None:
        with self._lock:
            self._subscribers.discard(inbox)

    def healthy(self) -> bool:
        return True


def _get(inbox: queue.Queue, timeout: float) -> str | None:
    try:
        return inbox.get(timeout=timeout)
    except queue.Empty:
        return None


class BrokerDown(RuntimeError):
    """Redis failed a moment ago; publishing is skipped until the pause is over."""


class RedisBroker:
    # After a failure, skip publishing for a few seconds: a Redis that swallows
    # connections must not add its connect timeout to every caller's webhook.
    PAUSE_AFTER_FAILURE_S = 5.0

    def __init__(self, url: str, channel: str):
        import redis

        self.channel = channel
        self.redis = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
        self._down_until = 0.0

    def publish(self, message: str) -> None:
        if time.monotonic() < self._down_until:
            raise BrokerDown("live events paused after a Redis failure")
        try:
            self.redis.publish(self.channel, message)
        except Exception:
            self._down_until = time.monotonic() + self.PAUSE_AFTER_FAILURE_S
            raise

    def listen(self, timeout: float) -> "Subscription":
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(self.channel)

        def receive(wait: float) -> str | None:
            item = pubsub.get_message(timeout=wait)
            if item is None or item.get("type") != "message":
                return None
            data = item["data"]
            return data.decode() if isinstance(data, bytes) else data

        return Subscription(receive, pubsub.close, timeout)

    def healthy(self) -> bool:
        try:
            return bool(self.redis.ping())
        except Exception:
            return False


class Subscription:
    """Messages as they come, and None every `timeout` seconds so a stream can send a keep-alive."""

    def __init__(self, receive, close, timeout: float):
        self._receive, self._close, self.timeout = receive, close, timeout

    def __iter__(self) -> Iterator[str | None]:
        try:
            while True:
                deadline = time.monotonic() + self.timeout
                message = None
                while message is None and time.monotonic() < deadline:
                    message = self._receive(max(0.05, deadline - time.monotonic()))
                yield message
        finally:
            self.close()

    def close(self) -> None:
        try:
            self._close()
        except Exception:
            pass


def broker():
    """The app's broker, made on first use (no connection at import or in the factory)."""
    app = current_app._get_current_object()
    found = app.extensions.get("hotline.broker")
    if found is None:
        url = app.config.get("REDIS_URL")
        found = RedisBroker(url, app.config["LIVE_CHANNEL"]) if url else InProcessBroker()
        app.extensions["hotline.broker"] = found
    return found


def publish(event_type: str, payload: dict | None = None) -> bool:
    """Send one event to every console stream; False (and a log line) when it could not."""
    message = json.dumps({"type": event_type, "at": time.time(), **(payload or {})}, default=str)
    try:
        broker().publish(message)
        return True
    except Exception:
        log.warning("live event %s not published (broker unreachable)", event_type)
        return False


def publish_agents_changed() -> bool:
    return publish("agents")
