"""Fixtures for the console tests: fresh login limits, one user of each role, the phone's API key,
and for the browser tests one headless Chromium a module."""

from __future__ import annotations

import pytest

from models import Role
from tests.support.browser import chromium
from tests.support.phone import API_KEY_SECRET, API_KEY_SID
from tests.support.records import add_user


@pytest.fixture(autouse=True)
def fresh_login_limits(app):
    """The login counts live in memory for the whole session: each test starts at zero."""
    app.extensions.pop("hotline.login_throttle", None)
    yield
    app.extensions.pop("hotline.login_throttle", None)


@pytest.fixture
def staff(app):
    """One user of each role, committed; returns {role name: user id}.

    These tests hold no app context while they send requests: a request would reuse it,
    with its `g` (where Flask-WTF caches the CSRF token) and its database session, and
    behave unlike a real one. They open `app.app_context()` only around database work.
    """
    with app.app_context():
        return {
            "agent": add_user("aya", Role.agent).id,
            "supervisor": add_user("sami", Role.supervisor).id,
            "admin": add_user("adam", Role.admin).id,
        }


@pytest.fixture
def voice_key(app, monkeypatch):
    """The API key settings a browser phone needs, for this test only."""
    monkeypatch.setitem(app.config, "TWILIO_API_KEY_SID", API_KEY_SID)
    monkeypatch.setitem(app.config, "TWILIO_API_KEY_SECRET", API_KEY_SECRET)
    monkeypatch.setitem(app.config, "VOICE_TOKEN_TTL_S", 900)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for a module's browser tests (a module that needs other flags has
    a `browser` fixture of its own)."""
    with chromium() as browser:
        yield browser
