"""Presence and routing in a real headless Chromium, in Arabic and English: a console page
closed goes Offline after PRESENCE_TIMEOUT_S on the supervisor's live Agents page; an offer not
accepted goes to the next agent's page; a waiting caller rings and is counted in the tab title
on any console page. Timings are liveness bounds; what was measured is printed."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from flask_babel import force_locale, gettext as _
from sqlalchemy import select

from agent_console.labels import label
from domain.clock import utcnow
from extensions import db
from models import Call, Presence, Role, User
from tests.support.browser import chromium, console_serving, log_in, new_page
from tests.support.console import call_sid, make_user
from tests.support.ivr import Caller
from tests.support.webhooks import Twilio

pytestmark = pytest.mark.browser

LANGUAGE_KEYS = {"ar": "1", "ckb": "2", "en": "3"}
LANGUAGES = pytest.mark.parametrize("language", ["ar", "en"])


@pytest.fixture(scope="module")
def browser():
    # The ring is an <audio> played without a click, as on a console left open all shift.
    with chromium("--autoplay-policy=no-user-gesture-required") as browser:
        yield browser


def serve(app, **settings):
    return console_serving(app, "presence-live-server", PRESENCE_HEARTBEAT_S=1, **settings)


def page_of(browser, base: str, username: str, path: str = "/console/", timezone_id: str | None = None):
    page = new_page(browser, height=860, timezone_id=timezone_id)
    log_in(page, base, username)
    if path != "/console/":
        page.goto(base + path)
    return page


def agent(name: str, language: str, idle_s: int = 0, role: Role = Role.agent) -> User:
    user = make_user(name, role, language=language)
    user.presence_since = utcnow() - timedelta(seconds=idle_s)
    db.session.commit()
    return user


def words(app, language: str, text: str) -> str:
    with app.test_request_context(), force_locale(language):
        return _(text)


def label_in(app, language: str, kind: str, code: str) -> str:
    with app.test_request_context(), force_locale(language):
        return label(kind, code)


def caller_waits(client, language: str, n: int) -> Call:
    answer = Caller(Twilio(client, sid=call_sid(n), caller=f"+96475012345{n:02d}")).walk(LANGUAGE_KEYS[language], "0")
    assert answer.enqueued is not None
    return db.session.scalar(select(Call).where(Call.sid == call_sid(n)))


@LANGUAGES
def test_a_closed_console_goes_offline_after_the_presence_timeout(app, app_context, browser, language):
    agent("amira", language)
    agent("salma", language, role=Role.supervisor)
    with serve(app, PRESENCE_TIMEOUT_S=2) as base:
        console = page_of(browser, base, "amira")
        console.locator('#live-status[data-state="live"]').wait_for()
        supervisor = page_of(browser, base, "salma", "/console/agents")
        amira_id = db.session.scalar(select(User.id).where(User.username == "amira"))
        row = supervisor.locator(f'#agents-live tr[data-user-id="{amira_id}"]')
        row.locator('[data-field="state"][data-presence="available"]').wait_for()

        console.context.close()  # the agent closes the tab
        closed = time.monotonic()
        offline = row.locator('[data-field="state"][data-presence="offline"]')
        offline.wait_for()  # the supervisor's page was not reloaded
        print(f"\n[{language}] closed console shown Offline on the Agents page after {time.monotonic() - closed:.1f} s")
        assert offline.inner_text().strip() == label_in(app, language, "presence", "offline")
        assert supervisor.evaluate("document.documentElement.lang") == language
        db.session.expire_all()
        assert db.session.scalar(select(User.presence).where(User.username == "amira")) == Presence.offline


@LANGUAGES
def test_an_offer_not_accepted_goes_to_the_next_agent(app, app_context, client, browser, twilio_api, language):
    agent("amira", language, idle_s=600)  # idle longest: offered first
    agent("bashir", language, idle_s=60)
    with serve(app, ROUTING_MODE="offer", OFFER_TIMEOUT_S=2) as base:
        first = page_of(browser, base, "amira")
        second = page_of(browser, base, "bashir", "/console/search")  # any console page
        for page in (first, second):
            page.wait_for_function("document.getElementById('presence-config') !== null")
        call = caller_waits(client, language, 1)

        banner = first.locator("#waiting-banner.offer")
        banner.wait_for()
        assert first.locator("#waiting-text").inner_text() == words(app, language, "A caller is offered to you")
        assert first.locator("#offer-accept").is_visible()
        assert second.locator("#waiting-banner.offer").count() == 0
        offered = time.monotonic()

        second.locator("#waiting-banner.offer").wait_for()  # Amira's offer ran out
        print(f"\n[{language}] offer moved to the next agent {time.monotonic() - offered:.1f} s after it was shown")
        first.locator("#waiting-banner:not(.offer)").wait_for()
        missed = f"{label_in(app, language, 'presence', 'away')} · {label_in(app, language, 'away_reason', 'missed')}"
        first.locator("#my-presence", has_text=missed).wait_for()
        assert second.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")

        second.locator("#offer-accept").click()
        second.wait_for_url(re.compile(rf"/console/calls/{call.id}$"))
        db.session.expire_all()
        assert db.session.get(Call, call.id).agent.username == "bashir"
        assert db.session.scalar(select(User.away_reason).where(User.username == "amira")) == "missed"


@LANGUAGES
def test_a_waiting_caller_rings_and_is_counted_in_the_title_on_any_page(app, app_context, client, browser, language):
    agent("amira", language)
    with serve(app) as base:  # routing from the list: every available agent is rung
        page = page_of(browser, base, "amira", "/console/callbacks")
        page.wait_for_function("document.getElementById('presence-config') !== null")
        title = page.title()
        assert page.locator("#waiting-banner").is_hidden()
        page.wait_for_timeout(300)  # the page's own live stream is open

        caller_waits(client, language, 1)
        page.wait_for_function("document.title.startsWith('(1) ')")
        page.locator("#ring[data-rang='1']").wait_for(state="attached")
        banner = page.locator("#waiting-banner")
        assert banner.is_visible() and banner.get_attribute("data-waiting") == "1"
        assert page.locator("#waiting-text").inner_text() == words(app, language, "Callers waiting: %(num)s") % {
            "num": 1
        }

        caller_waits(client, language, 2)
        page.wait_for_function("document.title.startsWith('(2) ')")
        page.locator("#ring[data-rang='2']").wait_for(state="attached")
        assert page.title() == f"(2) {title}"


@LANGUAGES
def test_the_agents_page_writes_times_in_the_centres_time_zone(app, app_context, browser, language):
    amira = agent("amira", language)
    amira.presence_since = datetime(2024, 3, 15, 9, 5, tzinfo=timezone.utc)  # 12:05 in Baghdad
    agent("salma", language, role=Role.supervisor)
    db.session.commit()
    assert app.config["TIMEZONE"] == "Asia/Baghdad"
    with serve(app) as base:
        # A supervisor whose computer is set to New York (05:05 there).
        page = page_of(browser, base, "salma", timezone_id="America/New_York")
        with page.expect_response(lambda response: "/console/agents.json" in response.url):
            page.goto(base + "/console/agents")
        since = page.locator(f'#agents-live tr[data-user-id="{amira.id}"] [data-field="since"]')
        page.wait_for_timeout(200)  # agents.js has redrawn the row from agents.json
        assert page.evaluate("new Date(Date.UTC(2024, 2, 15, 9, 5)).getHours()") == 5
        assert since.inner_text() == "15/03/2024 12:05"


# --- screenshots: the console at 1024x768 and 1366x768 in the three languages ------------------

VIEWPORTS = ((1024, 768), (1366, 768))
LAYOUT = """() => {
  const links = Array.from(document.querySelectorAll('.topbar nav > a, .topbar nav summary'));
  const tops = links.map((link) => Math.round(link.getBoundingClientRect().top));
  const topbar = document.querySelector('.topbar').getBoundingClientRect();
  const actions = document.querySelector('#waiting-banner:not([hidden]) .banner-actions');
  return {
    menuLines: new Set(tops).size,
    topbarHeight: Math.round(topbar.height),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    // A table wider than its card scrolls sideways inside it: its last columns are cut off.
    tableOverflow: Math.max(0, ...Array.from(document.querySelectorAll('.table-wrap'),
      (wrap) => wrap.scrollWidth - wrap.clientWidth)),
    bannerHeight: actions ? Math.round(document.getElementById('waiting-banner').getBoundingClientRect().height) : 0,
  };
}"""


def layout_problems(page, where: str) -> list[str]:
    found = page.evaluate(LAYOUT)
    problems = []
    if found["menuLines"] != 1:
        problems.append(f"{where}: the menu wraps onto {found['menuLines']} lines")
    if found["topbarHeight"] > 64:
        problems.append(f"{where}: the top bar is {found['topbarHeight']} px high")
    if found["overflow"] > 0:
        problems.append(f"{where}: the page is {found['overflow']} px wider than the window")
    if found["tableOverflow"] > 0:
        problems.append(f"{where}: a table is {found['tableOverflow']} px wider than its card")
    if found["bannerHeight"] > 100:  # two lines at most (the notifications button may wrap)
        problems.append(f"{where}: the banner is {found['bannerHeight']} px high")
    return problems


@pytest.mark.parametrize("language", ["ar", "ckb", "en"])
def test_screenshots_of_the_console_home_the_offer_banner_and_the_agents_page(
    app, app_context, client, browser, language
):
    from models import EndpointKind
    from tests.support.browser import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    make_user("salma", Role.supervisor, language=language, endpoint_kind=EndpointKind.sip, endpoint="sip:s@pbx.invalid")
    make_user("hana", Role.admin, language=language, endpoint_kind=EndpointKind.sip, endpoint="sip:h@pbx.invalid")
    for name in ("amira", "bashir"):
        make_user(name, language=language, endpoint_kind=EndpointKind.sip, endpoint=f"sip:{name}@pbx.invalid")
    with serve(app, ROUTING_MODE="offer", OFFER_TIMEOUT_S=120) as base:
        page = page_of(browser, base, "salma")
        page.locator('#live-status[data-state="live"]').wait_for()

        problems: list[str] = []

        def shots(name: str) -> None:
            for width, height in VIEWPORTS:
                page.set_viewport_size({"width": width, "height": height})
                page.wait_for_timeout(100)
                page.screenshot(path=str(ARTIFACTS / f"console-{name}-{language}-{width}x{height}.png"))
                problems.extend(layout_problems(page, f"{name} {language} {width}x{height}"))

        shots("home")
        caller_waits(client, language, 1)
        page.locator("#waiting-banner.offer").wait_for()
        shots("offer")
        page.goto(base + "/console/agents")
        page.locator("#waiting-banner.offer").wait_for()
        shots("agents")
        # An admin's Agents page is the widest: languages to tick, Deactivate.
        page.context.close()
        page = page_of(browser, base, "hana", "/console/agents")
        page.locator("#agents-live .languages-form").first.wait_for()
        shots("agents-admin")
    assert not problems, problems
