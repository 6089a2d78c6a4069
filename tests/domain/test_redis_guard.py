"""Does a Redis that stops answering cost web requests one short wait per pause, not one each?"""

from __future__ import annotations

import threading
import time

import pytest
import redis

from domain.redis_guard import RedisGuard, RedisPaused, redis_guard
from jobs import enqueue


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def down():
    raise redis.exceptions.TimeoutError("Timeout reading from socket")


def test_after_a_failure_redis_is_skipped_until_the_pause_is_over():
    clock = Clock()
    guard = RedisGuard(5, clock=clock)
    tries = []
    with pytest.raises(redis.exceptions.TimeoutError):
        guard.call("test", lambda: tries.append(1) or down())
    for _ in range(10):
        with pytest.raises(RedisPaused):
            guard.call("test", lambda: tries.append(1))
    assert len(tries) == 1 and guard.paused()
    clock.now += 5
    assert guard.call("test", lambda: tries.append(1) or "answered") == "answered"
    assert len(tries) == 2 and not guard.paused()
    assert guard.call("test", lambda: "again") == "again"


def test_after_the_pause_one_request_probes_while_the_others_still_skip():
    clock = Clock()
    guard = RedisGuard(5, clock=clock)
    with pytest.raises(redis.exceptions.TimeoutError):
        guard.call("test", down)
    clock.now += 6
    probing, release = threading.Event(), threading.Event()

    def probe():
        probing.set()
        release.wait(5)
        return "pong"

    results = []
    thread = threading.Thread(target=lambda: results.append(guard.call("probe", probe)))
    thread.start()
    assert probing.wait(5)
    with pytest.raises(RedisPaused):  # the probe has no answer yet
        guard.call("other", lambda: "not tried")
    release.set()
    thread.join(5)
    assert results == ["pong"] and guard.call("other", lambda: "tried") == "tried"


def test_a_failed_probe_pauses_again_and_an_error_redis_answered_with_does_not():
    clock = Clock()
    guard = RedisGuard(5, clock=clock)
    with pytest.raises(redis.exceptions.ConnectionError):
        guard.call("test", lambda: (_ for _ in ()).throw(redis.exceptions.ConnectionError("refused")))
    clock.now += 5
    with pytest.raises(redis.exceptions.TimeoutError):
        guard.call("probe", down)
    clock.now += 4
    assert guard.paused()
    clock.now += 1
    with pytest.raises(redis.exceptions.ResponseError):  # Redis answered: it is up
        guard.call("probe", lambda: (_ for _ in ()).throw(redis.exceptions.ResponseError("WRONGTYPE")))
    assert not guard.paused()


def test_enqueueing_to_a_frozen_redis_from_a_request_waits_once_per_pause(app, frozen_redis):
    frozen_redis.freeze()
    with app.test_request_context("/sms/inbound"):
        started = time.monotonic()
        results = [enqueue("jobs.housekeeping.sweep_outbox") for _ in range(10)]
        elapsed = time.monotonic() - started
    print(f"10 enqueues to a frozen Redis from a web request: {elapsed:.2f} s")
    assert results == [False] * 10
    assert elapsed < 2.0  # REDIS_WEB_TIMEOUT_MS once, then skipped; not 5 s each
    assert redis_guard(app=app).paused()
