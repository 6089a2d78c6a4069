"""In a real headless Chromium, two pages as in the demo: a caller on the simulator page asks
for an agent; the agent on the console sees them arrive live and clicks Take; the simulator
page follows the call to that agent. Twilio's REST API is the app's own development stand-in.
And a callback the agent places from the console rings on the simulator page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from extensions import db
from models import Call, CallbackRequest, DevTwilioCall, DevTwilioRequest, Outcome
from tests.support.browser import ARTIFACTS, chromium, console_serving
from tests.support.console import PASSWORD, make_user

pytestmark = pytest.mark.browser

TIMEOUT_MS = 10_000


@pytest.fixture
def browser():
    """Launched inside the test's setup, so that a missing Chromium fails (never skips) it."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def server(app):
    """The test app on a real threaded server; its twilio client talks to the app's own
    /dev/twilio stand-in on that server, as in the demo."""
    saved = app.config["TWILIO_API_BASE_URL"]
    with console_serving(app, "demo-live-server", HOTLINE_CALLER_ID="+9645599") as base:
        app.config["TWILIO_API_BASE_URL"] = base + "/dev/twilio"
        app.extensions.pop("hotline.twilio", None)  # rebuilt on first use, with that base URL
        yield base
    app.config["TWILIO_API_BASE_URL"] = saved
    app.extensions.pop("hotline.twilio", None)


def new_page(browser, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def console_page(browser, base: str, username: str):
    page = new_page(browser, 1280, 860)
    page.goto(base + "/console/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('form:has(input[name="password"]) button[type="submit"]')
    page.wait_for_url(re.compile(r"/console/$"))
    page.locator('#live-status[data-state="live"]').wait_for()
    return page


def simulator_page(browser, base: str):
    page = new_page(browser, 1100, 860)
    page.goto(base + "/dev/simulator/")
    return page


def press(page, keys: str) -> None:
    for key in keys:
        page.locator(f'.key[data-key="{key}"]').click()


def wait_for_text(page, text: str) -> None:
    page.locator("#transcript").get_by_text(text, exact=False).last.wait_for()


def wait_for_state(page, state: str) -> None:
    page.locator(f'#state[data-state="{state}"]').wait_for()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_the_agent_takes_the_simulated_call_and_the_simulator_is_connected_to_them(app, app_context, server, browser):
    make_user("amira", language="en")
    console = console_page(browser, server, "amira")
    simulator = simulator_page(browser, server)

    simulator.get_by_role("button", name="Call").click()
    wait_for_state(simulator, "waiting")
    press(simulator, "3")
    wait_for_text(simulator, "To speak to an agent, press 0.")
    press(simulator, "0")
    wait_for_state(simulator, "queued")
    assert simulator.locator("#queue-panel").is_visible()
    assert "Take" in simulator.locator("#queue-panel").inner_text()
    sid = simulator.locator("#call-sid").inner_text()
    call_id = db.session.scalar(select(Call.id).where(Call.sid == sid))

    row = console.locator(f'#queue-rows tr[data-call-id="{call_id}"]')
    row.wait_for()  # pushed live to the console
    shot(simulator, "demo-simulator-queued.png")
    shot(console, "demo-console-queue.png")
    row.locator("button.take").click()
    console.wait_for_url(re.compile(rf"/console/calls/{call_id}$"))

    # The simulator page notices the redirect by itself and plays /ivr/agent/connect.
    wait_for_state(simulator, "connected")
    wait_for_text(simulator, "An agent took the call")
    wait_for_text(simulator, "Connecting you to agent “amira” (browser phone)…")
    assert "Connected to agent" in simulator.locator("#state").inner_text()
    assert simulator.locator("#agent-panel").is_visible()
    assert simulator.locator("#agent-name").inner_text() == "amira"
    assert simulator.locator("#error").is_hidden()
    shot(simulator, "demo-simulator-connected.png")
    shot(console, "demo-console-call.png")
    db.session.expire_all()
    assert [r.action for r in db.session.scalars(select(DevTwilioRequest))] == ["redirect"]

    simulator.get_by_role("button", name="Agent hangs up").click()
    wait_for_text(simulator, "Thank you for calling 5599. Goodbye.")
    wait_for_text(simulator, "The IVR ended the call.")
    wait_for_state(simulator, "ended")
    shot(simulator, "demo-simulator-agent-hung-up.png")
    db.session.expire_all()
    call = db.session.get(Call, call_id)
    assert call.outcome == Outcome.agent_answered and call.ended_at is not None
    assert call.answered_at is not None and call.agent_ended_at is not None


def test_a_callback_placed_from_the_console_rings_on_the_simulator_and_reaches_the_agent(
    app, app_context, server, browser
):
    make_user("amira", language="en")
    callback = CallbackRequest(phone="+9647501234567", language="en", source="manual")
    db.session.add(callback)
    db.session.commit()
    console = console_page(browser, server, "amira")
    simulator = simulator_page(browser, server)

    console.goto(server + "/console/callbacks")
    console.locator(f'form[action*="/callbacks/{callback.id}/take"] button').click()
    console.locator(f'form[action*="/callbacks/{callback.id}/place"] button').click()
    console.wait_for_url(re.compile(r"/console/callbacks"))
    assert "Calling the citizen now" in console.inner_text("body")

    simulator.locator("#incoming-panel").wait_for()
    wait_for_state(simulator, "ringing")
    assert "+9645599" in simulator.locator("#incoming-from").inner_text()
    shot(simulator, "demo-simulator-callback-ringing.png")
    simulator.get_by_role("button", name="Answer").click()
    wait_for_state(simulator, "connected")
    wait_for_text(simulator, "Connecting you to agent “amira”")
    shot(simulator, "demo-simulator-callback-connected.png")

    simulator.get_by_role("button", name="Agent hangs up").click()
    wait_for_text(simulator, "Thank you for calling 5599. Goodbye.")
    wait_for_text(simulator, "The IVR ended the call.")  # shown once the page has told the server
    db.session.expire_all()
    assert db.session.scalar(select(DevTwilioCall.status)) == "completed"
