"""Supervisors on agents' calls in a real headless Chromium, against the Twilio REST stand-in: the
wallboard's supervise controls working without a reload as the board refreshes (a click's
answer and a refusing Twilio shown, the panel kept open, the focus kept), with screenshots of
the wall screen at 1366x768 and 1024x768 in Arabic, Kurdish and English under test-artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from domain.clock import utcnow
from extensions import db
from models import Call, CallLeg, LegRole, Role, User
from tests.support.browser import ARTIFACTS, console_serving, log_in, pages
from tests.support.conference import connected_call
from tests.support.console import enqueue_caller, make_user

pytestmark = pytest.mark.browser
WALL_SCREENS = [(1366, 768), (1024, 768)]


@pytest.fixture
def server(app):
    with console_serving(app, "supervise-test-server", CALL_CONFERENCES=True, WALLBOARD_REFRESH_S=1) as base:
        yield base


@pytest.fixture
def new_page(browser):
    """Pages of their own browser contexts (separate logins), closed after the test."""
    with pages(browser, width=1366, height=768) as make:
        yield make


def user_id(username: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(User.id).where(User.username == username))


def supervisor_leg(call_id: int) -> CallLeg | None:
    db.session.rollback()
    return db.session.scalar(
        select(CallLeg).where(CallLeg.call_id == call_id, CallLeg.role == LegRole.supervisor).order_by(CallLeg.id)
    )


def next_refresh(page) -> None:
    """Wait until the wallboard has drawn a snapshot newer than the one shown now."""
    shown = page.locator("#wallboard").get_attribute("data-updated") or "0"
    page.wait_for_function(
        "shown => Number(document.getElementById('wallboard').dataset.updated || 0) > Number(shown)", arg=shown
    )


def test_the_wallboard_supervises_a_call_without_a_reload(app, app_context, client, twilio_api, server, new_page):
    make_user("sara", role=Role.supervisor)
    page = new_page()
    log_in(page, server, "sara")
    page.goto(server + "/console/wallboard")
    page.locator('#live-status[data-state="live"]').wait_for()
    panel = page.locator("#supervise-panel")
    expect(panel).not_to_have_attribute("open", "")
    expect(page.locator("#supervise-count")).to_have_text("0")
    panel.locator("summary").click()
    expect(panel.locator(".supervise-empty")).to_have_text("No agent is on a call right now.")
    loaded_at = page.evaluate("performance.timeOrigin")

    # An agent takes a caller: the wallboard lists them with the controls, by itself.
    _, call, _, _ = connected_call(app, client, twilio_api)
    amira = user_id("amira")
    row = panel.locator(f'.supervise-row[data-user-id="{amira}"]')
    expect(row).to_be_visible()
    expect(page.locator("#supervise-count")).to_have_text("1")
    expect(row.locator(".supervise-agent")).to_have_text("Amira")

    # The focus and the open panel outlive the board's refreshes.
    row.get_by_role("button", name="Whisper").focus()
    next_refresh(page)
    next_refresh(page)
    assert page.evaluate("document.activeElement.value") == "whisper"
    expect(panel).to_have_attribute("open", "")

    # Twilio refusing: the wallboard says so, and nothing changed.
    twilio_api.fail("POST", r"/Participants\.json$", 500)
    row.get_by_role("button", name="Listen").click()
    message = page.locator("#supervise-message")
    expect(message).to_have_text(
        "The telephone service did not answer. Nothing has changed on the call; please try again."
    )
    expect(message).to_have_class(re.compile(r"\berror\b"))
    assert supervisor_leg(call.id) is None
    expect(row.get_by_role("button", name="Listen")).to_be_enabled()

    # Twilio answering again: the same click works; the row says how the supervisor is on the call.
    twilio_api.failing.clear()
    row.get_by_role("button", name="Whisper").click()
    expect(message).to_have_text("Only the agent hears you now.")
    expect(message).not_to_have_class(re.compile(r"\berror\b"))
    expect(row.locator(".supervise-state")).to_contain_text("Whisper")
    expect(row.get_by_role("button", name="Leave the call")).to_be_visible()
    create = [r for r in twilio_api.conference_requests() if r.path.endswith("/Participants.json")][-1]
    db.session.rollback()
    assert create.form["Coaching"] == "true"
    assert create.form["CallSidToCoach"] == db.session.get(Call, call.id).agent_leg_sid
    next_refresh(page)
    expect(message).to_have_text("Only the agent hears you now.")  # a refresh keeps the answer in sight
    expect(panel).to_have_attribute("open", "")
    assert page.evaluate("performance.timeOrigin") == loaded_at  # all of it without a reload

    # A reload: the panel is open (the supervisor is on a call), the state read from the server.
    page.reload()
    expect(panel).to_have_attribute("open", "")
    expect(row.locator(".supervise-state")).to_contain_text("Whisper")
    row.get_by_role("button", name="Barge in").click()
    expect(message).to_have_text("The caller and the agent both hear you now.")
    assert twilio_api.conference_requests()[-1].form == {"Muted": "false", "Coaching": "false"}
    row.get_by_role("button", name="Leave the call").click()
    expect(message).to_have_text("You have left the call.")
    expect(row.get_by_role("button", name="Leave the call")).to_have_count(0)
    assert supervisor_leg(call.id).ended_at is not None

    # The agent's call ends: the row goes by itself.
    db.session.rollback()
    ended = db.session.get(Call, call.id)
    ended.ended_at = utcnow()
    db.session.commit()
    next_refresh(page)
    next_refresh(page)
    expect(panel.locator(".supervise-row")).to_have_count(0)
    expect(page.locator("#supervise-count")).to_have_text("0")
    assert not page.console_errors, page.console_errors


NAMES = {"amira": "أميرة كريم", "bilal": "Bilal Omar", "dilan": "دیلان ئەحمەد"}


@pytest.mark.parametrize("language", ["ar", "ckb", "en"])
def test_the_wall_screen_stays_readable_with_the_supervise_panel(
    app, app_context, client, twilio_api, server, new_page, language
):
    calls = [connected_call(app, client, twilio_api, username, n)[1] for n, username in enumerate(NAMES, start=1)]
    ids = {username: user_id(username) for username in NAMES}
    for username, name in NAMES.items():
        db.session.get(User, ids[username]).display_name = name
    db.session.commit()
    enqueue_caller(client, 9, caller="+9647709876543", ask_letter=False)  # somebody waiting
    make_user("sara", role=Role.supervisor, language=language)
    page = new_page()
    log_in(page, server, "sara")
    page.goto(server + "/console/wallboard")
    page.locator('#live-status[data-state="live"]').wait_for()
    panel = page.locator("#supervise-panel")
    # Folded, the panel is one line in the header, in sight: the tiles fill the wall screen as before.
    for width, height in WALL_SCREENS:
        page.set_viewport_size({"width": width, "height": height})
        expect(page.locator("#supervise-count")).to_have_text("3")
        page.screenshot(path=str(ARTIFACTS / f"wallboard-supervise-folded-{language}-{width}x{height}.png"))
        box, title = panel.bounding_box(), page.locator(".wallboard-head h1").bounding_box()
        assert box is not None and title is not None
        assert box["y"] + box["height"] <= page.locator("#board-waiting").bounding_box()["y"], (width, box)
        assert box["height"] <= 2 * title["height"] and 0 <= box["x"] <= box["x"] + box["width"] <= width, (width, box)
    panel.locator("summary").click()
    row = panel.locator(f'.supervise-row[data-user-id="{user_id("amira")}"]')
    row.locator('button[value="whisper"]').click()
    expect(page.locator("#supervise-message")).not_to_be_empty()
    expect(row).to_have_class(re.compile(r"\bsupervising\b"))
    assert supervisor_leg(calls[0].id).detail == "whisper"
    for width, height in WALL_SCREENS:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)
        # Nothing runs off the side, and each agent's name and buttons are on screen.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (language, width)
        for each in panel.locator(".supervise-row").all():
            box = each.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (language, width, box)
        page.screenshot(
            path=str(ARTIFACTS / f"wallboard-supervise-open-{language}-{width}x{height}.png"), full_page=True
        )
    assert page.locator("html").get_attribute("dir") == ("ltr" if language == "en" else "rtl")
    assert not page.console_errors, page.console_errors
