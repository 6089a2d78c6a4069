"""The live call screen and the callbacks list in a real headless Chromium, in Arabic and English:
a caller hanging up shows as ended without a reload and stops the talk timer; an agent whose
phone does not answer is told so; two quick clicks on "Place the call" ring the citizen once."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from playwright.sync_api import expect

from agent_console.call_screen import CALL_STATES, STATE_MESSAGES
from extensions import db
from models import CallbackRequest, Presence
from tests.support.browser import ARTIFACTS, console_serving, log_in, open_page
from tests.support.console import enqueue_caller, letter, make_user
from tests.support.ivr import add_letter
from tests.support.webhooks import Twilio

pytestmark = pytest.mark.browser
LANGUAGES = [("ar", "rtl"), ("en", "ltr")]


@pytest.fixture
def server(app):
    with console_serving(app, "call-screen-test-server", HOTLINE_CALLER_ID="+9645599000") as base:
        yield base


@pytest.fixture
def page(browser):
    with open_page(browser) as page:
        yield page


def words(app, language: str, text) -> str:
    with app.test_request_context(), force_locale(language):
        return str(text)


def take_the_call(page, client, n: int = 1):
    call = enqueue_caller(client, n)
    page.locator(f'#queue-rows tr[data-call-id="{call.id}"] button.take').click()
    page.wait_for_url(re.compile(rf"/console/calls/{call.id}$"))
    db.session.expire_all()  # the take was committed by the server's thread
    return call


@pytest.mark.parametrize("language, direction", LANGUAGES)
def test_the_caller_hanging_up_shows_at_once_and_stops_the_talk_timer(
    app, app_context, client, twilio_api, server, page, language, direction
):
    letter()
    make_user(f"agent-{language}", language=language)
    log_in(page, server, f"agent-{language}")
    call = take_the_call(page, client)
    badge = page.locator("#call-state")
    expect(badge).to_have_text(words(app, language, CALL_STATES["connecting"]))
    timer = page.locator("#talk-timer")
    expect(timer).to_be_hidden()

    Twilio(client, sid=call.sid).post(f"/ivr/agent/connect?call={call.id}")  # the agent's phone answers
    expect(badge).to_have_attribute("data-state", "connected")
    expect(badge).to_have_text(words(app, language, CALL_STATES["connected"]))
    expect(timer).to_have_text(re.compile(r"^0:0[1-9]$"))  # it counts, on its own

    Twilio(client, sid=call.sid).post("/ivr/status", CallStatus="completed", CallDuration="3")
    expect(badge).to_have_attribute("data-state", "ended")  # no reload: the stream said so
    expect(badge).to_have_text(words(app, language, CALL_STATES["ended"]))
    expect(page.locator("#call-state-message")).to_have_text(words(app, language, STATE_MESSAGES["ended"]))
    stopped = timer.inner_text()
    page.wait_for_timeout(1500)
    assert timer.inner_text() == stopped  # the talk timer stopped at the hang-up
    assert page.evaluate("document.documentElement.dir") == direction
    page.screenshot(path=str(ARTIFACTS / f"call-screen-ended-{language}.png"), full_page=True)
    assert not page.console_errors, page.console_errors


@pytest.mark.parametrize("language, direction", LANGUAGES)
def test_an_agent_whose_phone_does_not_answer_is_told_so(
    app, app_context, client, twilio_api, server, page, language, direction
):
    letter()
    agent = make_user(f"agent-{language}", language=language)
    agent_id = agent.id
    log_in(page, server, f"agent-{language}")
    call = take_the_call(page, client)
    expect(page.locator("#call-state")).to_have_attribute("data-state", "connecting")

    Twilio(client, sid=call.sid).post(f"/ivr/agent/done?call={call.id}&agent={agent_id}", DialCallStatus="no-answer")
    message = page.locator("#call-state-message")
    expect(page.locator("#call-state")).to_have_text(words(app, language, CALL_STATES["missed"]))
    expect(message).to_have_text(words(app, language, STATE_MESSAGES["missed"]))
    expect(message).to_have_class(re.compile(r"\bwarning\b"))
    expect(page.locator("#call-page")).to_be_hidden()  # nothing there is theirs to change any more
    page.screenshot(path=str(ARTIFACTS / f"call-screen-missed-{language}.png"), full_page=True)

    page.reload()  # and a reload says the same, not "not allowed for your role"
    expect(message).to_have_text(words(app, language, STATE_MESSAGES["missed"]))
    db.session.expire_all()
    assert agent.presence == Presence.away
    assert not page.console_errors, page.console_errors


@pytest.mark.parametrize("language, direction", LANGUAGES)
def test_two_quick_clicks_on_place_the_call_ring_the_citizen_once(
    app, app_context, client, twilio_api, server, page, language, direction
):
    make_user(f"agent-{language}", language=language)
    callback = CallbackRequest(phone="+9647501234567", language="ar", source="agent")
    db.session.add(callback)
    db.session.commit()
    callback_id = callback.id
    log_in(page, server, f"agent-{language}")
    page.goto(server + "/console/callbacks")
    page.locator(f"#callback-{callback_id} form[action$='/take'] button").click()
    place = page.locator(f"#callback-{callback_id} button[data-once]")
    place.dblclick()
    page.wait_for_load_state()
    row = page.locator(f"#callback-{callback_id}")
    expect(row.locator("td.placed .num")).to_have_text("1")
    expect(row.locator("button[disabled]")).to_be_visible()  # "Calling…" until the call ends
    created = [r for r in twilio_api.requests if r.method == "POST" and r.path.endswith("/Calls.json")]
    assert len(created) == 1

    db.session.expire_all()
    sid = db.session.get(CallbackRequest, callback_id).placed_call_sid
    Twilio(client, sid=sid).post(f"/ivr/callback/status?callback={callback_id}", CallStatus="ringing")
    expect(row.locator(".placed-status")).to_have_attribute("data-status", "ringing")  # the list is live
    page.screenshot(path=str(ARTIFACTS / f"callbacks-ringing-{language}.png"), full_page=True)
    assert len([r for r in twilio_api.requests if r.path.endswith("/Calls.json")]) == 1
    assert not page.console_errors, page.console_errors


@pytest.mark.parametrize("language, direction", LANGUAGES)
def test_a_letter_found_from_the_call_screen_is_attached_and_sent_by_sms(
    app, app_context, client, twilio_api, server, page, monkeypatch, language, direction
):
    monkeypatch.setitem(app.config, "SMS_FROM", "+15005550006")
    letter()
    other = add_letter(number="5678")
    make_user(f"agent-{language}", language=language)
    log_in(page, server, f"agent-{language}")
    call = take_the_call(page, client)

    page.locator(f'a[href="/console/search?call={call.id}"]').click()
    number = page.locator('input[name="number"]')
    expect(number).to_have_value("1234")  # what the caller keyed in, ready to search
    expect(page.locator('input[name="date"]')).to_have_value("15/03/2024")
    number.fill("5678")
    page.locator("form:has(input[name=number]) button[type=submit]").click()
    page.wait_for_url(re.compile(rf"/transactions/{other.id}\?call={call.id}$"))
    page.locator("form.attach-letter button").click()
    page.wait_for_url(re.compile(rf"/console/calls/{call.id}#attached-{other.id}$"))
    expect(page.locator(f"#attached-{other.id}")).to_be_visible()

    page.locator(f'form[action="/console/calls/{call.id}/sms/{other.id}"] button').click()
    result = page.locator(f'[data-sms-for="{other.id}"] .badge')
    expect(result).to_have_attribute("data-status", re.compile(r"^(sent|delivered|queued|pending|sending)$"))
    assert len(twilio_api.messages_sent(to="+9647501234567")) == 1
    page.screenshot(path=str(ARTIFACTS / f"call-screen-attached-letter-{language}.png"), full_page=True)
    assert not page.console_errors, page.console_errors
