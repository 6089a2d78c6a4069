"""The supervisor's screens at 1024x768 and 1366x768 in Arabic, Kurdish and English, in a real
headless Chromium: the menu on one line, the call log's Timeline link on screen (a long agent name
included), and a screenshot of each screen in test-artifacts/ to look at."""

from __future__ import annotations

import pytest

from extensions import db
from models import AuditEntry, Outcome, Role
from tests.support.browser import ARTIFACTS, console_serving, log_in, new_page
from tests.support.console import letter
from tests.support.records import add_user
from tests.support.supervisor import add_call, add_callback, add_step

pytestmark = pytest.mark.browser
SIZES = [(1024, 768), (1366, 768)]
LANGUAGES = ["ar", "ckb", "en"]


@pytest.fixture
def server(app):
    with console_serving(app, "screens-test-server") as base:
        yield base


@pytest.fixture
def centre(app_context):
    """A few calls, one answered by an agent with a long name, a callback and audit rows."""
    letter()
    agent = add_user("long", Role.agent, display_name="Abdulrahman Mohammed Abdulkareem Al-Jubouri")
    for language in LANGUAGES:
        add_user(f"sup-{language}", Role.supervisor, display_name="Sami Aziz", language=language)
    call = add_call(
        "2025-03-14 10:02:00",
        language="ckb",
        caller="+9647701234567",
        outcome=Outcome.agent_answered,
        queued_after=62,
        answered_after=18,
        talk=210,
        wrap=45,
        agent=agent,
        disposition="status_explained",
        asked_number="1234",
        found=False,
        ended_after=400,
        duration_s=400,
    )
    add_step(call, "incoming", result="greeted", spoken=["welcome"], after=2)
    add_step(call, "menu", digits="1", result="ask_number", spoken=["ask_number"], after=9)
    add_call("2025-03-14 10:05:00", language="ar", outcome=Outcome.abandoned_in_queue, queued_after=30, left_after=40)
    add_callback("2025-03-14 20:15:00", language="ar")
    db.session.add_all(
        [
            AuditEntry(
                user_id=agent.id, action="search", target_type="transaction", detail={"by": "phone", "matches": 1}
            ),
            AuditEntry(user_id=agent.id, action="call_hold", target_type="call", target_id=str(call.id)),
            AuditEntry(user_id=agent.id, action="view_transaction", target_type="transaction", target_id="1"),
        ]
    )
    db.session.commit()
    return call.id


def menu_on_one_line(page) -> None:
    tops = page.eval_on_selector_all(
        ".topbar nav > a, .topbar nav > details > summary",
        "links => links.map(a => Math.round(a.getBoundingClientRect().top))",
    )
    assert len(set(tops)) == 1, tops
    bar = page.locator(".topbar").bounding_box()
    assert bar["height"] < 64, bar  # the bar itself on one line too


@pytest.mark.parametrize("width, height", SIZES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_supervisors_screens_fit(app, server, browser, centre, language, width, height):
    ARTIFACTS.mkdir(exist_ok=True)
    page = new_page(browser, width=width, height=height)
    log_in(page, server, f"sup-{language}")
    name = f"{language}-{width}x{height}"

    page.goto(f"{server}/console/calls")
    page.screenshot(path=str(ARTIFACTS / f"screen-call-log-{name}.png"))
    menu_on_one_line(page)
    link = page.locator(f'a[href="/console/calls/{centre}/timeline"]')
    box = link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (box, width)

    for path, shot in [
        (f"/console/calls/{centre}/timeline", "timeline"),
        (f"/console/calls/{centre}", "call"),
        ("/console/callbacks", "callbacks"),
        ("/console/audit", "audit-log"),
    ]:
        page.goto(server + path)
        page.screenshot(path=str(ARTIFACTS / f"screen-{shot}-{name}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path  # nothing off to the side
    page.context.close()
