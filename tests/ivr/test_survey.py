"""The post-call survey: after the agent hangs up, the caller keys a score from 1 to 5."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest

from domain.calls.agent import claim
from extensions import db
from models import Call, CallEvent
from tests.support.console import enqueue_caller, make_user
from tests.support.webhooks import Twilio
from voice_prompts import catalog


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.data)


def said(root: ET.Element) -> str:
    return " ".join(el.text or "" for el in root.iter("Say"))


def fresh(call_id: int) -> Call:
    db.session.expire_all()
    return db.session.get(Call, call_id)


@pytest.fixture
def survey_on(app):
    app.config["SURVEY_ENABLED"] = True
    yield
    app.config["SURVEY_ENABLED"] = False


def talked_to_an_agent(client, language: str = "en"):
    """A caller reaches an agent, who answers and then hangs up; returns (call, what the caller hears)."""
    call = enqueue_caller(client, 1, ask_letter=False)
    if language != "en":
        call.language = language
        db.session.commit()
    assert claim(call.id, make_user("amira"))
    db.session.commit()  # claim() leaves the commit to its caller
    caller = Twilio(client, sid=call.sid)
    dial = twiml(caller.post(f"/ivr/agent/connect?call={call.id}")).find("Dial")
    heard = twiml(caller.post(dial.get("action"), DialCallStatus="completed", DialCallDuration="95"))
    return fresh(call.id), caller, heard


def survey_events(call_id: int) -> list[tuple[str, str | None, str]]:
    db.session.expire_all()
    return [
        (e.step, e.digits, e.result)
        for e in db.session.query(CallEvent).filter_by(call_id=call_id, step="survey").order_by(CallEvent.id)
    ]


def test_without_the_setting_the_caller_hears_goodbye(app_context, client):
    call, _caller, heard = talked_to_an_agent(client)
    assert heard.find("Hangup") is not None and heard.find("Gather") is None
    assert catalog("en")["survey_ask"] not in said(heard)


def test_after_the_agent_hangs_up_the_caller_is_asked_for_a_score(app_context, client, survey_on):
    call, caller, heard = talked_to_an_agent(client)
    gather = heard.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    assert urlsplit(gather.get("action")).path == "/ivr/survey"
    assert parse_qs(urlsplit(gather.get("action")).query)["lang"] == ["en"]
    assert catalog("en")["survey_ask"] in said(heard)

    thanked = twiml(caller.post(gather.get("action"), Digits="4"))
    assert catalog("en")["survey_thanks"] in said(thanked) and "Goodbye" in said(thanked)
    assert thanked.find("Hangup") is not None
    assert fresh(call.id).survey_score == 4
    assert survey_events(call.id) == [("survey", "4", "score:4")]


def test_the_score_is_kept_once(app_context, client, survey_on):
    call, caller, heard = talked_to_an_agent(client)
    action = heard.find("Gather").get("action")
    caller.post(action, Digits="2")
    caller.post(action, Digits="2")  # Twilio replays the webhook
    caller.post(action.replace("s=", "s=9"), Digits="5")  # a later answer to the same question
    assert fresh(call.id).survey_score == 2
    assert survey_events(call.id) == [("survey", "2", "score:2"), ("survey", "5", "already_scored")]


def test_a_wrong_key_is_asked_again_once_then_goodbye(app_context, client, survey_on):
    call, caller, heard = talked_to_an_agent(client)
    again = twiml(caller.post(heard.find("Gather").get("action"), Digits="9"))
    assert catalog("en")["invalid_choice"] in said(again) and catalog("en")["survey_ask"] in said(again)
    gather = again.find("Gather")
    assert parse_qs(urlsplit(gather.get("action")).query)["t"] == ["2"]
    bye = twiml(caller.post(gather.get("action"), Digits="0"))
    assert bye.find("Hangup") is not None and bye.find("Gather") is None
    assert "Goodbye" in said(bye) and catalog("en")["survey_thanks"] not in said(bye)
    assert fresh(call.id).survey_score is None
    assert [r for _, _, r in survey_events(call.id)] == ["retry", "no_score"]


def test_silence_is_asked_again_then_goodbye(app_context, client, survey_on):
    call, caller, heard = talked_to_an_agent(client)
    again = twiml(caller.post(heard.find("Gather").get("action")))
    assert catalog("en")["no_input"] in said(again)
    bye = twiml(caller.post(again.find("Gather").get("action")))
    assert bye.find("Hangup") is not None and fresh(call.id).survey_score is None


def test_a_caller_who_hung_up_is_not_asked(app_context, client, survey_on):
    call = enqueue_caller(client, 1, ask_letter=False)
    assert claim(call.id, make_user("amira"))
    db.session.commit()  # claim() leaves the commit to its caller
    caller = Twilio(client, sid=call.sid)
    dial = twiml(caller.post(f"/ivr/agent/connect?call={call.id}")).find("Dial")
    heard = twiml(caller.post(dial.get("action"), DialCallStatus="completed", CallStatus="completed"))
    assert heard.find("Gather") is None


@pytest.mark.parametrize("language", ["ar", "ckb"])
def test_the_question_is_in_the_callers_language(app_context, client, survey_on, language):
    call, caller, heard = talked_to_an_agent(client, language)
    gather = heard.find("Gather")
    assert parse_qs(urlsplit(gather.get("action")).query)["lang"] == [language]
    # Kurdish is recorded audio; until the clip exists the Arabic prompt is spoken instead.
    assert catalog("ar")["survey_ask"] in said(heard) or gather.find("Play") is not None
    thanked = twiml(caller.post(gather.get("action"), Digits="5"))
    assert catalog("ar")["survey_thanks"] in said(thanked) or thanked.find("Play") is not None
    assert fresh(call.id).survey_score == 5


def test_an_unsigned_answer_changes_nothing(app_context, client, survey_on):
    call, caller, heard = talked_to_an_agent(client)
    response = caller.post(heard.find("Gather").get("action"), signed=False, Digits="1")
    assert response.status_code == 403 and fresh(call.id).survey_score is None
