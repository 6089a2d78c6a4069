"""Does a dead or frozen Redis cost a caller's webhook at most once, and never an exception?"""

from __future__ import annotations

import threading
import time

import pytest
import redis

from domain.live import BrokerDown, RedisBroker, broker, publish
from domain.redis_guard import RedisGuard


def test_after_a_failure_publishing_is_paused_not_retried_per_event():
    client = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)  # nothing listens
    clock = [0.0]
    broker = RedisBroker(client, RedisGuard(5, clock=lambda: clock[0]), "test")
    attempts = []
    real_publish = client.publish
    client.publish = lambda *args: attempts.append(args) or real_publish(*args)
    for _ in range(20):
        with pytest.raises(redis.ConnectionError):
            broker.publish("event")
    assert len(attempts) == 1  # one try reached for Redis; the other 19 were skipped at once
    clock[0] += 5.1  # the pause is over: the next event tries again
    with pytest.raises(redis.ConnectionError):
        broker.publish("event")
    assert len(attempts) == 2


def test_a_frozen_redis_costs_publishing_one_short_timeout_per_pause(app, app_context, frozen_redis):
    frozen_redis.freeze()
    started = time.monotonic()
    results = [publish("queue", {"calls": []}) for _ in range(10)]
    elapsed = time.monotonic() - started
    print(f"10 events to a frozen Redis: {elapsed:.2f} s")
    assert results == [False] * 10
    assert elapsed < 2.0  # one REDIS_WEB_TIMEOUT_MS, not a socket timeout per event


def test_a_frozen_redis_ends_the_subscription_within_seconds_and_a_thawed_one_serves_again(
    app, app_context, frozen_redis
):
    found = broker()
    assert isinstance(found, RedisBroker)
    found.ping_s = 0.5
    subscription = found.listen(0.2)
    ticks = iter(subscription)
    assert publish("queue", {"n": 1})
    assert wait_for_message(ticks) is not None

    frozen_redis.freeze()
    frozen_at = time.monotonic()
    with pytest.raises(BrokerDown):
        while time.monotonic() - frozen_at < 10:
            next(ticks)  # ticks of None while the listener waits for its PING's answer
    noticed_s = time.monotonic() - frozen_at
    print(f"a frozen Redis noticed by the live listener after {noticed_s:.2f} s")
    assert noticed_s < 5
    # Everyone else skips Redis at once now: no webhook waits for it.
    started = time.monotonic()
    assert publish("queue", {"n": 2}) is False and found.healthy() is False
    assert time.monotonic() - started < 0.1
    with pytest.raises(redis.ConnectionError):
        found.listen(0.2)

    frozen_redis.thaw()
    found.guard.failed("test", "the pause is over")  # as if the pause had just begun ...
    found.guard._paused_until = 0.0  # ... and ended
    assert found.healthy() is True
    again = iter(found.listen(0.2))
    assert publish("queue", {"n": 3})
    assert wait_for_message(again) is not None


def wait_for_message(ticks, timeout_s: float = 5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = next(ticks)
        if message is not None:
            return message
    return None


def test_publish_never_raises_when_the_broker_is_unreachable(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    app.extensions.pop("hotline.broker", None)
    try:
        with app.app_context():
            assert publish("queue", {"calls": []}) is False
    finally:
        app.extensions.pop("hotline.broker", None)


def test_in_process_broker_fans_out_to_every_listener(app):
    from domain.live import InProcessBroker

    broker = InProcessBroker()
    received: list[str] = []
    subscriptions = [broker.listen(timeout=1) for _ in range(3)]

    def read(subscription):
        for message in subscription:
            if message is not None:
                received.append(message)
                break

    threads = [threading.Thread(target=read, args=(s,)) for s in subscriptions]
    for thread in threads:
        thread.start()
    broker.publish("hello")
    for thread in threads:
        thread.join(3)
    assert received == ["hello"] * 3
