"""In a real headless Chromium: a caller reaches the queue, the agent sees them appear without
reloading, clicks Take, Twilio is told to move the call, and the caller's letter is on screen."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask_babel import force_locale
from playwright.sync_api import expect
from sqlalchemy import select

from agent_console.labels import label
from extensions import db
from models import Call, Presence, Status, TransactionEvent, User
from tests.support.browser import ARTIFACTS, console_serving, log_in, open_page
from tests.support.console import call_sid, letter, make_user
from tests.support.ivr import Caller
from tests.support.webhooks import Twilio

pytestmark = pytest.mark.browser

LANGUAGE_KEYS = {"ar": "1", "ckb": "2", "en": "3"}


@pytest.fixture
def console_server(app):
    with console_serving(app) as base:
        yield base


@pytest.fixture
def page(browser):
    with open_page(browser, height=860) as page:
        yield page


def set_available(page) -> None:
    page.click('#presence-form button[value="available"]')
    page.wait_for_url(re.compile(r"/console/$"))
    page.locator('#live-status[data-state="live"]').wait_for()


def caller_reaches_the_queue(client, language: str, n: int) -> Call:
    """A caller picks their language, looks up letter 1234 of 15/03/2024, then asks for an agent."""
    walker = Caller(Twilio(client, sid=call_sid(n), caller="+9647501234567"))
    answer = walker.walk(LANGUAGE_KEYS[language], "1", "1234", "1", "15032024", "1", "0")
    assert answer.enqueued is not None
    return db.session.scalar(select(Call).where(Call.sid == call_sid(n)))


def words(app, language: str, kind: str, code: str) -> str:
    with app.test_request_context(), force_locale(language):
        return label(kind, code)


@pytest.fixture
def the_letter(app_context):
    record = letter()
    db.session.add(
        TransactionEvent(
            transaction_id=record.id,
            status=Status.forwarded,
            holder_id=record.holder_id,
            status_date=date(2024, 4, 2),
            previous_status=Status.received,
            previous_holder_id=record.sender_id,
            source="import",
        )
    )
    db.session.commit()
    return record


@pytest.mark.parametrize("language, direction", [("ar", "rtl"), ("en", "ltr")])
def test_an_agent_sees_the_caller_arrive_takes_the_call_and_gets_the_record(
    app, app_context, client, twilio_api, console_server, page, the_letter, language, direction
):
    ARTIFACTS.mkdir(exist_ok=True)
    make_user(f"agent-{language}", language=language).presence = Presence.away
    db.session.commit()

    log_in(page, console_server, f"agent-{language}")
    assert page.evaluate("document.documentElement.dir") == direction
    assert page.evaluate("document.documentElement.lang") == language
    set_available(page)
    assert db.session.scalar(select(User.presence).where(User.username == f"agent-{language}")) == Presence.available
    assert page.locator("#queue-rows tr").count() == 0

    call = caller_reaches_the_queue(client, language, 1)
    row = page.locator(f'#queue-rows tr[data-call-id="{call.id}"]')
    row.wait_for()  # pushed by the live stream: the page was not reloaded
    assert row.locator(".caller").inner_text().strip() == "0750 123 4567"
    assert "1234" in row.locator(".asked").inner_text() and "15/03/2024" in row.locator(".asked").inner_text()
    assert row.locator(".found .badge.good").count() == 1
    assert page.locator("#queue-count").inner_text() == "1"
    assert page.evaluate("getComputedStyle(document.querySelector('#queue')).direction") == direction
    # The wait time ticks on its own, as the agent watches.
    expect(row.locator(".wait-time")).to_have_text(re.compile(r"0:0[1-9]"))
    page.screenshot(path=str(ARTIFACTS / f"console-queue-{language}.png"), full_page=True)

    row.locator("button.take").click()
    page.wait_for_url(re.compile(rf"/console/calls/{call.id}$"))
    [redirect] = twilio_api.calls_updated(call.sid)
    assert redirect.path.endswith(f"/Calls/{call.sid}.json")
    assert redirect.form["Url"].endswith(f"/ivr/agent/connect?call={call.id}")

    record = page.locator("section.record").first
    record.wait_for()
    assert "1234" in record.locator("h2").inner_text()
    assert words(app, language, "status", "forwarded") in record.inner_text()
    assert page.evaluate("document.documentElement.dir") == direction
    page.screenshot(path=str(ARTIFACTS / f"console-call-{language}.png"), full_page=True)


@pytest.fixture
def broker_down(app):
    previous = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    yield
    app.config["REDIS_URL"] = previous
    app.extensions.pop("hotline.broker", None)


def test_with_live_updates_down_the_page_says_so_and_still_shows_new_callers(
    app, app_context, client, console_server, broker_down, page
):
    app.extensions.pop("hotline.broker", None)  # the server fixture's in-process broker: not this time
    make_user("agent-en", language="en")
    log_in(page, console_server, "agent-en")
    page.locator('#live-status[data-state="down"]').wait_for()
    assert page.locator("#live-down").is_visible()
    assert "Live updates are down" in page.locator("#live-down").inner_text()

    call = caller_reaches_the_queue(client, "en", 1)
    page.locator(f'#queue-rows tr[data-call-id="{call.id}"]').wait_for()  # by polling the JSON snapshot
    page.screenshot(path=str(ARTIFACTS / "console-queue-live-down-en.png"), full_page=True)
