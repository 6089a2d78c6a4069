"""What every browser test shares: Debian's Chromium, its flags, where screenshots go, and the
app on a real server for the browser to load."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


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
