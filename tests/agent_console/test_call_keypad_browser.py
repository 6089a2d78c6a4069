"""The keypad on the live call screen, in a real headless Chromium against the Twilio REST
stand-in: an outside number consulted from the screen, tones pressed on the pad and typed,
sent together; a failed send keeps what was typed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import CallLeg, Presence
from tests.support.browser import ARTIFACTS, console_serving, log_in, open_page
from tests.support.conference import taken_in_browser
from tests.support.console import make_user
from tests.support.webhooks import Twilio

pytestmark = pytest.mark.browser


@pytest.fixture
def server(app):
    numbers = (("Health office", "+9647700000002"),)
    with console_serving(app, "call-keypad-test-server", CALL_CONFERENCES=True, TRANSFER_NUMBERS=numbers) as base:
        yield base


@pytest.fixture
def page(browser):
    with open_page(browser) as page:
        yield page


def test_tones_pressed_and_typed_on_the_keypad_reach_the_outside_number(
    app, app_context, client, twilio_api, server, page
):
    make_user("amira").presence = Presence.available
    db.session.commit()
    log_in(page, server, "amira")
    call = taken_in_browser(page, client, twilio_api)

    controls = page.locator("#call-controls")
    controls.get_by_role("button", name="Call number").click()
    expect(controls.locator(".call-control-message")).to_have_text("Calling the outside number. The caller is on hold.")
    expect(controls.locator("#keypad-digits")).to_have_count(0)  # ringing: no keypad yet
    db.session.rollback()
    leg = db.session.scalar(select(CallLeg).where(CallLeg.call_id == call.id))
    Twilio(client, sid=leg.call_sid).post(
        f"/ivr/conference/leg?call={call.id}&consult=number", CallStatus="in-progress"
    )

    # The screen looks again while the number rings: the keypad shows once it answers.
    digits = controls.locator("#keypad-digits")
    expect(digits).to_be_visible()
    pad = controls.get_by_role("group", name="Keypad")
    for key in "12":
        pad.get_by_role("button", name=key, exact=True).click()
    pad.get_by_role("button", name="#", exact=True).focus()
    page.keyboard.press("Enter")  # the focused key, as any button
    page.keyboard.press("5")  # typed while the pad has the focus: that key pressed
    expect(digits).to_have_value("12#5")
    controls.get_by_role("button", name="Delete the last key").click()
    digits.press("End")
    digits.type("w9")
    expect(digits).to_have_value("12#w9")
    controls.get_by_role("button", name="Send tones").click()
    expect(controls.locator(".call-control-message")).to_have_text(
        "The tones were sent. The caller does not hear them."
    )
    assert twilio_api.played_digits[leg.call_sid] == ["w12#w9"]
    expect(digits).to_have_value("")
    expect(digits).to_be_focused()

    # Twilio failing: the agent is told, and what they typed is still there to send again.
    twilio_api.fail("POST", rf"/Calls/{leg.call_sid}\.json$", 500)
    digits.fill("0*")
    digits.press("Enter")
    expect(controls.locator(".call-control-message.error")).to_contain_text("Nothing has changed")
    expect(digits).to_have_value("0*")
    assert twilio_api.played_digits[leg.call_sid] == ["w12#w9"]
    page.screenshot(path=str(ARTIFACTS / "call-keypad-en.png"))
    assert not page.console_errors, page.console_errors
