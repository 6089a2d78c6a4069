"""Drills: PostgreSQL stops in the middle of a call, then comes back; PostgreSQL stalls mid-call.

A private cluster (its own data folder and port) gets the app's migrations and one letter;
two real gunicorn servers answer Twilio from it: one within agent hours, one after them.
Half a call is played, the cluster is stopped for real (`pg_ctl stop -m immediate`, as a
crash or a kill would), and every webhook must still answer 200 with the apology (an
agent's queue in hours, goodbye after them) within DB_CONNECT_TIMEOUT_S. When the cluster
is back, new calls go through and the steps written before the stop are still there,
and the agents' console answers its very next request.

It runs in the suite's PostgreSQL pass only: its cluster is private, so the SQLite pass
would repeat the very same drill, and that pass is not where PostgreSQL is known to be
installed; and the stall drill's statement timeout is a PostgreSQL setting. A missing
PostgreSQL fails the drill (tests.support.drills.postgres_bindir).

A stalled database (a lock held past the statement timeout) on a call's first webhook is
drilled by tests/ivr/test_robustness.py::test_a_stalled_database_is_cut_off_by_the_statement_timeout,
an unreachable database URL by the tests beside it; the stall in the middle of a call,
on the suite's own database, is the second drill here.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from sqlalchemy import select

from config import Hours
from domain.calls.queue import waiting_calls
from extensions import db
from factory import create_app
from models import Call, Outcome
from tests.support.console import PASSWORD, make_user
from tests.support.drills import (
    APOLOGY_AR,
    APOLOGY_EN,
    HALF_A_CALL,
    HttpTwilio,
    answered_within,
    call_steps,
    migrated_app,
    sid,
)
from tests.support.ivr import Answer, Caller, add_letter, table_locked
from tests.support.webhooks import AUTH_TOKEN, PUBLIC_BASE_URL, Twilio

pytestmark = [pytest.mark.gunicorn, pytest.mark.usefixtures("postgres_pass")]
TOKEN = "drill-postgres-token"
CONNECT_TIMEOUT_S = 2


@pytest.fixture
def private_app(postgres_cluster):  # noqa: F811
    with migrated_app(postgres_cluster.url) as app:
        yield app


def answered_in_time(response) -> Answer:
    return answered_within(response, CONNECT_TIMEOUT_S, f"DB_CONNECT_TIMEOUT_S={CONNECT_TIMEOUT_S}")


def test_postgres_stopped_mid_call_means_apologies_in_time_and_nothing_lost(postgres_cluster, private_app, gunicorn):  # noqa: F811
    env = {
        "DATABASE_URL": postgres_cluster.url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "DB_CONNECT_TIMEOUT_S": CONNECT_TIMEOUT_S,
        "AGENT_HOURS": "00:00-24:00",
    }
    in_hours = gunicorn(env, workers=2)
    after_hours = gunicorn({**env, "AGENT_HOURS": "00:00-00:00"}, workers=1)

    # Half a call on each server: the number keyed and confirmed, the date not yet.
    caller = Caller(HttpTwilio(in_hours.base, TOKEN, sid(1)))
    assert "Now key in the date" in caller.walk("3", "1", "1234", "1").text
    night_caller = Caller(HttpTwilio(after_hours.base, TOKEN, sid(2), caller="+9647709876543"))
    night_caller.walk("3", "1", "1234", "1")
    assert call_steps(private_app, sid(1)) == HALF_A_CALL

    postgres_cluster.stop("immediate")

    # In agent hours: the apology, then the agents' queue, in the caller's language.
    answer = answered_in_time(caller.twilio.post(caller.answer.action, Digits="15032024"))
    assert APOLOGY_EN in answer.text and answer.enqueued is not None
    new_call = answered_in_time(HttpTwilio(in_hours.base, TOKEN, sid(3)).post("/ivr/voice"))
    assert APOLOGY_AR in new_call.text and new_call.enqueued is not None
    # After hours: the apology and goodbye.
    answer = answered_in_time(night_caller.twilio.post(night_caller.answer.action, Digits="15032024"))
    assert APOLOGY_EN in answer.text and answer.hung_up and answer.enqueued is None
    # The routes around the call: status callback, hold music, fallback.
    status = caller.twilio.post("/ivr/status", CallStatus="completed", CallDuration="41")
    assert status.status_code == 503 and status.elapsed_s < CONNECT_TIMEOUT_S  # not stored: Twilio retries
    hold = answered_in_time(caller.twilio.post("/ivr/queue/wait?lang=en", QueuePosition="2"))
    assert hold.played and "You are number 2 in line." in hold.text
    for server in (in_hours, after_hours):
        assert answered_in_time(HttpTwilio(server.base, TOKEN, sid(4)).post("/ivr/fallback")).hung_up

    postgres_cluster.start()

    # New calls go through at once (no apology for the first request on a dead pooled connection).
    for server in (in_hours, after_hours):
        fresh = Caller(HttpTwilio(server.base, TOKEN, sid(5 if server is in_hours else 6)))
        answer = fresh.walk("3", "1", "1234", "1", "15032024", "1")
        assert "This letter has been forwarded." in answer.text, answer.text
        assert Answer.of(fresh.twilio.post("/ivr/status", CallStatus="completed", CallDuration="50"))
    # What was written before the stop survived it; what failed during it wrote nothing.
    assert call_steps(private_app, sid(1)) == HALF_A_CALL
    assert call_steps(private_app, sid(2)) == HALF_A_CALL
    assert call_steps(private_app, sid(3)) == []
    assert call_steps(private_app, sid(5)) == HALF_A_CALL + ["date", "date_confirm", "status"]


def test_the_console_answers_its_first_request_after_postgres_restarts(postgres_cluster, private_app, gunicorn):  # noqa: F811
    """An agent's queue page polls all shift: a database restart must not cost it an error page."""
    with private_app.app_context():
        make_user("amira")
        db.session.remove()
        db.engine.dispose()
    server = gunicorn(
        {
            "DATABASE_URL": postgres_cluster.url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "DB_CONNECT_TIMEOUT_S": CONNECT_TIMEOUT_S,
            "SESSION_COOKIE_SECURE": "0",
        },
        workers=1,
    )
    agent = requests.Session()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', agent.get(server.base + "/console/login").text)
    assert (
        agent.post(
            server.base + "/console/login",
            allow_redirects=False,
            timeout=10,
            data={"username": "amira", "password": PASSWORD, "csrf_token": token.group(1)},
        ).status_code
        == 302
    )
    assert agent.get(server.base + "/console/queue.json", timeout=10).status_code == 200

    postgres_cluster.stop("immediate")
    postgres_cluster.start()

    first = agent.get(server.base + "/console/queue.json", timeout=10)
    assert first.status_code == 200, (
        f"the first console request after the restart answered {first.status_code} "
        "(its pooled connection was dead and nothing tried again)"
    )


def test_postgres_stalled_mid_call_means_an_apology_in_time_and_the_caller_on_the_consoles(database_url):
    """The steps' table locked past the statement timeout while a caller is half way through."""
    app = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "AGENT_HOURS": Hours.parse("00:00-24:00"),
            "DB_STATEMENT_TIMEOUT_MS": 500,
        }
    )
    with app.app_context():
        add_letter()
        caller = Caller(Twilio(app.test_client(), sid=sid(7)))
        caller.walk("3", "1", "1234", "1")
        with table_locked(database_url, "call_event"):
            started = time.monotonic()
            answer = Answer.of(caller.twilio.post(caller.answer.action, Digits="15032024"))
            elapsed = time.monotonic() - started
        assert elapsed < 3, f"the stalled step took {elapsed:.1f} s"
        assert APOLOGY_EN in answer.text and answer.enqueued is not None
        # Twilio fetches the queue's wait URL: the caller is recorded there, and the consoles show them.
        make_user("amira")
        Answer.of(caller.twilio.post(answer.enqueued.get("waitUrl"), QueuePosition="1"))
        db.session.expire_all()
        call = db.session.scalar(select(Call).where(Call.sid == sid(7)))
        assert call.outcome == Outcome.error and [c.id for c in waiting_calls()] == [call.id]
        db.session.remove()
        db.engine.dispose()
    assert call_steps(app, sid(7)) == HALF_A_CALL  # the stalled step wrote nothing else
