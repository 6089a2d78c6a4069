"""Can a developer play a call on the simulator page in a real headless Chromium?"""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from models import Outcome
from tests.support.browser import ARTIFACTS, chromium
from tests.support.simulator import stored_call

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("someone_on_duty")]

TIMEOUT_MS = 10_000


@contextmanager
def simulator_page(live_server: str):
    """The simulator page in a fresh headless Chromium; inside the test, so that a missing
    browser fails the test itself rather than erroring in its setup."""
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 820})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(live_server + "/dev/simulator/")
        yield page


def press(page, keys: str) -> None:
    for key in keys:
        page.locator(f'.key[data-key="{key}"]').click()


def wait_for_text(page, text: str) -> None:
    page.locator("#transcript").get_by_text(text, exact=False).last.wait_for()


def wait_for_state(page, state: str) -> None:
    page.locator(f'#state[data-state="{state}"]').wait_for()


def test_a_call_from_the_keypad_to_the_queue(app, live_server):
    with simulator_page(live_server) as page:
        play_to_the_queue_and_hang_up(app, page)


def play_to_the_queue_and_hang_up(app, page):
    page.get_by_role("button", name="Call").click()
    wait_for_text(page, "For English, press 3.")
    wait_for_state(page, "waiting")

    arabic = page.locator("#transcript .speech p[lang=ar]").first
    assert arabic.get_attribute("dir") == "auto"
    assert arabic.evaluate("el => getComputedStyle(el).direction") == "rtl"

    press(page, "3")
    wait_for_text(
        page,
        "To hear where a letter stands, press 1. To hear where a complaint stands, press 2. "
        "To speak to an agent, press 0.",
    )
    press(page, "1")
    wait_for_text(page, "Please key in the number of the letter")
    press(page, "1234#")
    wait_for_text(page, "You entered 1 2 3 4.")
    press(page, "1")
    wait_for_text(page, "Now key in the date of the letter")
    press(page, "15032024")
    wait_for_text(page, "You entered 15 March 2024.")
    press(page, "1")
    wait_for_text(page, "We could not find a letter with this number and date.")
    press(page, "0")
    wait_for_text(page, "You are next in line. Thank you for waiting.")
    wait_for_state(page, "queued")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "simulator.png"), full_page=True)

    sid = page.locator("#call-sid").inner_text()
    page.get_by_role("button", name="Hang up").click()
    wait_for_text(page, "You hung up.")
    wait_for_state(page, "ended")
    assert stored_call(app, sid).outcome is Outcome.abandoned_in_queue


def test_silence_and_a_withheld_number(app, live_server):
    with simulator_page(live_server) as page:
        call_withheld_and_stay_silent(app, page)


def call_withheld_and_stay_silent(app, page):
    page.locator("#withheld").check()
    page.get_by_role("button", name="Call").click()
    wait_for_state(page, "waiting")
    page.get_by_role("button", name="Wait (timeout)").click()
    wait_for_text(page, "Silence (timeout)")
    wait_for_text(page, "لمعرفة حالة كتاب")
    sid = page.locator("#call-sid").inner_text()
    assert stored_call(app, sid).caller is None
    assert page.locator("#error").is_hidden()
