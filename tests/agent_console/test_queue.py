"""Do agents see the waiting callers, live, with what the IVR learnt about each?"""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta, timezone

import pytest
import redis

from domain.calls.queue import snapshot, waiting_calls
from domain.live import InProcessBroker, RedisBroker
from domain.redis_guard import redis_guard
from extensions import db
from models import Call, Role
from tests.support.console import Stream, agent_client, call_sid, enqueue_caller, letter, make_user
from tests.support.services import REDIS_URL
from tests.support.webhooks import Twilio


def waiting_ids() -> list[int]:
    return [call.id for call in waiting_calls()]


def a_call(n: int, **fields) -> Call:
    call = Call(sid=call_sid(n), caller="+9647501234567", language="ar", **fields)
    db.session.add(call)
    db.session.commit()
    return call


# --- the snapshot -----------------------------------------------------------------------


def test_only_callers_still_waiting_and_not_taken_are_in_the_queue(app_context):
    now = datetime.now(timezone.utc)
    taker = make_user("taker")
    older = a_call(1, queued_at=now - timedelta(seconds=90))
    newer = a_call(2, queued_at=now - timedelta(seconds=5))
    a_call(3)  # never asked for an agent
    a_call(4, queued_at=now, queue_left_at=now, queue_result="hangup")
    a_call(5, queued_at=now, ended_at=now)
    a_call(6, queued_at=now, agent_id=taker.id, taken_at=now)
    assert waiting_ids() == [older.id, newer.id]


def test_the_snapshot_says_who_waits_how_long_and_for_which_letter(app_context, client):
    letter()
    call = enqueue_caller(client, 1, caller="+9647501234567")
    data = snapshot(now=call.queued_at + timedelta(seconds=42))
    assert data["waiting"] == 1 and data["longest_wait_s"] == 42
    row = data["calls"][0]
    assert row == {
        "id": call.id,
        "caller": "0750 123 4567",
        "withheld": False,
        "language": "en",
        "asked_number": "1234",
        "asked_date": "2024-03-15",
        "found": True,
        "queued_at": call.queued_at.isoformat(),
        "wait_s": 42,
        "offered": False,
    }
    json.dumps(data)  # published as JSON as it is


def test_a_withheld_caller_who_asked_for_nothing_shows_as_such(app_context, client):
    call = enqueue_caller(client, 1, caller="anonymous", ask_letter=False)
    row = snapshot()["calls"][0]
    assert row["id"] == call.id and row["withheld"] is True and row["caller"] == ""
    assert row["asked_number"] is None and row["found"] is None


def test_a_letter_not_found_is_marked_so(app_context, client):
    call = enqueue_caller(client, 1)  # no letter in the records
    assert snapshot()["calls"][0]["found"] is False and call.found is False


def test_a_caller_who_hangs_up_in_the_queue_leaves_it(app_context, client):
    call = enqueue_caller(client, 1)
    Twilio(client, sid=call.sid).post("/ivr/status", CallStatus="completed", CallDuration="30")
    assert waiting_ids() == []


# --- the page and its JSON fallback ------------------------------------------------------


def test_the_queue_page_holds_the_snapshot_the_script_and_the_presence_form(app, app_context, client):
    letter()
    call = enqueue_caller(client, 1)
    agent = agent_client(app, "amira")
    page = agent.get("/console/").get_data(as_text=True)
    assert 'id="queue-data"' in page and f'"id": {call.id}' in page
    assert "/console/static/console.js" in page
    assert 'action="/console/presence"' in page
    assert 'data-stream-url="/console/stream"' in page


def test_queue_json_is_for_agents_only(app, app_context, client):
    enqueue_caller(client, 1)
    assert client.get("/console/queue.json").status_code == 302  # to the login page
    agent = agent_client(app, "amira")
    data = agent.get("/console/queue.json").get_json()
    assert data["waiting"] == 1 and data["live"] is True
    assert data["calls"][0]["caller"] == "0750 123 4567"


# --- the live stream --------------------------------------------------------------------


@pytest.fixture
def fast_keepalive(app):
    previous = app.config["SSE_KEEPALIVE_S"]
    app.config["SSE_KEEPALIVE_S"] = 1
    yield
    app.config["SSE_KEEPALIVE_S"] = previous


@pytest.fixture
def in_process_broker(app):
    app.extensions["hotline.broker"] = broker = InProcessBroker()
    yield broker
    app.extensions.pop("hotline.broker", None)


@pytest.fixture
def redis_broker(app):
    """The Redis broker for real, on this run's own channel (see conftest's LIVE_CHANNEL)."""
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not answering at {REDIS_URL} (the suite needs a real Redis; ./scripts/test starts one)")
    previous = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = REDIS_URL
    app.extensions.pop("hotline.broker", None)
    yield connection
    app.config["REDIS_URL"] = previous
    app.extensions.pop("hotline.broker", None)
    connection.close()


def test_the_stream_sends_the_queue_then_each_caller_enqueued(app, app_context, client, in_process_broker):
    letter()
    agent = agent_client(app, "amira")
    stream = Stream(agent)
    assert stream.response.headers["Cache-Control"] == "no-cache"
    assert stream.response.headers["X-Accel-Buffering"] == "no"
    assert stream.next_event()["calls"] == []

    call = enqueue_caller(client, 1)
    event = stream.next_event()
    assert [row["id"] for row in event["calls"]] == [call.id]
    assert event["calls"][0]["asked_number"] == "1234" and event["calls"][0]["found"] is True

    Twilio(client, sid=call.sid).post("/ivr/status", CallStatus="completed", CallDuration="9")
    assert stream.next_event()["calls"] == []
    stream.close()


def test_the_stream_keeps_the_connection_alive_and_ends_when_the_client_goes(
    app, app_context, in_process_broker, fast_keepalive
):
    agent = agent_client(app, "amira")
    stream = Stream(agent)
    stream.next_event()
    assert stream.next_block() == ": keep-alive"
    assert len(in_process_broker._subscribers) == 1
    stream.close()
    assert len(in_process_broker._subscribers) == 0  # nothing left listening for a gone browser


def test_the_stream_is_for_agents_only(client):
    assert client.get("/console/stream").status_code == 302


def test_the_stream_works_through_redis(app, app_context, client, redis_broker):
    agent = agent_client(app, "amira")
    stream = Stream(agent)
    assert isinstance(app.extensions["hotline.broker"], RedisBroker)
    assert stream.next_event()["calls"] == []
    assert redis_broker.pubsub_numsub(app.config["LIVE_CHANNEL"])[0][1] == 1

    call = enqueue_caller(client, 1)
    assert [row["id"] for row in stream.next_event()["calls"]] == [call.id]

    Twilio(client, sid=call.sid).post("/ivr/queue/left?lang=en&s=99", QueueResult="hangup", QueueTime="12")
    assert stream.next_event()["calls"] == []
    # A second console in the same process shares the process's one Redis subscription.
    second = Stream(agent_client(app, "bakhtiyar"))
    assert second.next_event()["calls"] == []
    assert redis_broker.pubsub_numsub(app.config["LIVE_CHANNEL"])[0][1] == 1
    stream.close()
    second.close()
    # After the last stream, the process lets its subscription go (within a poll interval).
    deadline = time.monotonic() + 5
    while redis_broker.pubsub_numsub(app.config["LIVE_CHANNEL"])[0][1] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert redis_broker.pubsub_numsub(app.config["LIVE_CHANNEL"])[0][1] == 0


@pytest.fixture
def dead_broker(app):
    """REDIS_URL pointing at a port where nothing listens."""
    previous = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("hotline.broker", None)
    yield
    app.config["REDIS_URL"] = previous
    app.extensions.pop("hotline.broker", None)


def test_with_the_broker_down_the_stream_says_so_and_the_json_still_answers(app, app_context, client, dead_broker):
    call = enqueue_caller(client, 1)  # the IVR still works: publishing failed quietly
    assert call.queued_at is not None
    agent = agent_client(app, "amira")
    refused = agent.get("/console/stream")
    assert refused.status_code == 503 and refused.get_json()["error"] == "live_down"
    data = agent.get("/console/queue.json").get_json()
    assert data["live"] is False and [row["id"] for row in data["calls"]] == [call.id]


def test_with_redis_frozen_the_open_stream_is_told_and_nothing_waits_for_redis(
    app, app_context, client, frozen_redis, fast_keepalive
):
    """Redis alive but silent (SIGSTOP): the open stream ends with "down" within seconds,
    and the webhook, the JSON fallback and a new stream answer without waiting for Redis."""
    app.config["LIVE_PING_S"] = 0.5
    agent = agent_client(app, "amira")
    stream = Stream(agent)
    assert stream.next_event()["calls"] == []

    frozen_redis.freeze()
    frozen_at = time.monotonic()
    stream.next_event("down")
    noticed_s = time.monotonic() - frozen_at
    started = time.monotonic()
    call = enqueue_caller(client, 1)  # voice, language, menu 0: three webhooks
    webhooks_s = time.monotonic() - started
    started = time.monotonic()
    data = agent.get("/console/queue.json").get_json()
    refused = agent.get("/console/stream")
    console_s = time.monotonic() - started
    print(f"frozen Redis: down after {noticed_s:.2f} s; 3 webhooks {webhooks_s:.2f} s; json + stream {console_s:.2f} s")
    assert noticed_s < 5
    assert data["live"] is False and [row["id"] for row in data["calls"]] == [call.id]
    assert refused.status_code == 503 and refused.get_json()["error"] == "live_down"
    assert webhooks_s < 2 and console_s < 1

    frozen_redis.thaw()  # Redis answers again: after the pause, live again
    redis_guard(app=app)._paused_until = 0.0
    assert agent.get("/console/queue.json").get_json()["live"] is True
    again = Stream(agent)
    assert [row["id"] for row in again.next_event()["calls"]] == [call.id]
    again.close()
    stream.close()


def test_queue_changes_are_announced_after_the_commit(app, app_context, client, in_process_broker, monkeypatch):
    """The snapshot that goes out already holds the new caller: it is read after the commit."""
    import domain.calls.queue

    seen = []
    original = domain.calls.queue.snapshot

    def watched(now=None):
        pending = db.session().in_transaction()  # False: the webhook's transaction is committed
        seen.append((pending, original(now)))
        return seen[-1][1]

    monkeypatch.setattr(domain.calls.queue, "snapshot", watched)
    enqueue_caller(client, 1)
    assert seen and seen[-1][0] is False and seen[-1][1]["waiting"] == 1


def test_a_supervisor_may_watch_the_queue_too(app, app_context):
    supervisor = agent_client(app, "sara", role=Role.supervisor)
    assert supervisor.get("/console/queue.json").status_code == 200


def test_dates_in_the_snapshot_are_iso(app_context):
    call = a_call(1, queued_at=datetime.now(timezone.utc), asked_number="77", asked_date=date(2023, 1, 2))
    assert snapshot()["calls"][0]["asked_date"] == "2023-01-02" and call.id
