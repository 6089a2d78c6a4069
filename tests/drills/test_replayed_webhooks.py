"""Drill: whole recorded calls replayed after they ended, and forged copies of their webhooks.

Twilio's signature has no timestamp, so anyone who captured a call's requests can send
them again, byte for byte, and they verify. Three calls are played and every request
recorded (a lookup with SMS keys, a retry and a hand-off then hang-up in the queue; a call
answered by an agent; a callback asked for after hours). Replayed afterwards, in order or
shuffled, each request answers 200 with valid TwiML and nothing is written twice: no new
call, step, lookup, SMS, subscription or callback, the same call rows, the agent's
presence untouched. Forged copies (another token, an altered body, an altered URL, no
signature) are 403 and write nothing.

One replayed webhook in the middle of a call:
tests/ivr/test_call_flow.py::test_a_replayed_webhook_writes_nothing_twice.
Every route refusing a missing or wrong signature: tests/ivr/test_signatures.py.
"""

from __future__ import annotations

import random
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from config import Hours
from domain.calls.agent import claim, wrap_up
from extensions import db
from models import Call, CallbackRequest, CallEvent, LookupAttempt, Presence, SmsMessage, Subscription, User
from tests.support.console import make_user
from tests.support.ivr import Answer, Caller, add_letter
from tests.support.jobs import SMS_FROM
from tests.support.webhooks import PUBLIC_BASE_URL, Twilio, sign

ROWS = (Call, CallEvent, LookupAttempt, SmsMessage, Subscription, CallbackRequest)
CALL_FIELDS = (
    "caller",
    "language",
    "outcome",
    "started_at",
    "ended_at",
    "twilio_status",
    "duration_s",
    "asked_number",
    "asked_date",
    "found",
    "transaction_id",
    "queued_at",
    "queue_left_at",
    "queue_result",
    "answered_at",
    "agent_id",
    "taken_at",
    "agent_ended_at",
    "wrapped_up_at",
)


class Recorder:
    """Stands between `Twilio` and the test client: keeps every request exactly as sent,
    with the agent hours it was answered under (a replay is answered under the same)."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        self.sent: list[tuple[str, dict, dict, Hours]] = []

    def post(self, path, data=None, headers=None):
        self.sent.append((path, dict(data), dict(headers or {}), self.app.config["AGENT_HOURS"]))
        return self.client.post(path, data=data, headers=headers)


def state() -> dict:
    """Everything a webhook may write: row counts, every call's fields, the agents' presence."""
    db.session.expire_all()
    counts = {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in ROWS}
    calls = {call.sid: {name: getattr(call, name) for name in CALL_FIELDS} for call in db.session.scalars(select(Call))}
    presence = {user.username: (user.presence, user.presence_since) for user in db.session.scalars(select(User))}
    return {"counts": counts, "calls": calls, "presence": presence}


@pytest.fixture
def sms_on(app, twilio_api, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_FROM", SMS_FROM)  # jobs run inline: sent to the stand-in
    return twilio_api


@pytest.fixture
def recorded(app, app_context, client, sms_on, monkeypatch) -> Recorder:
    """Three whole calls, played once, every request kept."""
    add_letter()
    recorder = Recorder(app, client)

    agent = make_user("amira")  # on duty: callers who ask for an agent are queued
    # 1. Status, SMS now (2), SMS on change (3), another letter not found, agent, hangs up waiting.
    caller = Caller(Twilio(recorder, sid="CA" + "1" * 32))
    assert "This letter has been forwarded." in caller.walk("3", "1", "1234", "1", "15032024", "1").text
    caller.press("2")
    caller.press("3")
    for digits in ("9", "9999", "1", "15032024", "1"):
        caller.press(digits)
    assert "We could not find a letter" in caller.answer.text
    enqueue = caller.press("0").enqueued
    caller.twilio.post(enqueue.get("waitUrl"), QueuePosition="1")
    caller.twilio.post(enqueue.get("action"), QueueResult="hangup", QueueTime="20")
    caller.twilio.post("/ivr/status", CallStatus="completed", CallDuration="95")

    # 2. Answered by an agent, who wraps up.
    answered = Caller(Twilio(recorder, sid="CA" + "2" * 32, caller="+9647709876543"))
    answered.walk("3", "0")
    call = db.session.scalar(select(Call).where(Call.sid == answered.twilio.sid))
    assert claim(call.id, agent)
    db.session.commit()  # claim() leaves the commit to its caller
    dial = Answer.of(answered.twilio.post(f"/ivr/agent/connect?call={call.id}")).root.find("Dial")
    answered.twilio.post(dial.get("action"), DialCallStatus="completed", DialCallDuration="60")
    answered.twilio.post("/ivr/status", CallStatus="completed", CallDuration="80")
    db.session.expire_all()
    wrap_up(db.session.get(Call, call.id))
    db.session.commit()

    # 3. After hours: a callback asked for.
    monkeypatch.setitem(app.config, "AGENT_HOURS", Hours.parse("00:00-00:00"))
    night = Caller(Twilio(recorder, sid="CA" + "3" * 32, caller="+9647701234567"))
    assert "An agent will call you back" in night.walk("3", "0", "1").text
    night.twilio.post("/ivr/status", CallStatus="completed", CallDuration="30")

    played = state()
    assert played["counts"] == {
        "Call": 3,
        "CallEvent": played["counts"]["CallEvent"],
        "LookupAttempt": 2,
        "SmsMessage": 1,
        "Subscription": 1,
        "CallbackRequest": 1,
    }
    assert len(sms_on.messages_sent()) == 1
    assert db.session.get(User, agent.id).presence == Presence.available
    return recorder


def replay(app, client, requests) -> None:
    for path, form, headers, hours in requests:
        app.config["AGENT_HOURS"] = hours
        response = client.post(path, data=form, headers=headers)
        assert response.status_code == 200, (path, response.data[:300])
        Answer.of(response)  # text/xml, parsed


def without_presence(snapshot: dict) -> dict:
    """The agents' presence is asserted on its own below, so that its failure reads plainly."""
    return {name: value for name, value in snapshot.items() if name != "presence"}


def test_whole_calls_replayed_in_order_write_nothing_twice(app, client, recorded, sms_on):
    before = state()
    replay(app, client, recorded.sent)
    assert without_presence(state()) == without_presence(before)
    assert len(sms_on.messages_sent()) == 1


def test_a_replayed_agent_leg_leaves_the_wrapped_up_agent_available(app, client, recorded):
    agent_leg = [request for request in recorded.sent if request[0].startswith("/ivr/agent/")]
    assert [urlsplit(request[0]).path for request in agent_leg] == ["/ivr/agent/connect", "/ivr/agent/done"]
    replay(app, client, agent_leg)
    after = state()["presence"]["amira"][0]
    assert after == Presence.available, (
        f"replaying the ended call's agent webhooks set the agent who had wrapped up to {after.value}: "
        "she is no longer offered calls"
    )


def test_whole_calls_replayed_shuffled_write_nothing_twice(app, client, recorded, sms_on):
    before = state()
    shuffled = list(recorded.sent)
    random.Random(5599).shuffle(shuffled)
    replay(app, client, shuffled)
    after = state()
    assert after["counts"] == before["counts"]
    for sid, fields in before["calls"].items():
        for name in (
            "outcome",
            "ended_at",
            "duration_s",
            "queued_at",
            "queue_left_at",
            "answered_at",
            "agent_id",
            "agent_ended_at",
            "wrapped_up_at",
        ):
            assert after["calls"][sid][name] == fields[name], (sid, name)
    assert len(sms_on.messages_sent()) == 1


def altered_url(path: str) -> str:
    parts = urlsplit(path)
    return parts.path + "?" + (parts.query + "&" if parts.query else "") + "lang=en"


def forgeries(path: str, form: dict, headers: dict):
    """Each request with one thing wrong; the signature otherwise as Twilio made it."""
    genuine = headers["X-Twilio-Signature"]
    yield "another token", path, form, {"X-Twilio-Signature": sign(PUBLIC_BASE_URL + path, form, "not-the-token")}
    yield "no signature", path, form, {}
    yield "another call", path, {**form, "CallSid": "CA" + "f" * 32}, {"X-Twilio-Signature": genuine}
    if "Digits" in form:
        yield "other keys", path, {**form, "Digits": form["Digits"] + "0"}, {"X-Twilio-Signature": genuine}
    if "CallStatus" in form:
        yield (
            "other status",
            path,
            {**form, "CallStatus": "ringing", "CallDuration": "1"},
            {"X-Twilio-Signature": genuine},
        )
    yield "altered URL", altered_url(path), form, {"X-Twilio-Signature": genuine}


def test_forged_copies_of_every_request_are_refused_and_write_nothing(client, recorded, sms_on):
    before = state()
    tried = 0
    for path, form, headers, _ in recorded.sent:
        for what, forged_path, forged_form, forged_headers in forgeries(path, form, headers):
            response = client.post(forged_path, data=forged_form, headers=forged_headers)
            assert response.status_code == 403, (what, forged_path)
            tried += 1
    assert tried > 5 * len(recorded.sent)
    assert state() == before
    assert len(sms_on.messages_sent()) == 1
