"""Does every main page work under the Content Security Policy, in a real headless Chromium?

Each page is loaded with a listener for `securitypolicyviolation` events installed before any
of its scripts run; the console's pages with the real Voice SDK (which opens its signalling
socket to Twilio: refused here by the network, never by the policy), the wallboard, the logs,
the inquiry page and the simulator report none. A script injected inline is refused and
reported, so the listener does hear violations.
"""

from __future__ import annotations

import pytest

from extensions import db
from models import Role
from tests.support.browser import CONSOLE_HOME, FAKE_MEDIA, chromium, console_serving, open_page, submit_login
from tests.support.console import make_user
from tests.support.records import add_letter
from tests.support.supervisor import add_call

pytestmark = pytest.mark.browser

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI + " " + (event.sourceFile || ""));
});
window.__sockets = [];
var NativeSocket = window.WebSocket;
window.WebSocket = function (url, protocols) {
  window.__sockets.push(String(url));
  return protocols === undefined ? new NativeSocket(url) : new NativeSocket(url, protocols);
};
window.WebSocket.prototype = NativeSocket.prototype;
["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach(function (name) { window.WebSocket[name] = NativeSocket[name]; });
"""
SETTLE = "() => new Promise(function (done) { setTimeout(done, 300); })"  # queued reports are delivered


@pytest.fixture(scope="module")
def browser():
    with chromium(*FAKE_MEDIA) as browser:
        yield browser


@pytest.fixture
def server(app):
    with console_serving(app, "csp-test-server") as base:
        yield base


@pytest.fixture
def page(browser):
    with open_page(browser, height=800, init_script=LISTEN) as page:
        yield page


def log_in(page, base: str, username: str) -> None:
    page.goto(base + "/console/login")
    assert violations(page) == []
    submit_login(page, username)
    page.wait_for_url(CONSOLE_HOME)


def violations(page) -> list[str]:
    page.evaluate(SETTLE)
    return page.evaluate("() => window.__violations")


def visit(page, url: str) -> list[str]:
    response = page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    assert "script-src 'self'" in response.headers.get("content-security-policy", "")
    return violations(page)


def test_the_agents_console_with_the_real_browser_phone_reports_no_violation(app, app_context, server, voice_key, page):
    make_user("amira", endpoint_kind="client")
    letter_id = add_letter().id
    db.session.remove()
    log_in(page, server, "amira")
    # The SDK got its token and opened its signalling socket to Twilio, which the policy allows.
    # (Functions, not expressions: Playwright evaluates a string expression, which the policy refuses.)
    page.wait_for_function("() => window.__sockets.some(function (url) { return url.indexOf('twilio.com') > 0; })")
    assert violations(page) == []
    for path in ["/console/search", f"/console/transactions/{letter_id}", "/console/callbacks"]:
        assert visit(page, server + path) == [], path
    assert page.console_errors == []


def test_the_language_menu_works_without_an_inline_handler(app, app_context, server, page):
    make_user("amira", endpoint_kind="phone", endpoint="+9647501234567")
    db.session.remove()
    log_in(page, server, "amira")
    page.select_option('select[name="language"]', "ar")
    page.locator('html[lang="ar"]').wait_for(state="attached")
    assert violations(page) == []


def test_supervisors_and_admins_pages_report_no_violation(app, app_context, server, page):
    make_user("sami", Role.supervisor)
    make_user("adam", Role.admin)
    call_id = add_call("2025-03-10 09:20:00").id
    db.session.remove()
    log_in(page, server, "sami")
    for path in [
        "/console/wallboard",
        "/console/calls",
        f"/console/calls/{call_id}",
        "/console/kpis",
        "/console/complaint-report",
    ]:
        assert visit(page, server + path) == [], path
    page.context.clear_cookies()
    log_in(page, server, "adam")
    for path in ["/console/audit", "/console/agents", "/console/imports"]:
        assert visit(page, server + path) == [], path
    assert page.console_errors == []


def test_the_inquiry_page_and_the_simulator_report_no_violation(app, server, page):
    assert visit(page, server + "/inquiry?lang=en") == []
    page.fill('input[name="number"]', "1234")
    page.fill('input[name="date"]', "15/03/2024")
    page.click('form button[type="submit"]')
    page.wait_for_load_state()
    assert violations(page) == []
    assert visit(page, server + "/dev/simulator/") == []
    assert page.console_errors == []


def test_an_inline_script_is_refused_and_reported(server, page):
    visit(page, server + "/inquiry")
    page.evaluate("""() => { var s = document.createElement("script");
                             s.textContent = "window.__ran = true"; document.body.appendChild(s); }""")
    assert page.evaluate("() => window.__ran === undefined")
    assert any(found.startswith("script-src") for found in violations(page))
