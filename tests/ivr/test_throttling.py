"""Can a caller guess letters by trying many numbers? Every limit, and the polite answer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from models import Call, Outcome
from tests.support.ivr import Caller, add_letter, agent_on_duty
from tests.support.webhooks import Twilio

KEYED_DATE = "15032024"


def sid(n: int) -> str:
    return f"CA{n:032d}"


def guess(client, number: str, call_sid: str, caller="+9647501234567", keyed_date="16032024"):
    """One call that tries one wrong (number, date) and ends at the lookup."""
    return Caller(Twilio(client, sid=call_sid, caller=caller)).walk("3", "1", number, "1", keyed_date, "1")


@pytest.fixture(autouse=True)
def context(app_context):
    agent_on_duty()  # throttled callers are offered an agent's queue
    yield


def test_three_failed_lookups_in_one_call_go_to_an_agent(twilio):
    caller = Caller(twilio)
    caller.walk("3", "1", "1111", "1", KEYED_DATE, "1")
    for number in ("2222", "3333"):
        caller.press("1")  # try again
        answer = caller.press(number)
        answer = caller.press("1")
        answer = caller.press(KEYED_DATE)
        answer = caller.press("1")
    assert "We could not find a letter" in answer.text
    assert "we cannot look up more letters on this call" in answer.text
    assert answer.enqueued is not None
    call = db.session.scalar(select(Call))
    assert call.outcome == Outcome.throttled


def test_a_throttled_call_cannot_start_another_lookup(twilio):
    caller = Caller(twilio)
    caller.walk("3", "1", "1111", "1", KEYED_DATE, "1")
    for number in ("2222", "3333"):
        caller.press("1")
        caller.press(number)
        caller.press("1")
        caller.press(KEYED_DATE)
        caller.press("1")
    second = Caller(twilio)
    answer = second.walk("3", "1")  # the same CallSid asks again from the menu
    assert "we cannot look up more letters" in answer.text
    assert answer.gather is None


def test_ten_failures_per_caller_per_hour_across_calls(client):
    for n in range(10):
        guess(client, f"5{n:03d}", sid(n))
    answer = Caller(Twilio(client, sid=sid(99))).walk("3", "1")
    assert "we cannot look up more letters" in answer.text
    other = Caller(Twilio(client, sid=sid(98), caller="+9647709876543")).walk("3", "1")
    assert other.action_path == "/ivr/number"


def test_withheld_numbers_share_one_bucket(client):
    for n in range(10):
        guess(client, f"6{n:03d}", sid(n), caller="anonymous")
    answer = Caller(Twilio(client, sid=sid(50), caller="restricted")).walk("3", "1")
    assert "we cannot look up more letters" in answer.text


def test_a_number_guessed_too_often_is_for_agents_only_today(client):
    add_letter(number="4242")
    for n in range(20):
        guess(client, "4242", sid(n), caller=f"+96475000000{n:02d}")  # the wrong date each time
    answer = Caller(Twilio(client, sid=sid(77), caller="+9647709999999")).walk("3", "1", "4242", "1", KEYED_DATE, "1")
    assert "this letter can only be discussed with an agent today" in answer.text
    assert "forwarded" not in answer.text  # even with the right date: nothing disclosed
    assert answer.enqueued is not None
    assert answer.root.tag == "Response"


def test_a_throttled_webhook_still_answers_200_with_twiml(client):
    for n in range(10):
        guess(client, f"7{n:03d}", sid(n))
    twilio = Twilio(client, sid=sid(60))
    response = twilio.post("/ivr/menu?lang=en&s=2", Digits="1")
    assert response.status_code == 200 and response.mimetype == "text/xml"


def test_successful_lookups_do_not_count(client):
    add_letter(number="1234")
    for n in range(12):
        answer = Caller(Twilio(client, sid=sid(n))).walk("3", "1", "1234", "1", KEYED_DATE, "1")
        assert "This letter has been forwarded." in answer.text
