"""The supervisors' pages in a real headless Chromium: the KPI dashboard (English and Arabic),
the call log and the wallboard updating live, with screenshots under test-artifacts/ to look at."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from extensions import db
from models import Outcome, Presence, Role
from tests.support.browser import ARTIFACTS, console_serving, log_in, new_page
from tests.support.console import enqueue_caller
from tests.support.records import add_user
from tests.support.supervisor import add_call, add_callback, add_step

pytestmark = pytest.mark.browser

MONTH_START = date(2025, 3, 1)


@pytest.fixture
def server(app):
    """The test app on a real threaded server, with an in-process live broker."""
    with console_serving(app, "supervisor-live-server", WALLBOARD_REFRESH_S=1) as base:
        yield base


def supervisor_page(browser, width: int = 1360):
    return new_page(browser, width=width, height=900)


@pytest.fixture
def a_month_of_calls(app_context):
    """Two weeks of a plausible centre: busy mornings, quiet nights, three agents."""
    chance = random.Random(5599)
    agents = [
        add_user(name, Role.agent, display_name=shown)
        for name, shown in [("aya", "Aya Hassan"), ("bashir", "Bashir Omar"), ("rezan", "Rezan Ali")]
    ]
    add_user("sami", Role.supervisor, display_name="Sami Aziz", language="en")
    add_user("salma", Role.supervisor, display_name="سلمى", language="ar")
    for day in range(14):
        for _ in range(chance.randint(14, 26)):
            hour = chance.choices(
                range(24), weights=[1, 1, 1, 1, 1, 1, 2, 4, 9, 12, 12, 11, 9, 8, 9, 8, 6, 4, 3, 2, 2, 2, 1, 1]
            )[0]
            minute, second = chance.randint(0, 59), chance.randint(0, 59)
            start = f"{MONTH_START + timedelta(days=day)} {hour:02d}:{minute:02d}:{second:02d}"
            language = chance.choices(["ar", "ckb", "en", None], weights=[60, 30, 6, 4])[0]
            roll = chance.random()
            if roll < 0.45:
                add_call(start, language=language, commit=False)
            elif roll < 0.85:
                add_call(
                    start,
                    language=language,
                    outcome=Outcome.agent_answered,
                    queued_after=50,
                    answered_after=chance.choice([5, 12, 20, 25, 28, 35, 48, 70]),
                    talk=chance.randint(60, 400),
                    wrap=chance.randint(10, 60),
                    agent=chance.choice(agents),
                    commit=False,
                    survey=chance.choice([None, 3, 4, 5, 5]),
                    ended_after=800,
                )
            elif roll < 0.95:
                add_call(
                    start,
                    language=language,
                    outcome=Outcome.abandoned_in_queue,
                    queued_after=40,
                    left_after=chance.randint(10, 180),
                    commit=False,
                )
            else:
                add_call(start, language=language, outcome=Outcome.hung_up_in_ivr, commit=False)
        db.session.commit()
        if day % 3 == 0:
            add_callback(f"{MONTH_START + timedelta(days=day)} 20:15:00", language="ar")
    return walked_call(agents[0])


def walked_call(agent) -> int:
    """One call with every IVR step, as the timeline shows it."""
    call = add_call(
        "2025-03-14 10:02:00",
        language="en",
        caller="+9647701234567",
        outcome=Outcome.agent_answered,
        queued_after=62,
        answered_after=18,
        talk=210,
        wrap=45,
        agent=agent,
        survey=5,
        disposition="status_explained",
        notes="Asked when Finance will reply; explained the usual delay.",
        asked_number="1234",
        found=False,
        queue_result="redirected",
        ended_after=400,
        twilio_status="completed",
        duration_s=400,
    )
    steps = [
        ("incoming", None, "greeted", ["welcome", "language_option.ar", "language_option.ckb", "language_option.en"]),
        ("language", "3", "en", ["main_menu"]),
        ("menu", "1", "ask_number", ["ask_number"]),
        ("number", "1234", "readback", ["readback_number"]),
        ("number_confirm", "1", "ask_date", ["ask_date"]),
        ("date", "15032024", "readback", ["readback_date"]),
        ("date_confirm", "1", "not_found", ["not_found", "not_found_menu"]),
        ("not_found_menu", "0", "queued", ["transfer"]),
    ]
    for n, (step, digits, result, spoken) in enumerate(steps):
        add_step(call, step, digits=digits, result=result, spoken=spoken, after=4 + n * 7)
    return call.id


@pytest.mark.parametrize("language, direction", [("en", "ltr"), ("ar", "rtl")])
def test_the_kpi_dashboard_draws_tiles_tables_and_charts(app, server, browser, a_month_of_calls, language, direction):
    ARTIFACTS.mkdir(exist_ok=True)
    page = supervisor_page(browser)
    log_in(page, server, "sami" if language == "en" else "salma")
    page.goto(f"{server}/console/kpis?period=custom&start={MONTH_START}&end={MONTH_START + timedelta(days=13)}")
    assert page.locator("html").get_attribute("dir") == direction
    offered = page.locator("#tile-offered .tile-value").inner_text()
    assert int(offered) > 200
    assert page.locator(".chart svg").count() == 3
    assert page.locator(".chart svg rect.bar").count() > 20
    assert page.locator("#kpi-days tbody tr").count() == 14
    assert page.locator("#kpi-agents tbody tr").count() == 4  # three agents and "no agent"
    # In Arabic the first hour's bar is drawn on the right, as the page reads.
    first_bar, last_bar = bar_x(page, "00"), bar_x(page, "23")
    if first_bar is not None and last_bar is not None:
        assert (first_bar < last_bar) == (direction == "ltr")
    page.screenshot(path=str(ARTIFACTS / f"kpis-{language}.png"), full_page=True)
    page.context.close()


def bar_x(page, hour: str) -> float | None:
    bars = page.locator(".chart").first.locator("rect.bar", has=page.locator(f"title:text-matches('^{hour} ')"))
    if bars.count() == 0:
        return None
    return float(bars.first.get_attribute("x"))


def test_the_call_log_and_a_timeline(app, server, browser, a_month_of_calls):
    page = supervisor_page(browser)
    log_in(page, server, "sami")
    page.goto(f"{server}/console/calls")
    assert page.locator("table.call-log tbody tr").count() == 50
    page.select_option('select[name="outcome"]', "abandoned_in_queue")
    page.click('form.filters button[type="submit"]')
    page.wait_for_url(re.compile(r"outcome=abandoned_in_queue"))  # the filters are the link: shareable
    outcomes = page.locator("table.call-log tbody tr td:nth-child(4)").all_inner_texts()
    assert outcomes and set(outcomes) == {"Abandoned in queue"}
    page.screenshot(path=str(ARTIFACTS / "call-log-en.png"), full_page=True)
    page.locator("table.call-log a", has_text="Timeline").first.click()
    page.wait_for_url(re.compile(r"/timeline$"))
    assert page.locator(".call-timeline li.milestone").count() >= 2
    page.goto(f"{server}/console/calls/{a_month_of_calls}/timeline")
    assert page.locator(".call-timeline li.step").count() == 8
    assert page.locator(".heard q", has_text="Please key in the number of the letter").count() == 1
    page.screenshot(path=str(ARTIFACTS / "call-timeline-en.png"), full_page=True)
    page.context.close()


@pytest.fixture
def a_staffed_centre(app_context):
    add_user("sami", Role.supervisor, display_name="Sami Aziz", language="en")
    add_user("salma", Role.supervisor, display_name="سلمى", language="ar", presence=Presence.offline)
    for name, presence in [
        ("aya", Presence.available),
        ("bashir", Presence.available),
        ("rezan", Presence.on_call),
        ("dilan", Presence.on_call),
        ("evin", Presence.wrap_up),
        ("faris", Presence.away),
    ]:
        add_user(name, Role.agent, presence=presence)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_wallboard_shows_a_caller_join_the_queue_without_a_reload(
    app, app_context, client, server, browser, a_staffed_centre, language
):
    ARTIFACTS.mkdir(exist_ok=True)
    page = supervisor_page(browser, 1600)
    log_in(page, server, "sami" if language == "en" else "salma")
    page.goto(f"{server}/console/wallboard")
    page.locator('#live-status[data-state="live"]').wait_for()
    expect(page.locator('[data-value="waiting"]')).to_have_text("0")
    expect(page.locator('[data-value="available"]')).to_have_text("2")
    loaded_at = page.evaluate("performance.timing.navigationStart")

    enqueue_caller(client, 1, ask_letter=False)
    enqueue_caller(client, 2, caller="+9647709876543", ask_letter=False)

    expect(page.locator('[data-value="waiting"]')).to_have_text("2")
    expect(page.locator("#board-longest .num")).to_have_text(re.compile(r"^0:0\d$"))
    assert page.evaluate("performance.timing.navigationStart") == loaded_at  # no reload happened
    page.wait_for_timeout(1200)  # one tick of the longest wait
    page.screenshot(path=str(ARTIFACTS / f"wallboard-{language}.png"))
    page.context.close()


def test_with_live_updates_down_the_wallboard_says_so_and_keeps_counting(
    app, app_context, client, server, browser, a_staffed_centre, monkeypatch
):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    app.extensions.pop("hotline.broker", None)  # the server fixture's in-process broker: not this time
    page = supervisor_page(browser, 1600)
    log_in(page, server, "sami")
    page.goto(f"{server}/console/wallboard")
    page.locator('#live-status[data-state="down"]').wait_for()
    expect(page.locator("#live-down")).to_be_visible()
    expect(page.locator("#live-down")).to_contain_text("Live updates are down")

    enqueue_caller(client, 1, ask_letter=False)
    expect(page.locator('[data-value="waiting"]')).to_have_text("1", timeout=12_000)  # polled every 5 s
    page.screenshot(path=str(ARTIFACTS / "wallboard-live-down-en.png"))
    page.context.close()
    app.extensions.pop("hotline.broker", None)
