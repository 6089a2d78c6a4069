"""In a real headless Chromium, two pages as in the demo: a caller on the simulator page asks
for an agent; the agent on the console sees them arrive live and clicks Take; the simulator
page follows the call to that agent. Twilio's REST API is the app's own development stand-in.
The same with routing by offer (the default): the simulator page shows whom the caller is
offered to; unanswered, the offer goes to the next agent, who accepts it. And a callback the
agent places from the console rings on the simulator page. Calls are bridged in conferences
(CALL_CONFERENCES), as the demo runs: the agent who holds and resumes the caller from the
call screen is heard on the simulator page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.clock import utcnow
from extensions import db
from models import Call, CallbackRequest, DevTwilioCall, DevTwilioRequest, Outcome, Presence, User
from tests.support.browser import ARTIFACTS, chromium, console_serving, log_in, new_page
from tests.support.console import make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def browser():
    """Launched inside the test's setup, so that a missing Chromium fails (never skips) it."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def server(app):
    """The test app on a real threaded server; its twilio client talks to the app's own
    /dev/twilio stand-in on that server, as in the demo (with conferences)."""
    saved = app.config["TWILIO_API_BASE_URL"]
    with console_serving(app, "demo-live-server", HOTLINE_CALLER_ID="+9645599", CALL_CONFERENCES=True) as base:
        app.config["TWILIO_API_BASE_URL"] = base + "/dev/twilio"
        app.extensions.pop("hotline.twilio", None)  # rebuilt on first use, with that base URL
        yield base
    app.config["TWILIO_API_BASE_URL"] = saved
    app.extensions.pop("hotline.twilio", None)


def console_page(browser, base: str, username: str):
    page = new_page(browser, height=860)
    log_in(page, base, username)
    page.locator('#live-status[data-state="live"]').wait_for()
    return page


def simulator_page(browser, base: str):
    page = new_page(browser, width=1100, height=860)
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
    wait_for_text(simulator, "Twilio rings agent “amira” into the conference")  # and they answer
    assert "Connected to agent" in simulator.locator("#state").inner_text()
    assert simulator.locator("#agent-panel").is_visible()
    assert simulator.locator("#agent-name").inner_text() == "amira"
    assert simulator.locator("#error").is_hidden()
    shot(simulator, "demo-simulator-connected.png")
    shot(console, "demo-console-call.png")
    db.session.expire_all()
    assert [r.action for r in db.session.scalars(select(DevTwilioRequest))] == ["redirect", "add"]
    assert db.session.get(Call, call_id).conference_sid is not None

    simulator.get_by_role("button", name="Agent hangs up").click()
    wait_for_text(simulator, "Thank you for calling 5599. Goodbye.")
    wait_for_text(simulator, "The IVR ended the call.")
    wait_for_state(simulator, "ended")
    shot(simulator, "demo-simulator-agent-hung-up.png")
    db.session.expire_all()
    call = db.session.get(Call, call_id)
    assert call.outcome == Outcome.agent_answered and call.ended_at is not None
    assert call.answered_at is not None and call.agent_ended_at is not None


def test_the_agent_holds_and_resumes_the_simulated_caller_who_hears_it(app, app_context, server, browser):
    make_user("amira", language="en")
    console = console_page(browser, server, "amira")
    simulator = simulator_page(browser, server)
    simulator.get_by_role("button", name="Call").click()
    wait_for_state(simulator, "waiting")
    press(simulator, "30")
    wait_for_state(simulator, "queued")
    call_id = db.session.scalar(select(Call.id).where(Call.sid == simulator.locator("#call-sid").inner_text()))
    console.locator(f'#queue-rows tr[data-call-id="{call_id}"] button.take').click()
    console.wait_for_url(re.compile(rf"/console/calls/{call_id}$"))
    wait_for_text(simulator, "Twilio rings agent “amira” into the conference")

    # No reload: the call screen shows its controls once the agent is in the conference.
    controls = console.locator("#call-controls")
    controls.get_by_role("button", name="Hold").click()
    controls.locator(".state-held").wait_for()
    wait_for_text(simulator, "On hold: Please stay on the line. The agent will be with you again in a moment.")
    controls.get_by_role("button", name="Resume").click()
    wait_for_text(simulator, "Off hold: you are back on the line")
    assert simulator.locator("#error").is_hidden()
    assert "Connected to agent" in simulator.locator("#state").inner_text()
    shot(simulator, "demo-simulator-hold-resumed.png")

    simulator.get_by_role("button", name="Agent hangs up").click()
    wait_for_state(simulator, "ended")
    db.session.expire_all()
    call = db.session.get(Call, call_id)
    assert [e.step for e in call.events if e.step in ("call_hold", "call_resume")] == ["call_hold", "call_resume"]
    assert call.hold_s is not None and call.held_at is None


@pytest.fixture
def offer_mode(app, monkeypatch):
    monkeypatch.setitem(app.config, "ROUTING_MODE", "offer")
    monkeypatch.setitem(app.config, "OFFER_TIMEOUT_S", 3)


def agent(name: str, idle_s: int) -> User:
    user = make_user(name, language="en")
    user.presence_since = utcnow() - timedelta(seconds=idle_s)
    db.session.commit()
    return user


def test_the_simulated_caller_is_offered_to_an_agent_and_after_a_miss_the_next_one_accepts(
    app, app_context, offer_mode, server, browser
):
    agent("amira", idle_s=600)  # idle longest: offered first
    agent("bashir", idle_s=60)
    amira = console_page(browser, server, "amira")
    bashir = console_page(browser, server, "bashir")
    simulator = simulator_page(browser, server)
    assert "Accept" in simulator.locator("#queue-panel").inner_text(), "the hint describes routing by offer"

    simulator.get_by_role("button", name="Call").click()
    wait_for_state(simulator, "waiting")
    press(simulator, "3")
    wait_for_text(simulator, "To speak to an agent, press 0.")
    press(simulator, "0")
    wait_for_state(simulator, "queued")
    call_id = db.session.scalar(select(Call.id).where(Call.sid == simulator.locator("#call-sid").inner_text()))

    # Offered to Amira: her banner rings, the simulator page says so; she does not accept.
    amira.locator("#waiting-banner.offer").wait_for()
    simulator.locator("#offer-agent", has_text="Amira").wait_for()
    assert re.fullmatch(r"[0-3] s left", simulator.locator("#offer-left").inner_text())
    wait_for_text(simulator, "Offered to agent “Amira”")
    shot(simulator, "demo-simulator-offered.png")
    shot(amira, "demo-console-offered.png")
    assert bashir.locator("#waiting-banner.offer").count() == 0

    # Her offer runs out: she is Away (missed) and Bashir is offered the caller.
    bashir.locator("#waiting-banner.offer").wait_for()
    simulator.locator("#offer-agent", has_text="Bashir").wait_for()
    wait_for_text(simulator, "Agent “Amira” did not accept")
    db.session.expire_all()
    missed = db.session.scalar(select(User).where(User.username == "amira"))
    assert (missed.presence, missed.away_reason) == (Presence.away, "missed")

    bashir.keyboard.press("a")  # Accept, from the keyboard
    bashir.wait_for_url(re.compile(rf"/console/calls/{call_id}$"))
    wait_for_state(simulator, "connected")
    wait_for_text(simulator, "An agent took the call")
    assert simulator.locator("#agent-name").inner_text() == "bashir"
    assert simulator.locator("#error").is_hidden()
    shot(simulator, "demo-simulator-offer-accepted.png")

    simulator.get_by_role("button", name="Agent hangs up").click()
    wait_for_state(simulator, "ended")
    db.session.expire_all()
    call = db.session.get(Call, call_id)
    assert call.outcome == Outcome.agent_answered and call.agent.username == "bashir"


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
    # The placed call (the agent's conference leg is a call of the stand-in's too).
    placed = select(DevTwilioCall.status).where(DevTwilioCall.to_phone == "+9647501234567")
    assert db.session.scalar(placed) == "completed"
    call = db.session.scalar(select(Call).where(Call.callback_id == callback.id))
    assert call is not None and call.ended_at is not None and call.agent.username == "amira"
