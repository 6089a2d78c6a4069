"""Does the studio record a take through the browser's microphone (Chromium's fake one),
convert and keep it, and approve it, under the console's content security policy? Also the
screenshots of the studio in each language and two laptop sizes (test-artifacts/)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from models import PromptRecording, Role
from tests.support.browser import ARTIFACTS, FAKE_MEDIA, chromium, console_serving, log_in, new_page
from tests.support.console import make_user

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15_000
KEPT_OR_REFUSED = "() => document.querySelector('tr[data-take]') || document.querySelector('#record-status.error')"
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture(scope="module")
def browser():
    with chromium(*FAKE_MEDIA) as browser:
        yield browser


def studio_page(browser, width: int = 1280, height: int = 800):
    """No locale of its own: the browser's."""
    return new_page(browser, width=width, height=height, locale=None, timeout_ms=TIMEOUT_MS, init_script=LISTEN)


def test_an_admin_records_a_take_with_the_microphone_and_approves_it(app, app_context, browser):
    make_user("adam", Role.admin)
    db.session.remove()
    page = studio_page(browser)
    with console_serving(app, "studio-browser") as base:
        log_in(page, base, "adam")
        page.goto(base + "/console/studio/ckb/welcome")
        page.click("#record-start")
        page.wait_for_selector("#record-stop:not([disabled])")
        page.wait_for_timeout(2500)  # Chromium's fake microphone beeps meanwhile
        page.click("#record-stop")
        page.wait_for_selector("#record-keep:not([disabled])")
        page.click("#record-keep")
        page.wait_for_function(KEPT_OR_REFUSED)
        assert page.locator("#record-status.error").count() == 0, page.inner_text("#record-status")
        with page.expect_navigation():
            page.click("tr[data-take] button.approve")
        assert page.locator("tr[data-take] .state-approved").count() == 1
        assert page.evaluate("() => window.__violations") == [] and page.console_errors == []
    db.session.remove()
    [take] = db.session.scalars(select(PromptRecording)).all()
    assert take.is_live and take.recorded_by == "adam" and take.source_name.startswith("take.")
    assert 300 < take.duration_ms < 3500


def test_screenshots_of_the_studio_in_each_language(app, app_context, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    for language in ("ar", "ckb", "en"):
        make_user(f"admin-{language}", Role.admin, language=language)
    db.session.remove()
    with console_serving(app, "studio-shots") as base:
        for language in ("ar", "ckb", "en"):
            for width, height in ((1024, 768), (1366, 768)):
                page = studio_page(browser, width, height)
                log_in(page, base, f"admin-{language}")
                page.goto(base + "/console/studio?prompt=status_found")
                page.screenshot(path=str(ARTIFACTS / f"studio-{language}-{width}x{height}.png"))
                page.goto(base + "/console/studio/ckb/status_found.1")
                page.screenshot(path=str(ARTIFACTS / f"studio-clip-{language}-{width}x{height}.png"))
                assert page.evaluate("() => window.__violations") == [] and page.console_errors == []
                page.context.close()
