"""Drill: Redis is killed in the middle of a call and while agents watch the queue.

A private redis-server (its own port and folder, `appendonly yes` as the README asks)
carries the live events, the login limits and the jobs of a real gunicorn (gevent
workers, as production runs it). It is SIGKILLed while a caller is in the IVR and an
agent's live stream is open. Then:

- the IVR answers every step normally: the lookup, key 2 (an SMS: its outbox row waits
  `pending`), key 3, the hand-off to the agents' queue; all in time;
- the console says live updates are unavailable: the open stream gets a `down` event,
  a new stream (the queue's, the wallboard's) is refused with 503 `live_down`,
  `queue.json` says `live: false` and still lists the waiting callers; an agent can log
  in and take a call;
- after Redis is started again nothing is lost: the SMS job enqueued before the kill is
  still in its queue (the AOF), the outbox sweep enqueues the row written during the
  outage, one real worker sends both, once each; the live stream works again.

A killed Redis process loses nothing its AOF was written with (the kernel holds it);
the second that `appendfsync everysec` may lose when the whole machine fails is covered
by the sweep re-enqueueing a `queued` row whose job is gone:
tests/jobs/test_sms_delivery.py::test_a_queued_row_whose_job_redis_lost_is_enqueued_again.
"""

from __future__ import annotations

import re
import time

import pytest
import redis
from rq.job import Job
from sqlalchemy import select

import jobs.housekeeping
from extensions import db
from jobs import redis_job_id
from jobs.housekeeping import sweep_outbox
from models import Call, Role, SmsMessage, SmsStatus
from tests.support.console import make_user
from tests.support.drills import HttpTwilio, StreamReader, logged_in
from tests.support.ivr import Answer, Caller, add_letter
from tests.support.jobs import PREFIX, SMS_FROM, run_worker, use_redis, worker_env
from tests.support.waiting import wait_for
from tests.support.webhooks import AUTH_TOKEN

pytestmark = pytest.mark.gunicorn
WEBHOOK_BUDGET_S = 2.0  # a caller must not wait on a dead Redis
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
PHONE_A, PHONE_B = "+9647501110001", "+9647501110002"


def sid(n: int) -> str:
    return f"CA{n:032d}"


def in_time(response) -> Answer:
    answer = Answer.of(response)
    assert response.elapsed_s < WEBHOOK_BUDGET_S, (
        f"a webhook took {response.elapsed_s:.2f} s with Redis down (budget {WEBHOOK_BUDGET_S} s)"
    )
    return answer


def the_call(call_sid: str) -> Call:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.sid == call_sid))


def the_sms(call_id: int) -> SmsMessage:
    db.session.expire_all()
    return db.session.scalar(select(SmsMessage).where(SmsMessage.call_id == call_id))


@pytest.fixture
def app_on_private_redis(app, redis_server, monkeypatch):  # noqa: F811
    """The test process's app (which runs the sweep) on the drill's Redis and job prefix."""
    previous = app.config["REDIS_URL"], app.config["JOB_QUEUE_PREFIX"], app.config["SMS_FROM"]
    use_redis(app, redis_server.url())
    app.config.update(JOB_QUEUE_PREFIX=PREFIX, SMS_FROM=SMS_FROM)
    monkeypatch.setattr(jobs.housekeeping, "PENDING_GRACE", jobs.housekeeping.timedelta(0))
    yield app
    use_redis(app, previous[0])
    app.config.update(JOB_QUEUE_PREFIX=previous[1], SMS_FROM=previous[2])


def test_redis_killed_mid_call_and_mid_console_loses_nothing(
    app_on_private_redis, app_context, database_url, redis_server, twilio_api, gunicorn
):  # noqa: F811
    app = app_on_private_redis
    add_letter()
    make_user("amira")
    make_user("bilal")
    make_user("sara", Role.supervisor)
    server = gunicorn(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_server.url(),
            "JOB_QUEUE_PREFIX": PREFIX,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": app.config["TWILIO_ACCOUNT_SID"],
            "TWILIO_API_BASE_URL": twilio_api.url,
            "SMS_FROM": SMS_FROM,
            "AGENT_HOURS": "00:00-24:00",
            "SESSION_COOKIE_SECURE": "0",
            "SSE_KEEPALIVE_S": "1",
        },
        workers=2,
        worker_class="gevent",
    )
    agent = logged_in(server.base, "amira")
    before = StreamReader(server.base, agent.cookies)
    before.start()
    assert before.opened.wait(10), "the live stream did not open with Redis up"

    # Caller A hears the status and asks for it by SMS while Redis is up: the job is queued.
    caller_a = Caller(HttpTwilio(server.base, AUTH_TOKEN, sid(1), caller=PHONE_A))
    assert "This letter has been forwarded." in caller_a.walk("3", "1", "1234", "1", "15032024", "1").text
    assert "We are sending you this status by text message." in caller_a.press("2").text
    call_a = the_call(sid(1))
    sms_a = the_sms(call_a.id)
    assert sms_a.status == SmsStatus.queued
    job_a = redis_job_id(f"sms-{sms_a.id}")
    wait_for(lambda: redis_server.aof_holds(job_a), 5, "the queued job never reached the append-only file")

    redis_server.kill()

    # The console says so: the open stream, a new stream, the JSON fallback.
    assert before.went_down.wait(10), f"the open stream was not told live updates are down: {before.events}"
    refused = agent.get(server.base + "/console/stream", timeout=5)
    assert refused.status_code == 503 and refused.json()["error"] == "live_down", refused.text[:300]
    assert refused.json()["message"] == "Live updates are down."

    # The IVR answers every step as usual, including SMS keys and the hand-off.
    caller_a.answer = in_time(caller_a.twilio.post(caller_a.answer.action, Digits="3"))
    assert "We will send you a text message when this letter changes." in caller_a.answer.text
    caller_a.answer = in_time(caller_a.twilio.post(caller_a.answer.action, Digits="0"))
    assert caller_a.answer.enqueued is not None and "Please hold" in caller_a.answer.text
    caller_b = Caller(HttpTwilio(server.base, AUTH_TOKEN, sid(2), caller=PHONE_B))
    caller_b.answer = in_time(caller_b.twilio.post("/ivr/voice"))
    for digits in ("3", "1", "1234", "1", "15032024", "1"):
        caller_b.answer = in_time(caller_b.twilio.post(caller_b.answer.action, Digits=digits))
    assert "This letter has been forwarded." in caller_b.answer.text
    caller_b.answer = in_time(caller_b.twilio.post(caller_b.answer.action, Digits="2"))
    assert "We are sending you this status by text message." in caller_b.answer.text
    caller_b.answer = in_time(caller_b.twilio.post(caller_b.answer.action, Digits="0"))
    assert caller_b.answer.enqueued is not None
    call_b = the_call(sid(2))
    assert the_sms(call_b.id).status == SmsStatus.pending  # the row waits for the sweep

    snapshot = agent.get(server.base + "/console/queue.json", timeout=5).json()
    assert snapshot["live"] is False
    assert [row["id"] for row in snapshot["calls"]] == [call_a.id, call_b.id]
    assert "Live updates are down." in agent.get(server.base + "/console/", timeout=5).text
    supervisor = logged_in(server.base, "sara")  # the wallboard's stream says so too
    board = supervisor.get(server.base + "/console/wallboard/stream", timeout=5)
    assert board.status_code == 503 and board.json()["error"] == "live_down"
    board_json = supervisor.get(server.base + "/console/wallboard.json", timeout=5).json()
    assert board_json["waiting"] == 2 and board_json["live"] is False
    # Console use goes on: another agent logs in (login limits live in Redis), one takes a call.
    second = logged_in(server.base, "bilal")
    token = CSRF_META.search(second.get(server.base + "/console/", timeout=5).text).group(1)
    took = second.post(
        f"{server.base}/console/calls/{call_b.id}/take",
        timeout=10,
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert took.status_code == 200 and took.json()["ok"] is True, took.text[:300]
    assert [row["id"] for row in agent.get(server.base + "/console/queue.json", timeout=5).json()["calls"]] == [
        call_a.id
    ]
    last_failed_publish = time.monotonic()

    redis_server.start()

    # The job enqueued before the kill is still there; the row written during it is swept.
    connection = redis.Redis.from_url(redis_server.url())
    assert Job.fetch(job_a, connection=connection).get_status() == "queued"
    assert sweep_outbox()["enqueued"] == 1
    assert the_sms(call_b.id).status == SmsStatus.queued
    run_worker(worker_env(app, database_url, redis_server.url(), twilio_api.url), "sms")
    assert sorted(m.form["To"] for m in twilio_api.messages_sent()) == [PHONE_A, PHONE_B]
    assert the_sms(call_a.id).status == SmsStatus.sent and the_sms(call_b.id).status == SmsStatus.sent
    assert sweep_outbox()["enqueued"] == 0

    # Live updates are back: the JSON says so, and a new caller reaches a new stream. Each
    # process skips Redis for REDIS_WEB_PAUSE_S (5 s) after its last failure (domain.redis_guard).
    time.sleep(max(0.0, 5.5 - (time.monotonic() - last_failed_publish)))
    wait_for(
        lambda: agent.get(server.base + "/console/queue.json", timeout=5).json()["live"] is True,
        10,
        "queue.json did not say live again after Redis came back",
    )
    after = StreamReader(server.base, agent.cookies)
    after.start()
    assert after.opened.wait(10) and after.status == 200
    caller_c = Caller(HttpTwilio(server.base, AUTH_TOKEN, sid(3), caller="+9647501110003"))
    assert caller_c.walk("3", "0").enqueued is not None
    call_c = the_call(sid(3))
    wait_for(lambda: after.saw_waiting(call_c.id), 10, f"the caller did not reach the stream: {after.events[-3:]}")
