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
    """Fans messages out to the streams of this process, each with an inbox of its own."""

    def __init__(self):
        self._lock = threading.Lock()
        self._subscribers: set[queue.Queue] = set()

    def publish(self, message) -> None:
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

    @property
    def listeners(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def healthy(self) -> bool:
        return True


# Put in every local inbox when the Redis subscription is lost: each stream then ends with
# a "down" event and the browser falls back to polling.
_BROKER_LOST = object()


def _get(inbox: queue.Queue, timeout: float) -> str | None:
    try:
        message = inbox.get(timeout=timeout)
    except queue.Empty:
        return None
    if message is _BROKER_LOST:
        raise BrokerDown("the live events' Redis subscription was lost")
    return message


class BrokerDown(RuntimeError):
    """The live events' Redis subscription was lost, or could not be made."""


class RedisBroker:
    """Redis pub/sub between web nodes, with ONE subscription per process.

    A listener thread (a greenlet under gevent workers) holds the process's subscription
    and hands each message to the local streams' inboxes, so 200 agents' consoles cost
    Redis a connection per worker process, not one per browser, and a message is read
    and decoded once per process. The listener starts with the first stream and stops
    after the last one closes.

    Every use goes through the process's Redis breaker (domain.redis_guard): short
    timeouts, and after a failure publishing and subscribing are skipped for a few
    seconds, so a Redis that swallows connections costs a caller's webhook its timeout
    at most once per pause. A frozen Redis sends nothing, which a listener cannot tell
    from a quiet channel: so the listener PINGs every `ping_s`, and a PING unanswered
    for twice that long counts as the subscription lost (the streams end with "down").
    """

    POLL_S = 0.5  # how often the listener looks whether any stream is left

    def __init__(self, client, guard, channel: str, ping_s: float = 1.0):
        self.channel = channel
        self.redis = client
        self.guard = guard
        self.ping_s = ping_s
        self._local = InProcessBroker()
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None

    def publish(self, message: str) -> None:
        self.guard.call("live event", self.redis.publish, self.channel, message)

    def listen(self, timeout: float) -> "Subscription":
        """A stream's subscription; raises when Redis cannot be subscribed to now.

        When this returns, the process is subscribed: a message published afterwards
        reaches the stream (so a snapshot read next misses nothing).
        """
        subscription = self._local.listen(timeout)
        try:
            self._start_listener()
        except Exception:
            subscription.close()
            raise
        return subscription

    def _start_listener(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            pubsub = self.guard.call("live subscription", self._subscribe)
            self._listener = threading.Thread(target=self._relay, args=(pubsub,), daemon=True, name="live-events")
            self._listener.start()

    def _subscribe(self):
        import redis

        pubsub = self.redis.pubsub()
        try:
            pubsub.subscribe(self.channel)
            # Redis confirms at once; waiting as long as any other answer (the client's timeout).
            timeout_s = self.redis.get_connection_kwargs().get("socket_timeout") or 1.0
            confirmed = pubsub.get_message(timeout=timeout_s)
            if not confirmed or confirmed.get("type") != "subscribe":
                raise redis.exceptions.TimeoutError("Redis did not confirm the subscription")
        except Exception:
            pubsub.close()
            raise
        return pubsub

    def _relay(self, pubsub) -> None:
        """Hand every message to the local streams until none is left or Redis fails."""
        pinged_at = time.monotonic()
        unanswered_since: float | None = None
        try:
            while True:
                item = pubsub.get_message(timeout=self.POLL_S)
                now = time.monotonic()
                if item is not None:
                    unanswered_since = None  # Redis is answering
                    if item.get("type") == "message":
                        data = item["data"]
                        self._local.publish(data.decode() if isinstance(data, bytes) else data)
                if unanswered_since is not None and now - unanswered_since > 2 * self.ping_s:
                    raise BrokerDown(f"no answer to a PING in {now - unanswered_since:.1f} s")
                if unanswered_since is None and now - pinged_at >= self.ping_s:
                    pubsub.ping()
                    pinged_at = unanswered_since = now
                if not self._local.listeners:
                    with self._lock:  # a stream that starts now finds no listener and starts one
                        if not self._local.listeners:
                            self._listener = None
                            return
        except Exception as error:
            log.warning("live events: the Redis subscription was lost (%s)", error)
            self.guard.failed("live subscription", error)  # webhooks skip Redis at once, too
            with self._lock:
                self._local.publish(_BROKER_LOST)
                self._listener = None
        finally:
            try:
                pubsub.close()
            except Exception:
                pass

    def healthy(self) -> bool:
        """Whether Redis answers now (at once False while the breaker skips it)."""
        try:
            return bool(self.guard.call("live health", self.redis.ping))
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
        if url:
            from domain.redis_guard import web_redis

            web = web_redis(url, app)
            found = RedisBroker(web.client, web.guard, app.config["LIVE_CHANNEL"], app.config["LIVE_PING_S"])
        else:
            found = InProcessBroker()
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


CALL_EVENT = "call"  # one call's state changed (taken, dialled, missed, hung up): its call screen reads it again


def publish_call_changed(call_id: int) -> bool:
    return publish(CALL_EVENT, {"call_id": call_id})
