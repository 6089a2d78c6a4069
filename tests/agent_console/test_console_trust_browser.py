"""What the console says when things go wrong, in a real headless Chromium: the login error above
the card, "cannot reach the server" gone once the server answers, a deactivated agent told they
were signed out, and a wallboard whose server is gone saying its figures are frozen and since when."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from domain.staff.users import set_active
from extensions import db
from models import Role
from tests.support.browser import ARTIFACTS, console_serving, log_in, open_page, submit_login
from tests.support.console import make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def server(app):
    with console_serving(app, "console-trust-test-server") as base:
        yield base


@pytest.fixture
def page(browser):
    with open_page(browser, width=1366, height=768) as page:
        yield page


@pytest.fixture
def broker_down(app):
    previous = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    app.extensions.pop("hotline.broker", None)
    yield
    app.config["REDIS_URL"] = previous
    app.extensions.pop("hotline.broker", None)


@pytest.mark.parametrize("language", ["ar", "en"])
def test_the_wrong_password_message_sits_above_the_login_card(app_context, server, page, language):
    make_user("amira")
    page.goto(server + "/console/login")
    if language != "en":
        page.click(f'form.languages button[value="{language}"]')
    submit_login(page, "amira", "not the password")
    message = page.locator("main > .flash.error").bounding_box()
    card = page.locator("section.login").bounding_box()
    assert message["y"] + message["height"] <= card["y"]  # above the card, not beside it
    assert message["height"] < card["height"] / 3  # not stretched to the card's height
    assert abs(message["width"] - card["width"]) <= 1 and abs(message["x"] - card["x"]) <= 1
    page.screenshot(path=str(ARTIFACTS / f"login-wrong-password-{language}.png"))


def test_cannot_reach_the_server_goes_once_the_server_answers(app_context, server, broker_down, page):
    make_user("amira")
    log_in(page, server, "amira")
    page.locator('#live-status[data-state="down"]').wait_for()  # polling the queue every 4 s
    message = page.locator("#take-message")
    page.route("**/console/queue.json", lambda route: route.abort())
    expect(message).to_have_text("The console cannot reach the server. Check the network connection.")
    page.unroute("**/console/queue.json")
    expect(message).to_be_hidden()  # the next poll answered: the message went by itself
    assert not page.console_errors, page.console_errors


@pytest.mark.parametrize("language, words", [("ar", "تم تسجيل الخروج"), ("en", "Signed out")])
def test_a_deactivated_agents_page_says_signed_out(app, app_context, server, page, language, words):
    agent = make_user("amira", language=language)
    admin = make_user("adam", Role.admin)
    log_in(page, server, "amira")
    page.locator('#live-status[data-state="live"]').wait_for()
    set_active(agent, False, by=admin)
    db.session.commit()
    status = page.locator("#live-status")
    expect(status).to_have_attribute("data-state", "signed_out", timeout=15_000)
    expect(status).to_have_text(words)
    expect(page.locator("#take-message")).to_be_visible()
    expect(page.locator("#live-down")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / f"console-signed-out-{language}.png"))


def test_a_wallboard_whose_server_is_gone_says_its_figures_are_frozen_and_since_when(
    app_context, server, broker_down, page
):
    make_user("sami", Role.supervisor)
    log_in(page, server, "sami")
    page.goto(server + "/console/wallboard")
    down = page.locator("#live-down")
    expect(down).to_contain_text("refreshed every few seconds")
    page.route("**/console/wallboard.json", lambda route: route.abort())
    expect(down).to_have_attribute("data-frozen", "1", timeout=12_000)
    expect(down).to_contain_text(re.compile(r"frozen as they were at \d\d:\d\d:\d\d"))
    page.screenshot(path=str(ARTIFACTS / "wallboard-frozen-en.png"))
    page.unroute("**/console/wallboard.json")
    expect(down).to_contain_text("refreshed every few seconds", timeout=12_000)
