"""Does a worker stop promptly? RQ's command-channel thread must not hold it for a minute."""

from __future__ import annotations

import time

from tests.support.jobs import run_worker, worker_env

# Twilio is never called here: an empty queue has nothing to send.
NO_TWILIO = "http://127.0.0.1:1"


def test_a_burst_worker_on_an_empty_queue_always_exits_within_seconds(app, database_url, redis_url):
    env = worker_env(app, database_url, redis_url, NO_TWILIO)
    took = []
    for _ in range(3):  # the race showed in about one start in six before the fix
        started = time.monotonic()
        run_worker(env, "sms", timeout=30)
        took.append(time.monotonic() - started)
    # Liveness, not speed: RQ's own 60 s wait would show as ~60 s here (30 s kills the run).
    assert max(took) < 20, took


def test_the_command_channel_thread_notices_a_stop_within_seconds(app, redis_url):
    """The race made plain: the thread is already waiting on Redis when it is told to stop
    (redis-py 8.2 then joins it). RQ's own wait would hold it for 60 s."""
    import redis
    from rq import Queue

    from jobs.worker import HotlineWorker

    connection = redis.Redis.from_url(redis_url)
    worker = HotlineWorker([Queue("stop-test", connection=connection)], connection=connection)
    worker.subscribe()
    time.sleep(0.3)  # the thread is inside its wait for a message
    worker.pubsub_thread._running.clear()  # what PubSubWorkerThread.stop() does before joining
    worker.pubsub_thread.join(timeout=5)
    assert not worker.pubsub_thread.is_alive()
    worker.pubsub.close()


def test_stopping_waits_for_the_channel_thread_before_closing(app, redis_url):
    """The thread closes the subscription on its way out; closing it at the same moment from
    the worker crashed the worker as it exited (seen as a failed burst run)."""
    import redis
    from rq import Queue

    from jobs.worker import HotlineWorker

    connection = redis.Redis.from_url(redis_url)
    for _ in range(5):
        worker = HotlineWorker([Queue("stop-test", connection=connection)], connection=connection)
        worker.subscribe()
        time.sleep(0.1)
        worker.unsubscribe()
        assert not worker.pubsub_thread.is_alive()
        assert worker.pubsub.connection is None  # closed once, by one of them
