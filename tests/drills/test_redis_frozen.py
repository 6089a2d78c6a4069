"""Drill: Redis frozen (SIGSTOP: alive, accepting, silent) while callers and agents use the hotline.

A private redis-server carries the live events, the login limits and the jobs of a real
gunicorn (gevent workers, as production runs it). It is SIGSTOPped while agents' live
streams are open and callers are in the IVR. A stopped Redis refuses nothing: every
command waits for an answer that does not come, so only timeouts end the wait. Then:

- every webhook (the status, key 2's SMS, key 0 to the agents' queue) answers within
  2 s: each worker process waits REDIS_WEB_TIMEOUT_MS once, then skips Redis for
  REDIS_WEB_PAUSE_S (domain/redis_guard.py); the SMS row waits `pending`;
- the open stream gets its `down` event within a few seconds (the live listener's PING
  goes unanswered), queue.json says `live: false` at once, a new stream is refused, an
  agent logs in promptly;
- after SIGCONT: queue.json says live again, a new stream gets the next caller, the sweep
  enqueues the pending row and a real worker sends each SMS once (a job the frozen server
  was sent before the timeout runs too: it finds nothing left to claim).
"""

from __future__ import annotations

import statistics
import threading
import time

import pytest
from sqlalchemy import select

import jobs.housekeeping
from extensions import db
from jobs.housekeeping import sweep_outbox
from models import Call, SmsMessage, SmsStatus
from tests.support.console import make_user
from tests.support.drills import HttpTwilio, StreamReader, logged_in
from tests.support.ivr import Answer, Caller, add_letter
from tests.support.jobs import PREFIX, SMS_FROM, run_worker, use_redis, worker_env
from tests.support.waiting import wait_for
from tests.support.webhooks import AUTH_TOKEN

pytestmark = pytest.mark.gunicorn
WEBHOOK_BUDGET_S = 2.0  # a caller must not wait on a silent Redis
DOWN_BUDGET_S = 6.0  # the open consoles are told within a few seconds


def sid(n: int) -> str:
    return f"CA{n:032d}"


def phone(n: int) -> str:
    return f"+96475011100{n:02d}"


class Timed:
    """Every webhook's latency, by phase."""

    def __init__(self):
        self.phase = "before"
        self.latencies: dict[str, list[float]] = {"before": [], "during": [], "after": []}

    def caller(self, base: str, n: int) -> Caller:
        return Caller(TimedTwilio(self, base, AUTH_TOKEN, sid(n), caller=phone(n)))

    def summary(self) -> str:
        lines = []
        for phase, values in self.latencies.items():
            if values:
                lines.append(
                    f"  {phase:6} {len(values):3} webhooks: p50 {statistics.median(values) * 1000:6.0f} ms, "
                    f"max {max(values) * 1000:6.0f} ms"
                )
        return "\n".join(lines)


class TimedTwilio(HttpTwilio):
    def __init__(self, timed: Timed, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timed = timed

    def post(self, path: str, signed: bool = True, **params):
        response = super().post(path, signed, **params)
        self.timed.latencies[self.timed.phase].append(response.elapsed_s)
        if self.timed.phase == "during":
            assert response.elapsed_s < WEBHOOK_BUDGET_S, (
                f"{path} took {response.elapsed_s:.2f} s with Redis frozen (budget {WEBHOOK_BUDGET_S} s)"
            )
        return response


def sms_key_and_queue(caller: Caller) -> None:
    """The status, key 2 (an SMS: an enqueue), key 0 (the agents' queue: a live event)."""
    assert "This letter has been forwarded." in caller.walk("3", "1", "1234", "1", "15032024", "1").text
    assert "We are sending you this status by text message." in caller.press("2").text
    caller.answer = Answer.of(caller.twilio.post(caller.answer.action, Digits="0"))
    assert caller.answer.enqueued is not None


def the_call(call_sid: str) -> Call:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.sid == call_sid))


def the_sms(call_id: int) -> SmsMessage:
    db.session.expire_all()
    return db.session.scalar(select(SmsMessage).where(SmsMessage.call_id == call_id))


def timed(run):
    started = time.monotonic()
    result = run()
    return result, time.monotonic() - started


@pytest.fixture
def app_on_private_redis(app, redis_server, monkeypatch):
    """The test process's app (which runs the sweep) on the drill's Redis and job prefix."""
    previous = app.config["REDIS_URL"], app.config["JOB_QUEUE_PREFIX"], app.config["SMS_FROM"]
    use_redis(app, redis_server.url())
    app.config.update(JOB_QUEUE_PREFIX=PREFIX, SMS_FROM=SMS_FROM)
    monkeypatch.setattr(jobs.housekeeping, "PENDING_GRACE", jobs.housekeeping.timedelta(0))
    yield app
    use_redis(app, previous[0])
    app.config.update(JOB_QUEUE_PREFIX=previous[1], SMS_FROM=previous[2])


def test_a_frozen_redis_costs_callers_nothing_and_the_consoles_are_told(
    app_on_private_redis, app_context, database_url, redis_server, twilio_api, gunicorn
):
    app = app_on_private_redis
    add_letter()
    for name in ("amira", "bilal", "dana"):
        make_user(name)
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
    base = server.base
    timings = Timed()
    agent, login_before_s = timed(lambda: logged_in(base, "amira"))
    before = StreamReader(base, agent.cookies)
    before.start()
    assert before.opened.wait(10), "the live stream did not open with Redis up"
    for n in (1, 2):
        sms_key_and_queue(timings.caller(base, n))
    assert the_sms(the_call(sid(1)).id).status == SmsStatus.queued

    redis_server.freeze()
    frozen_at = time.monotonic()
    try:
        timings.phase = "during"
        # Callers go on while Redis is frozen; two at once, as Twilio would send them.
        errors: list[BaseException] = []
        callers = [threading.Thread(target=_catching, args=(timings.caller(base, n), errors)) for n in (3, 4)]
        for thread in callers:
            thread.start()
        for thread in callers:
            thread.join(60)
        assert not errors, errors[0]
        for n in (5, 6):
            sms_key_and_queue(timings.caller(base, n))
        assert {the_sms(the_call(sid(n)).id).status for n in (3, 4, 5, 6)} == {SmsStatus.pending}

        # The open console is told; the JSON fallback and a new stream answer at once.
        assert before.went_down.wait(max(0.1, DOWN_BUDGET_S - (time.monotonic() - frozen_at))), (
            f"the open stream was not told live updates are down: {before.events[-3:]}"
        )
        down_after_s = before.down_at - frozen_at
        snapshot, json_s = timed(lambda: agent.get(base + "/console/queue.json", timeout=5))
        assert snapshot.status_code == 200 and snapshot.json()["live"] is False
        assert len(snapshot.json()["calls"]) == 6
        refused, stream_s = timed(lambda: agent.get(base + "/console/stream", timeout=5))
        assert refused.status_code == 503 and refused.json()["error"] == "live_down"
        second, login_during_s = timed(lambda: logged_in(base, "bilal"))  # login limits live in Redis
        assert json_s < WEBHOOK_BUDGET_S and stream_s < WEBHOOK_BUDGET_S and login_during_s < WEBHOOK_BUDGET_S
    finally:
        redis_server.thaw()
    thawed_at = time.monotonic()
    timings.phase = "after"

    # Live again once the pause is over: the JSON says so, a new stream gets the next caller.
    wait_for(
        lambda: agent.get(base + "/console/queue.json", timeout=5).json()["live"] is True,
        15,
        "queue.json never said live again after SIGCONT",
    )
    live_again_s = time.monotonic() - thawed_at
    # Each gunicorn worker has its own breaker: a new stream may land on one still in its
    # pause (503 live_down) a moment after another said live. It opens within the pause.
    after = open_stream_again(base, second.cookies, within_s=10)

    caller = timings.caller(base, 7)
    sms_key_and_queue(caller)
    call_7 = the_call(sid(7))

    def seen() -> bool:
        return any(
            name == "queue" and call_7.id in [c["id"] for c in data.get("calls", [])] for name, data in after.events
        )

    wait_for(seen, 10, f"the caller after SIGCONT did not reach the new stream: {after.events[-3:]}")
    _, login_after_s = timed(lambda: logged_in(base, "dana"))

    # Nothing lost, nothing doubled: the sweep enqueues what waited, one worker sends each once.
    sweep_outbox()
    run_worker(worker_env(app, database_url, redis_server.url(), twilio_api.url), "sms")
    sent = sorted(m.form["To"] for m in twilio_api.messages_sent())
    assert sent == [phone(n) for n in range(1, 8)], sent
    assert all(the_sms(the_call(sid(n)).id).status == SmsStatus.sent for n in range(1, 8))

    print(
        "\nRedis frozen (SIGSTOP) under gevent gunicorn, 2 workers:\n"
        f"{timings.summary()}\n"
        f"  open stream told 'down' {down_after_s:.2f} s after the freeze\n"
        f"  during: queue.json {json_s * 1000:.0f} ms, stream refused {stream_s * 1000:.0f} ms\n"
        f"  login: before {login_before_s * 1000:.0f} ms, during {login_during_s * 1000:.0f} ms, "
        f"after {login_after_s * 1000:.0f} ms\n"
        f"  queue.json live again {live_again_s:.2f} s after SIGCONT"
    )


def _catching(caller: Caller, errors: list[BaseException]) -> None:
    try:
        sms_key_and_queue(caller)
    except BaseException as error:  # a caller thread's failed assertion, reported by the test
        errors.append(error)


def open_stream_again(base: str, cookies, within_s: float) -> StreamReader:
    """A live stream, asked again while a worker still refuses it (503) for its breaker's pause."""
    deadline = time.monotonic() + within_s
    while True:
        reader = StreamReader(base, cookies)
        reader.start()
        if reader.opened.wait(max(0.1, min(3.0, deadline - time.monotonic()))) and reader.status == 200:
            return reader
        assert time.monotonic() < deadline, (
            f"no live stream within {within_s} s of Redis answering (last: {reader.status})"
        )
        time.sleep(0.5)
