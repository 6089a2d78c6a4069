"""Drill: the `call` table locked past the statement timeout while callers are in the IVR and
the queue, on a real gevent gunicorn (as production runs it). Then:

- each webhook answers within 5 s: the apology and the queue for a caller mid-call and for a
  new one (one statement timeout, no second statement), hold audio for a waiting caller;
- a final status callback that could not be stored is answered 503, so Twilio sends it again;
- once the lock goes, the next fetch of the queue's wait URL records the callers the apology
  queued, so the consoles show them and an agent can take them; the status sent again is stored.

It prints what it measured. PostgreSQL pass only (a lock and a statement timeout).
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from domain.calls.queue import waiting_calls
from extensions import db
from models import Call, Outcome
from tests.support.console import make_user
from tests.support.drills import APOLOGY_AR, APOLOGY_EN, HttpTwilio, sid
from tests.support.ivr import Answer, Caller, add_letter, table_locked
from tests.support.webhooks import AUTH_TOKEN

pytestmark = [pytest.mark.gunicorn, pytest.mark.usefixtures("postgres_pass")]
BUDGET_S = 5.0  # the bound: an apology within 5 s


def the_call(call_sid: str) -> Call | None:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.sid == call_sid))


def test_a_stall_loses_no_caller(app_context, database_url, gunicorn):  # noqa: F811
    add_letter()
    make_user("amira")
    server = gunicorn(
        {
            "DATABASE_URL": database_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "AGENT_HOURS": "00:00-24:00",
            "DB_STATEMENT_TIMEOUT_MS": 3000,
        },
        workers=2,
        worker_class="gevent",
    )
    mid_call = Caller(HttpTwilio(server.base, AUTH_TOKEN, sid(1)))
    mid_call.walk("3", "1", "1234", "1")
    waiting = Caller(HttpTwilio(server.base, AUTH_TOKEN, sid(2), caller="+9647501110002"))
    wait_url = waiting.walk("3", "0").enqueued.get("waitUrl")
    leaving = Caller(HttpTwilio(server.base, AUTH_TOKEN, sid(3), caller="+9647501110003"))
    leaving.walk("3")
    new_caller = HttpTwilio(server.base, AUTH_TOKEN, sid(4), caller="+9647501110004")
    db.session.remove()

    measured = {}
    with table_locked(database_url, "call", hold_s=30):
        step = mid_call.twilio.post(mid_call.answer.action, Digits="15032024")
        first = new_caller.post("/ivr/voice")
        hold = waiting.twilio.post(wait_url, QueuePosition="1")
        final = leaving.twilio.post("/ivr/status", CallStatus="completed", CallDuration="30")
        measured = {
            "step": step.elapsed_s,
            "new call": first.elapsed_s,
            "wait URL": hold.elapsed_s,
            "status callback": final.elapsed_s,
        }
        print("\nwith `call` locked: " + ", ".join(f"{k} {v:.2f} s" for k, v in measured.items()))
        for name, seconds in measured.items():
            assert seconds < BUDGET_S, f"{name} took {seconds:.2f} s during the stall"
        assert APOLOGY_EN in Answer.of(step).text and Answer.of(step).enqueued is not None
        assert APOLOGY_AR in Answer.of(first).text and Answer.of(first).enqueued is not None
        assert Answer.of(hold).played
        assert final.status_code == 503, "a status callback that was not stored must be retried"

    # The lock is gone: Twilio fetches the wait URLs again and retries the status callback.
    started = time.monotonic()
    for caller, url in (
        (mid_call.twilio, Answer.of(step).enqueued.get("waitUrl")),
        (new_caller, Answer.of(first).enqueued.get("waitUrl")),
    ):
        assert Answer.of(caller.post(url, QueuePosition="2")).played
    assert leaving.twilio.post("/ivr/status", CallStatus="completed", CallDuration="30").status_code == 200
    print(f"after the stall: recorded in {time.monotonic() - started:.2f} s")
    assert [c.sid for c in waiting_calls()] == [sid(2), sid(1), sid(4)]
    assert the_call(sid(1)).outcome == Outcome.error and the_call(sid(4)).outcome == Outcome.error
    assert the_call(sid(3)).ended_at is not None and the_call(sid(3)).twilio_status == "completed"
