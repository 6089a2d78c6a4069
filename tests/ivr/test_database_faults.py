"""When the database fails a webhook: one timeout only, the caller recorded later, Twilio asked to retry."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

import ivr.steps
import ivr.twilio_events
from domain.calls.queue import waiting_calls
from extensions import db
from models import Call, Outcome
from tests.support.ivr import Answer, Caller, agent_on_duty
from tests.support.webhooks import Twilio


def the_call(sid=Twilio.DEFAULT_SID) -> Call | None:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.sid == sid))


def timed_out(*args, **kwargs):
    raise OperationalError("SELECT", {}, Exception("canceling statement due to statement timeout"))


def test_a_step_the_database_failed_is_not_marked_with_a_second_statement(twilio, app_context, monkeypatch):
    marked = []
    monkeypatch.setattr(ivr.steps, "mark_error", marked.append)
    monkeypatch.setattr(ivr.steps, "get_or_create_call", timed_out)
    answer = Answer.of(twilio.post("/ivr/voice"))
    assert answer.enqueued is not None and "نعتذر" in answer.text  # the apology, then the queue
    assert marked == []


def test_the_wait_url_records_a_caller_the_apology_queued_unrecorded(twilio, app_context):
    agent_on_duty()
    Answer.of(twilio.post("/ivr/queue/wait?lang=ar", QueuePosition="1"))  # no row at all yet
    call = the_call()
    assert call is not None and call.queued_at is not None and call.outcome == Outcome.error
    assert [c.id for c in waiting_calls()] == [call.id]
    queued_at = call.queued_at
    Answer.of(twilio.post("/ivr/queue/wait?lang=ar", QueuePosition="1"))  # the next fetch changes nothing
    assert the_call().queued_at == queued_at


def test_the_wait_url_records_a_half_call_without_queued_at(twilio, app_context):
    agent_on_duty()
    Caller(twilio).walk("3")
    assert the_call().queued_at is None
    Answer.of(twilio.post("/ivr/queue/wait?lang=en", QueuePosition="2"))
    assert the_call().queued_at is not None and [c.sid for c in waiting_calls()] == [the_call().sid]


def test_the_wait_url_leaves_an_ended_call_alone(twilio, app_context):
    agent_on_duty()
    Caller(twilio).walk("3")
    twilio.post("/ivr/status", CallStatus="completed", CallDuration="9")
    Answer.of(twilio.post("/ivr/queue/wait?lang=en", QueuePosition="2"))
    assert the_call().queued_at is None and waiting_calls() == []


@pytest.mark.parametrize("fails", ["get_call", "finish_call"])
def test_a_status_callback_that_could_not_be_stored_asks_twilio_to_retry(twilio, app_context, monkeypatch, fails):
    Caller(twilio).walk("3")
    monkeypatch.setattr(ivr.twilio_events, fails, timed_out)
    assert twilio.post("/ivr/status", CallStatus="completed", CallDuration="9").status_code == 503
    monkeypatch.undo()
    assert twilio.post("/ivr/status", CallStatus="completed", CallDuration="9").status_code == 200
    assert the_call().ended_at is not None
