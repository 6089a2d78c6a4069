"""Drill: status callbacks delivered twice, late, and out of order.

Twilio's webhooks travel separately and may arrive in any order or more than once (its
retries, a proxy's). Whatever the order, each call row must end the same, and the KPIs
(domain.reporting.kpis) and the call log (domain.reporting.call_log) must count each call once:

- `completed` twice, then a stale `ringing` / `in-progress`;
- `completed` arriving before the last <Gather> webhook of the call;
- the agent's leg: the <Dial action> (/ivr/agent/done) repeated, and before or after the
  call's `completed`; an agent who does not answer, reported twice.

A single repeated `completed`: tests/ivr/test_call_flow.py::test_status_callback_records_the_end_once.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from domain.calls.agent import claim
from domain.calls.queue import waiting_calls
from domain.clock import local_today
from domain.reporting.call_log import CallFilters, call_log_rows
from domain.reporting.kpis import Kpis, Period, overall
from extensions import db
from models import Call, CallEvent, Outcome, Presence, User
from tests.support.console import make_user
from tests.support.ivr import Answer, Caller, add_letter, agent_on_duty
from tests.support.webhooks import Twilio

LOOKUP = ("3", "1", "1234", "1", "15032024", "1")  # to the spoken status
ROW_FIELDS = (
    "outcome",
    "twilio_status",
    "duration_s",
    "ended_at",
    "queued_at",
    "queue_left_at",
    "queue_result",
    "answered_at",
    "agent_id",
    "agent_ended_at",
    "found",
    "transaction_id",
)


@pytest.fixture(autouse=True)
def letter(app_context):
    return add_letter()


def sid(n: int) -> str:
    return f"CA{n:032d}"


def the_call(call_sid: str) -> Call:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.sid == call_sid))


def row(call_sid: str) -> dict:
    call = the_call(call_sid)
    return {name: getattr(call, name) for name in ROW_FIELDS}


def shape(call_sid: str) -> dict:
    """The row without its clock readings: what must not depend on the order of delivery."""
    call = the_call(call_sid)
    return {
        "outcome": call.outcome,
        "twilio_status": call.twilio_status,
        "duration_s": call.duration_s,
        "ended": call.ended_at is not None,
        "queued": call.queued_at is not None,
        "left_queue": call.queue_left_at is not None,
        "queue_result": call.queue_result,
        "answered": call.answered_at is not None,
        "agent_ended": call.agent_ended_at is not None,
        "waiting": call.id in [c.id for c in waiting_calls()],
    }


def kpis(app) -> Kpis:
    today = local_today(app.config["TIMEZONE"])
    return overall(
        Period(today, today), tz_name=app.config["TIMEZONE"], service_level_s=app.config["SERVICE_LEVEL_SECONDS"]
    )


def logged_calls(app) -> int:
    return len(list(call_log_rows(CallFilters(), tz_name=app.config["TIMEZONE"])))


def status(client, call_sid: str, call_status: str, duration: str | None = None):
    response = Twilio(client, sid=call_sid).post("/ivr/status", CallStatus=call_status, CallDuration=duration)
    assert Answer.of(response).root.tag == "Response"


def status_events(call_sid: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(CallEvent).join(Call).where(Call.sid == call_sid, CallEvent.step == "status")
    )


# --- the call's own status callback ----------------------------------------------------------


def test_completed_twice_then_stale_statuses_change_nothing(app, client):
    Caller(Twilio(client, sid=sid(1))).walk(*LOOKUP)
    status(client, sid(1), "completed", "37")
    first = row(sid(1))
    status(client, sid(1), "completed", "37")
    for stale in ("ringing", "in-progress", "ringing"):
        status(client, sid(1), stale)
    assert row(sid(1)) == first
    assert first["twilio_status"] == "completed" and first["duration_s"] == 37
    assert first["outcome"] == Outcome.self_served and first["ended_at"] is not None
    assert status_events(sid(1)) == 1
    figures = kpis(app)
    assert (figures.offered, figures.self_served, figures.queued, figures.abandoned) == (1, 1, 0, 0)
    assert logged_calls(app) == 1


@pytest.mark.parametrize(
    "last_key, expected",
    [
        ("1", {"outcome": Outcome.self_served, "queued": False}),  # hears the status again
        ("0", {"outcome": Outcome.abandoned_in_queue, "queued": True}),  # asks for an agent, hangs up
    ],
)
def test_completed_before_the_last_gather_ends_the_call_as_in_order(app, client, last_key, expected):
    agent_on_duty()
    in_order, late = Caller(Twilio(client, sid=sid(1))), Caller(Twilio(client, sid=sid(2)))
    in_order.walk(*LOOKUP)
    in_order.press(last_key)
    status(client, sid(1), "completed", "40")

    late.walk(*LOOKUP)
    status(client, sid(2), "completed", "40")  # the hang-up overtakes the key pressed before it
    Answer.of(late.twilio.post(late.answer.action, Digits=last_key))

    assert {name: shape(sid(1))[name] for name in expected} == expected
    assert shape(sid(2)) == shape(sid(1)), "the order of delivery changed how the call ended"
    assert not shape(sid(2))["waiting"]
    figures = kpis(app)
    assert figures.offered == 2 and logged_calls(app) == 2
    if expected["queued"]:
        assert (figures.queued, figures.abandoned, figures.answered) == (2, 2, 0), figures
    else:
        assert (figures.self_served, figures.queued) == (2, 0), figures


# --- the agent's leg ---------------------------------------------------------------------------


def taken_call(client, n: int, agent):
    """A caller in the queue, taken by the agent; Twilio has run the redirect to agent/connect."""
    caller = Caller(Twilio(client, sid=sid(n), caller=f"+96475000000{n:02d}"))
    assert caller.walk("3", "0").enqueued is not None
    call = the_call(sid(n))
    assert claim(call.id, agent)
    db.session.commit()  # claim() leaves the commit to its caller
    dial = Answer.of(caller.twilio.post(f"/ivr/agent/connect?call={call.id}")).root.find("Dial")
    assert dial is not None
    return caller, dial.get("action")


def agent_done(caller, action: str, dial_status: str, call_status: str = "in-progress", duration: str = "60"):
    return Answer.of(
        caller.twilio.post(action, DialCallStatus=dial_status, DialCallDuration=duration, CallStatus=call_status)
    )


@pytest.mark.parametrize("order", ["dial_action_first", "completed_first"])
def test_an_answered_call_ends_once_whatever_the_order_of_its_callbacks(app, client, order):
    agent = make_user("amira")
    caller, action = taken_call(client, 1, agent)
    if order == "dial_action_first":  # the agent hangs up, then the caller
        assert agent_done(caller, action, "completed").hung_up
        status(client, sid(1), "completed", "90")
    else:  # the caller hangs up: the call's callback overtakes the <Dial action>
        status(client, sid(1), "completed", "90")
        agent_done(caller, action, "completed", call_status="completed")
    first = row(sid(1))
    # Everything once more, and a stale status.
    agent_done(caller, action, "completed", call_status="completed")
    status(client, sid(1), "completed", "90")
    status(client, sid(1), "in-progress")
    assert row(sid(1)) == first

    assert first["outcome"] == Outcome.agent_answered and first["duration_s"] == 90
    assert first["answered_at"] and first["agent_ended_at"] and first["ended_at"]
    assert first["queue_left_at"] and first["queue_result"] == "redirected"
    db.session.expire_all()
    assert db.session.get(User, agent.id).presence == Presence.wrap_up
    figures = kpis(app)
    assert (figures.offered, figures.queued, figures.answered, figures.abandoned) == (1, 1, 1, 0), figures
    assert figures.answered_in_time == 1 and figures.asa_s is not None and figures.aht_s is not None
    assert logged_calls(app) == 1 and status_events(sid(1)) == 1


def test_an_agent_who_does_not_answer_requeues_the_caller_once(app, client):
    agent = make_user("amira")
    caller, action = taken_call(client, 1, agent)
    assert agent_done(caller, action, "no-answer").enqueued is not None
    waiting = row(sid(1))
    assert waiting["agent_id"] is None and waiting["answered_at"] is None and waiting["queue_left_at"] is None
    assert [c.sid for c in waiting_calls()] == [sid(1)]

    status(client, sid(1), "completed", "75")  # the caller gives up waiting
    status(client, sid(1), "completed", "75")
    ended = row(sid(1))
    assert ended["outcome"] == Outcome.abandoned_in_queue and ended["queue_left_at"] is not None
    assert waiting_calls() == []
    figures = kpis(app)
    assert (figures.offered, figures.queued, figures.answered, figures.abandoned) == (1, 1, 0, 1), figures
    assert logged_calls(app) == 1 and status_events(sid(1)) == 1


def test_a_repeated_no_answer_dial_action_keeps_the_caller_in_the_queue(client):
    """Twilio retrying the <Dial action> (or a proxy repeating it) must not hang up on the caller."""
    agent = make_user("amira")
    caller, action = taken_call(client, 1, agent)
    first = agent_done(caller, action, "no-answer")
    again = agent_done(caller, action, "no-answer")
    assert first.enqueued is not None
    assert again.enqueued is not None and not again.hung_up, "the repeated no-answer callback answered: " + again.text
    assert [c.sid for c in waiting_calls()] == [sid(1)]
