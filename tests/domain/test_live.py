"""Does a dead Redis cost a caller's webhook at most once, and never an exception?"""

from __future__ import annotations

import threading
import time

from domain.live import BrokerDown, RedisBroker, publish


def test_after_a_failure_publishing_is_paused_not_retried_per_event():
    broker = RedisBroker("redis://127.0.0.1:1/0", "test")  # nothing listens on port 1
    attempts = []
    real_publish = broker.redis.publish
    broker.redis.publish = lambda *args: attempts.append(args) or real_publish(*args)
    for _ in range(20):
        try:
            broker.publish("event")
        except BrokerDown:
            pass
        except Exception:
            pass
    assert len(attempts) == 1  # one try reached for Redis; the other 19 were skipped at once
    broker._down_until = time.monotonic() - 1  # the pause is over: the next event tries again
    try:
        broker.publish("event")
    except Exception:
        pass
    assert len(attempts) == 2


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
