"""An agent records a complaint on a call: prefilled from the call, verified by a code the
caller reads back or marked as not verified, linked to the call and the agent; the call
screen lists the caller's complaints."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from domain.calls.agent import claim
from extensions import db
from models import Call, Complaint, ComplaintChannel, SmsKind, SmsMessage, User, Verification
from tests.support.complaints import add_category, add_complaint, add_entity
from tests.support.console import agent_client, csrf_token, enqueue_caller
from tests.support.webhooks import Twilio

CALLER = "+9647501234567"


@pytest.fixture
def on_call(app, app_context, client):
    """A caller asked for an agent in English; amira took the call."""
    entity_id, category_id = add_entity().id, add_category().id
    db.session.commit()
    call = enqueue_caller(client, 1, caller=CALLER, ask_letter=False)
    browser = agent_client(app, "amira")
    agent = db.session.scalar(select(User).where(User.username == "amira"))
    assert claim(call.id, agent)
    db.session.commit()
    Twilio(client, sid=call.sid).post(f"/ivr/agent/connect?call={call.id}")
    return browser, call.id, agent.id, entity_id, category_id


def answers(entity_id: int, category_id: int, **overrides) -> dict:
    values = {
        "kind": "service",
        "category": str(category_id),
        "entity": str(entity_id),
        "governorate": "erbil",
        "description": "The passport office sent me away three times without a reason.",
        "name": "Dilan Aziz",
        "phone": "0750 123 4567",
        "email": "",
        "national_id": "",
        "declared_adult": "y",
        "declared_citizen": "y",
        "language": "en",
    }
    values.update(overrides)
    return values


def post(browser, call_id: int, data: dict):
    token = csrf_token(browser, f"/console/calls/{call_id}")
    return browser.post(f"/console/calls/{call_id}/complaint", data={"csrf_token": token, **data})


def sent_code() -> str:
    message = db.session.scalars(
        select(SmsMessage).where(SmsMessage.kind == SmsKind.code).order_by(SmsMessage.id.desc())
    ).first()
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def test_the_form_is_prefilled_from_the_call(on_call):
    browser, call_id, *_ = on_call
    page = browser.get(f"/console/calls/{call_id}").get_data(as_text=True)
    form = page[page.index('id="complaint-form"') :]
    assert f'action="/console/calls/{call_id}/complaint"' in page
    assert 'data-during-call="stay"' in form[: form.index(">")]  # sent without leaving the call
    assert 'value="0750 123 4567"' in form
    assert re.search(r'<option selected value="en">|<option value="en" selected>', form)


def test_a_complaint_verified_by_the_code_the_caller_reads_back(on_call):
    browser, call_id, agent_id, entity_id, category_id = on_call
    form = answers(entity_id, category_id, verification="sms")
    sent = post(browser, call_id, {**form, "send_code": "1"})
    assert sent.status_code == 200 and 'id="code-sent"' in sent.get_data(as_text=True)
    assert "Dilan Aziz" in sent.get_data(as_text=True)  # what was typed stays
    wrong = post(browser, call_id, {**form, "file": "1", "otp": "000000" if sent_code() != "000000" else "111111"})
    assert wrong.status_code == 422 and "not the code" in wrong.get_data(as_text=True)
    filed = post(browser, call_id, {**form, "file": "1", "otp": sent_code()})
    assert filed.status_code == 303
    complaint = db.session.scalar(select(Complaint))
    assert complaint.verification is Verification.sms and complaint.channel is ComplaintChannel.phone
    assert complaint.call_id == call_id and complaint.taken_by_id == agent_id and complaint.phone == CALLER
    screen = browser.get(filed.headers["Location"]).get_data(as_text=True)
    spaced = f"{complaint.code[:3]} {complaint.code[3:6]} {complaint.code[6:]}"
    assert spaced in screen  # the code to read out
    assert f"/console/complaints/{complaint.id}" in screen  # listed with the caller's complaints


def test_a_complaint_taken_by_phone_not_verified(on_call):
    browser, call_id, agent_id, entity_id, category_id = on_call
    filed = post(browser, call_id, {**answers(entity_id, category_id, verification="phone_unverified"), "file": "1"})
    assert filed.status_code == 303, filed.get_data(as_text=True)[:500]
    complaint = db.session.scalar(select(Complaint))
    assert complaint.verification is Verification.phone_unverified and complaint.taken_by_id == agent_id


def test_problems_are_shown_per_field_and_nothing_is_filed(on_call):
    browser, call_id, _agent_id, entity_id, category_id = on_call
    bad = post(
        browser,
        call_id,
        {
            **answers(entity_id, category_id, description="short", governorate="atlantis"),
            "file": "1",
            "verification": "phone_unverified",
        },
    )
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "at least 20 characters" in text and "Choose one from the list." in text
    assert db.session.scalar(select(Complaint)) is None


def test_the_call_screen_lists_the_callers_earlier_complaints(on_call):
    browser, call_id, *_ = on_call
    earlier = add_complaint(phone=CALLER)
    add_complaint(phone="0770 999 8888")
    screen = browser.get(f"/console/calls/{call_id}").get_data(as_text=True)
    assert earlier.code in screen
    assert screen.count("/console/complaints/") == 1


def test_another_agents_call_is_refused(app, on_call):
    _browser, call_id, *_ = on_call
    other = agent_client(app, "bahoz")
    token = csrf_token(other, "/console/search")
    response = other.post(f"/console/calls/{call_id}/complaint", data={"csrf_token": token, "file": "1"})
    assert response.status_code == 403
    assert db.session.get(Call, call_id) is not None
