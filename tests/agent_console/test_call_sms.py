"""From the call screen, can the agent send the caller the letter's status by SMS, once per call?"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from domain.calls.agent import claim
from extensions import db
from models import AuditEntry, Call, CallLetter, SmsKind, SmsMessage, User
from tests.support.console import agent_client, csrf_token, enqueue_caller, letter
from tests.support.ivr import add_letter
from tests.support.webhooks import Twilio


@pytest.fixture
def sms_to_stand_in(app, twilio_api):
    app.config["SMS_FROM"] = "+15005550006"
    yield twilio_api
    app.config["SMS_FROM"] = ""


def taken(app, client, caller: str):
    record = letter()
    call = enqueue_caller(client, 1, caller=caller)
    browser = agent_client(app, "amira")
    assert claim(call.id, db.session.scalar(select(User).where(User.username == "amira")))
    db.session.commit()  # claim() leaves the commit to its caller
    Twilio(client, sid=call.sid).post(f"/ivr/agent/connect?call={call.id}")
    return browser, db.session.get(Call, call.id), record


def send(browser, call, record):
    token = csrf_token(browser, f"/console/calls/{call.id}")
    answer = browser.post(f"/console/calls/{call.id}/sms/{record.id}", data={"csrf_token": token})
    assert answer.status_code == 302
    return browser.get(answer.headers["Location"])  # the call screen, with the flashed outcome


def test_the_agent_sends_the_status_once_per_call(app, app_context, client, sms_to_stand_in):
    browser, call, record = taken(app, client, "+9647501234567")
    assert "Send status by SMS" in browser.get(f"/console/calls/{call.id}").get_data(as_text=True)
    first = send(browser, call, record).get_data(as_text=True)
    # the message as the outbox has it, not "sending": Twilio took it, delivery not yet confirmed
    assert 'data-status="sent"' in first and "Sent; delivery not confirmed yet" in first
    assert "Send status by SMS" not in first  # one per call: the result, not the button
    again = send(browser, call, record)
    assert "already made on this call; its result is shown below" in again.get_data(as_text=True)
    message = db.session.scalars(select(SmsMessage)).one()
    assert message.kind == SmsKind.agent and message.call_id == call.id and message.user_id is not None
    assert len(sms_to_stand_in.messages_sent(to="+9647501234567")) == 1
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "send_sms")).first() is not None


def test_a_landline_caller_cannot_be_sent_an_sms(app, app_context, client, sms_to_stand_in):
    browser, call, record = taken(app, client, "+96466222333")
    answer = send(browser, call, record)
    assert "not a mobile number" in answer.get_data(as_text=True)
    assert db.session.scalars(select(SmsMessage)).first() is None


def test_only_a_letter_on_this_calls_screen(app, app_context, client):
    browser, call, record = taken(app, client, "+9647501234567")
    token = csrf_token(browser, f"/console/calls/{call.id}")
    assert browser.post(f"/console/calls/{call.id}/sms/{record.id + 99}", data={"csrf_token": token}).status_code == 404


def test_a_number_that_had_its_sms_today_is_not_sent_another(app, app_context, client, sms_to_stand_in):
    from datetime import timedelta

    from domain.clock import utcnow

    browser, call, record = taken(app, client, "+9647501234567")
    for n in range(app.config["SMS_MAX_PER_DESTINATION_DAY"]):
        db.session.add(
            SmsMessage(
                idempotency_key=f"earlier-{n}",
                to_phone="+9647501234567",
                body="earlier",
                language="en",
                kind=SmsKind.status,
                transaction_id=record.id,
                created_at=utcnow() - timedelta(hours=n + 1),
            )
        )
    db.session.commit()
    answer = send(browser, call, record)
    assert "has had as many SMS today as may be sent to it" in answer.get_data(as_text=True)
    assert sms_to_stand_in.messages_sent() == []


def test_a_caller_abroad_is_not_sent_an_sms(app, app_context, client, sms_to_stand_in):
    browser, call, record = taken(app, client, "+447911123456")
    answer = send(browser, call, record)
    assert "not a mobile number" in answer.get_data(as_text=True)
    assert db.session.scalars(select(SmsMessage)).first() is None


def test_an_sms_not_sent_says_so_and_why(app, app_context, client, sms_to_stand_in, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_ENABLED", False)
    browser, call, record = taken(app, client, "+9647501234567")
    page = send(browser, call, record).get_data(as_text=True)
    assert 'data-status="suppressed"' in page and "Not sent" in page
    assert "SMS is switched off on this hotline" in page
    assert "being sent" not in page and "already sent" not in page
    state = browser.get(f"/console/calls/{call.id}/state.json").get_json()
    assert state["sms"][str(record.id)]["reason"] == "SMS is switched off on this hotline"
    assert sms_to_stand_in.messages_sent() == []


# --- a letter found by search from the call screen, attached to the call -------------------


def test_search_from_the_call_screen_is_filled_in_with_what_the_caller_keyed(app, app_context, client):
    browser, call, _record = taken(app, client, "+9647501234567")
    screen = browser.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert f'href="/console/search?call={call.id}"' in screen
    page = browser.get(f"/console/search?call={call.id}").get_data(as_text=True)
    assert 'name="number" value="1234"' in page and 'value="15/03/2024"' in page
    assert 'value="0750 123 4567"' in page and f'name="call" value="{call.id}"' in page
    other = agent_client(app, "bilal").get(f"/console/search?call={call.id}").get_data(as_text=True)
    assert 'value="1234"' not in other and 'name="call"' not in other  # not their call: a plain search
    assert browser.get("/console/search?call=x%00").status_code == 200


def test_a_letter_found_by_search_is_attached_to_the_call_and_sent_by_sms(app, app_context, client, sms_to_stand_in):
    browser, call, _record = taken(app, client, "+9647501234567")
    other = add_letter(number="5678")
    token = csrf_token(browser, f"/console/search?call={call.id}")
    found = browser.post(
        "/console/search",
        data={"csrf_token": token, "by": "transaction", "number": "5678", "date": "15/03/2024", "call": call.id},
    )
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/transactions/{other.id}?call={call.id}")
    assert "Attach to the call" in browser.get(found.headers["Location"]).get_data(as_text=True)
    refused = browser.post(f"/console/calls/{call.id}/sms/{other.id}", data={"csrf_token": token})
    assert refused.status_code == 404  # not on the call's screen yet

    attached = browser.post(f"/console/calls/{call.id}/letters", data={"csrf_token": token, "transaction_id": other.id})
    assert attached.status_code == 302
    screen = browser.get(attached.headers["Location"]).get_data(as_text=True)
    assert "Letter 5678 is attached to the call." in screen and f'id="attached-{other.id}"' in screen
    assert f"/console/calls/{call.id}/sms/{other.id}" in screen
    sent = browser.post(f"/console/calls/{call.id}/sms/{other.id}", data={"csrf_token": token})
    assert sent.status_code == 302
    assert len(sms_to_stand_in.messages_sent(to="+9647501234567")) == 1
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "attach_letter")).all()
    assert entry.target_type == "call" and entry.target_id == str(call.id)
    assert entry.detail == {"transaction_id": other.id}
    # attached once, however often it is clicked; another agent may not attach to this call
    browser.post(f"/console/calls/{call.id}/letters", data={"csrf_token": token, "transaction_id": other.id})
    assert db.session.scalar(select(func.count()).select_from(CallLetter)) == 1
    bilal = agent_client(app, "bilal")
    theirs = bilal.post(
        f"/console/calls/{call.id}/letters",
        data={"csrf_token": csrf_token(bilal, "/console/"), "transaction_id": other.id},
    )
    assert theirs.status_code == 403
    assert (
        browser.post(
            f"/console/calls/{call.id}/letters", data={"csrf_token": token, "transaction_id": "zz"}
        ).status_code
        == 404
    )
