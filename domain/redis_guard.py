"""Redis as web requests use it: short timeouts, and one breaker per process.

A Redis that is alive but silent (SIGSTOP, a stuck host, a full disk) accepts connections
and never answers: every command waits out its socket timeout. Web requests reach Redis
through `web_redis()` only, whose client waits REDIS_WEB_TIMEOUT_MS at most (to connect,
and for each answer). After a failure the breaker skips Redis for REDIS_WEB_PAUSE_S, so a
caller's webhook pays that timeout at most once per pause, not on every enqueue, publish
and login. When the pause is over one request tries Redis again (the others go on
skipping until it has an answer); if Redis answers, everyone uses it again.

Its users, each with what happens meanwhile:
- jobs.enqueue (SMS, imports): False, the row stays pending and the outbox sweep enqueues it;
- domain.live (publish, the streams' subscription, queue.json's `live`): events are not
  sent, streams are refused or end with "down", consoles poll;
- domain.staff.login_throttle: each process counts logins alone.
Workers keep their own, longer timeouts (jobs.redis_connection) and the same breaker.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

import redis
from flask import current_app

log = logging.getLogger(__name__)
T = TypeVar("T")

# What says Redis is not answering (as opposed to an error of a command it did answer).
UNANSWERED = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class RedisPaused(redis.exceptions.ConnectionError):
    """Redis is skipped for a few more seconds after a failure: nothing was sent."""


class RedisGuard:
    """A circuit breaker: closed (use Redis), paused after a failure, then one probe."""

    def __init__(self, pause_s: float, clock: Callable[[], float] = time.monotonic):
        self.pause_s = pause_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failed = False  # the last answer was none: paused, or waiting for a probe
        self._paused_until = 0.0
        self._probe_until = 0.0  # a probe is out until then (or until it has its answer)

    def paused(self) -> bool:
        """Whether Redis is skipped now (without taking the probe's turn)."""
        with self._lock:
            return self._failed and (self._clock() < self._paused_until or self._clock() < self._probe_until)

    def _admit(self) -> bool:
        with self._lock:
            if not self._failed:
                return True
            now = self._clock()
            if now < self._paused_until or now < self._probe_until:
                return False
            self._probe_until = now + self.pause_s  # this caller probes; the others skip
            return True

    def succeeded(self) -> None:
        with self._lock:
            recovered = self._failed
            self._failed, self._probe_until = False, 0.0
        if recovered:
            log.info("Redis answers again: web requests use it again")

    def failed(self, what: str, error: BaseException | str) -> None:
        with self._lock:
            self._failed = True
            self._paused_until = self._clock() + self.pause_s
            self._probe_until = 0.0
        log.warning("Redis did not answer (%s: %s); web requests skip it for %.0f s", what, error, self.pause_s)

    def _release(self) -> None:
        with self._lock:
            self._probe_until = 0.0

    def call(self, what: str, operation: Callable[..., T], *args, **kwargs) -> T:
        """`operation(*args, **kwargs)` unless Redis is paused (RedisPaused: a ConnectionError)."""
        if not self._admit():
            raise RedisPaused(f"{what}: Redis is skipped for a few seconds after a failure")
        try:
            result = operation(*args, **kwargs)
        except UNANSWERED as error:
            self.failed(what, error)
            raise
        except redis.exceptions.RedisError:
            self.succeeded()  # an error of the command's own: Redis did answer
            raise
        except BaseException:
            self._release()  # no answer either way (e.g. the request itself was cut off)
            raise
        self.succeeded()
        return result


@dataclass
class WebRedis:
    """One app's Redis at one URL, as web requests use it."""

    client: redis.Redis
    guard: RedisGuard


def web_redis(url: str | None = None, app=None) -> WebRedis:
    """The client and breaker for `url` (REDIS_URL by default), made on first use, one per process."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    url = url or app.config["REDIS_URL"]
    found = app.extensions.setdefault("hotline.redis_web", {})
    if url not in found:
        timeout_s = app.config["REDIS_WEB_TIMEOUT_MS"] / 1000
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
        found[url] = WebRedis(client, RedisGuard(app.config["REDIS_WEB_PAUSE_S"]))
    return found[url]


def redis_guard(url: str | None = None, app=None) -> RedisGuard:
    return web_redis(url, app).guard
