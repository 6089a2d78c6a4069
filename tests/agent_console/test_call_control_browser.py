"""Call control in a real headless Chromium against the Twilio REST stand-in: hold and resume,
then a warm transfer (consult, join all three, hand over), on the live call screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import Call, CallLeg, Presence
from tests.support.browser import ARTIFACTS, chromium, console_serving
from tests.support.conference import check_conference_dial
from tests.support.console import PASSWORD, enqueue_caller, make_user
from tests.support.webhooks import Twilio

pytestmark = pytest.mark.browser
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def server(app):
    with console_serving(app, "call-control-test-server", CALL_CONFERENCES=True) as base:
        yield base


@pytest.fixture
def page(browser):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.console_errors = []
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    yield page
    context.close()


def log_in(page, base: str, username: str) -> None:
    page.goto(base + "/console/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('form:has(input[name="password"]) button[type="submit"]')
    page.wait_for_url(re.compile(r"/console/$"))


def test_hold_resume_and_a_warm_transfer_on_the_call_screen(app, app_context, client, twilio_api, server, page):
    make_user("amira").presence = Presence.available
    colleague = make_user("bilal")
    colleague.presence = Presence.available
    db.session.commit()
    colleague_id = colleague.id
    log_in(page, server, "amira")
    call = enqueue_caller(client, 1)
    page.locator(f'#queue-rows tr[data-call-id="{call.id}"] button.take').click()
    page.wait_for_url(re.compile(rf"/console/calls/{call.id}$"))
    db.session.rollback()
    answer = Twilio(client, sid=call.sid).post(f"/ivr/agent/connect?call={call.id}")
    twilio_api.join_caller(check_conference_dial(answer.get_data(as_text=True)).text, call.sid)
    page.reload()

    controls = page.locator("#call-controls")
    controls.get_by_role("button", name="Hold").click()
    expect(controls.locator(".call-control-message")).to_have_text("The caller is on hold and hears music.")
    expect(controls.locator(".state-held")).to_be_visible()
    assert twilio_api.participant(call.sid)["hold"] is True
    controls.get_by_role("button", name="Resume").click()
    expect(controls.locator(".call-control-message")).to_have_text("The caller is back with you.")
    assert twilio_api.participant(call.sid)["hold"] is False

    controls.locator('form[data-action="consult"] select[name="target"]').select_option(str(colleague_id))
    controls.get_by_role("button", name="Call colleague").click()
    expect(controls.locator(".call-control-message")).to_have_text("Calling your colleague. The caller is on hold.")
    expect(controls.get_by_text("Ringing…")).to_be_visible()
    db.session.rollback()
    leg = db.session.scalar(select(CallLeg).where(CallLeg.call_id == call.id))
    Twilio(client, sid=leg.call_sid).post(
        f"/ivr/conference/leg?call={call.id}&consult={colleague_id}", CallStatus="in-progress"
    )
    # The screen looks again while the colleague's phone rings: their answer shows by itself.
    controls.get_by_role("button", name="Join all three").click()
    expect(controls.locator(".call-control-message")).to_have_text("The caller has joined you and your colleague.")
    page.screenshot(path=str(ARTIFACTS / "call-control-consulting-en.png"))
    controls.get_by_role("button", name="Hand over and leave").click()
    page.wait_for_url(re.compile(r"/console/$"))

    db.session.rollback()
    assert db.session.get(Call, call.id).agent_id == colleague_id
    assert twilio_api.participant(leg.call_sid)["end_conference_on_exit"] is True
    assert not page.console_errors, page.console_errors
