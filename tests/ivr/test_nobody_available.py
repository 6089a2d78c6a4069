"""Within agent hours, with nobody to answer: a callback offer, never an endless queue."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain.calls.queue import waiting_calls
from extensions import db
from models import Call, CallbackRequest, Outcome, Presence, User
from tests.support.ivr import ON_DUTY, Answer, Caller, agent_on_duty
from tests.support.webhooks import Twilio


@pytest.fixture
def caller(twilio, app_context):
    return Caller(twilio)


def the_call(sid=Twilio.DEFAULT_SID) -> Call:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.sid == sid))


def set_duty(presence: Presence, active: bool = True) -> None:
    agent_on_duty()
    user = db.session.scalar(select(User).where(User.username == ON_DUTY))
    user.presence, user.active = presence, active
    db.session.commit()


@pytest.mark.parametrize(
    "presence, active",
    [
        (None, True),
        (Presence.away, True),
        (Presence.offline, True),
        (Presence.available, False),
    ],
)
def test_with_every_agent_away_or_logged_out_zero_offers_a_callback(caller, presence, active):
    if presence is not None:
        set_duty(presence, active)
    answer = caller.walk("3", "0")
    assert answer.enqueued is None
    assert "No agent is free to answer right now." in answer.text
    assert "To ask an agent to call you back, press 1." in answer.text
    answer = caller.press("1")
    assert "An agent will call you back" in answer.text and answer.hung_up
    assert the_call().outcome == Outcome.callback_requested and the_call().queued_at is None
    assert [c.phone for c in db.session.scalars(select(CallbackRequest))] == ["+9647501234567"]
    assert waiting_calls() == []


@pytest.mark.parametrize("presence", [Presence.available, Presence.on_call, Presence.wrap_up])
def test_an_agent_available_on_a_call_or_wrapping_up_means_the_queue(caller, presence):
    set_duty(presence)
    answer = caller.walk("3", "0")
    assert answer.enqueued is not None and "Please hold" in answer.text
    assert [c.sid for c in waiting_calls()] == [the_call().sid]


def test_declining_the_offer_in_hours_ends_politely_without_calling_it_after_hours(caller, twilio):
    caller.walk("3", "0")
    answer = caller.press("2")
    assert answer.hung_up and "Thank you for calling" in answer.text
    twilio.post("/ivr/status", CallStatus="completed", CallDuration="20")
    assert the_call().outcome == Outcome.hung_up_in_ivr


def test_a_withheld_caller_with_nobody_available_is_asked_to_call_later(client, app_context):
    answer = Caller(Twilio(client, caller="anonymous")).walk("3", "0")
    assert answer.enqueued is None and answer.hung_up
    assert "your number is withheld. Please call again later." in answer.text
    assert "during our agents' hours" not in answer.text


def test_a_waiting_caller_is_told_and_offered_a_callback_when_the_last_agent_leaves(caller, twilio):
    agent_on_duty()
    enqueued = caller.walk("3", "0").enqueued
    wait_url, left_url = enqueued.get("waitUrl"), enqueued.get("action")
    held = Answer.of(twilio.post(wait_url, QueuePosition="1"))
    assert held.played and held.root.find("Leave") is None

    set_duty(Presence.away)  # the last agent steps away; Twilio fetches the wait URL again

    told = Answer.of(twilio.post(wait_url, QueuePosition="1"))
    assert "No agent is free to answer right now." in told.text
    assert told.root.find("Leave") is not None and not told.played
    # Twilio then posts the <Enqueue action> with QueueResult=leave: the callback offer.
    offer = Caller(twilio)
    offer.answer = Answer.of(twilio.post(left_url, QueueResult="leave", QueueTime="40"))
    assert "To ask an agent to call you back, press 1." in offer.answer.text
    assert waiting_calls() == []  # off the consoles' queue
    assert "An agent will call you back" in offer.press("1").text
    assert the_call().outcome == Outcome.callback_requested and the_call().queue_result == "leave"


def test_the_wait_url_keeps_the_caller_waiting_when_presence_cannot_be_read(twilio, app_context, monkeypatch):
    import ivr.twilio_events

    def broken():
        raise RuntimeError("database away")

    monkeypatch.setattr(ivr.twilio_events, "someone_answering", broken)
    held = Answer.of(twilio.post("/ivr/queue/wait?lang=en", QueuePosition="3"))
    assert held.played and held.root.find("Leave") is None
