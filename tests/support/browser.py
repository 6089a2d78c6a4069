"""What every browser test shares: Debian's Chromium, its flags, where screenshots go, the app on
a real server for the browser to load, pages in browser contexts of their own, and the login."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from tests.support.records import PASSWORD

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# For chromium(*FAKE_MEDIA): a microphone granted without asking, that beeps.
FAKE_MEDIA = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CONSOLE_HOME = re.compile(r"/console/$")


def chromium_path() -> str:
    """Debian's chromium by default; Playwright must not download a browser of its own."""
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"No Chromium at {path}: install Debian's chromium or set CHROMIUM_PATH "
            "to a Chromium binary (the browser tests must run, not be skipped)"
        )
    return path


@contextmanager
def chromium(*extra_args: str):
    """A headless Debian Chromium driven by Playwright (with `extra_args`), closed afterwards."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS + list(extra_args))
        try:
            yield browser
        finally:
            browser.close()


def new_page(
    browser,
    *,
    width: int = 1280,
    height: int = 900,
    locale: str | None = "en-GB",
    timeout_ms: int = 10_000,
    init_script: str | None = None,
    **context_options: Any,
):
    """A page in a browser context of its own (so a login of its own), `width` x `height`, in
    `locale` (None: the browser's own); the caller closes `page.context`. The page's uncaught
    script errors are collected in `page.console_errors`; screenshots may go to ARTIFACTS."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale, **context_options)
    if init_script is not None:
        context.add_init_script(init_script)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.console_errors = []
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    return page


@contextmanager
def open_page(browser, **options: Any):
    """new_page(browser, **options), its context closed afterwards."""
    page = new_page(browser, **options)
    try:
        yield page
    finally:
        page.context.close()


@contextmanager
def pages(browser, **options: Any) -> Iterator[Callable[..., Any]]:
    """A maker of pages (new_page with `options`, overridden by its own keywords), for tests with
    several people signed in at once; every page's context is closed afterwards."""
    with ExitStack() as stack:

        def make(**more: Any):
            return stack.enter_context(open_page(browser, **{**options, **more}))

        yield make


def submit_login(page, username: str, password: str = PASSWORD) -> None:
    """Fill in the console's login form shown on `page` and send it."""
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    page.click('form:has(input[name="password"]) button[type="submit"]')


def log_in(page, base: str, username: str, password: str = PASSWORD, *, landing: Any = CONSOLE_HOME) -> None:
    """Sign `username` in on the console at `base`; waits for a URL matching `landing` (what
    Playwright's wait_for_url takes: a pattern, a glob or a predicate)."""
    page.goto(base + "/console/login")
    submit_login(page, username, password)
    page.wait_for_url(landing)


@contextmanager
def serving(wsgi_app, name: str = "live-server"):
    """A WSGI app on a real threaded server on a free port of 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def console_serving(app, name: str = "console-live-server", **settings):
    """The app served for the console's pages: an in-process live broker, and quick stream
    keep-alives (so that the threads of streams whose browser has gone end soon after the
    test). `settings` override the app's config meanwhile; all is put back afterwards."""
    from domain.live import InProcessBroker

    settings = {"SSE_KEEPALIVE_S": 1, **settings}
    saved = {key: app.config[key] for key in settings}
    app.config.update(settings)
    app.extensions["hotline.broker"] = InProcessBroker()
    try:
        with serving(app, name) as base:
            yield base
    finally:
        app.config.update(saved)
        app.extensions.pop("hotline.broker", None)
