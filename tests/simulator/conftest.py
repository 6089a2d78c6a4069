"""Fixtures for the simulator tests: the engine on the test app, and the test app on a real port."""

from __future__ import annotations

import pytest

from extensions import db
from simulator.engine import FlaskTransport, SimulatedCall
from tests.support.browser import serving
from tests.support.ivr import agent_on_duty


@pytest.fixture
def transport(app):
    return FlaskTransport(app)


@pytest.fixture
def call(transport):
    return SimulatedCall(transport)


@pytest.fixture(scope="session")
def live_server(app):
    """The test app on 127.0.0.1 with an ephemeral port, served by a werkzeug thread."""
    with serving(app, "simulator-live-server") as base:
        yield base


@pytest.fixture
def dev_twilio(app, live_server):
    """The app's own development Twilio stand-in, served on the live server, as the app's
    twilio client's API base URL (as scripts/run-demo sets it). Yields that base URL."""
    base_url = live_server + "/dev/twilio"
    previous = app.config["TWILIO_API_BASE_URL"]
    app.config["TWILIO_API_BASE_URL"] = base_url
    app.extensions.pop("hotline.twilio", None)  # rebuilt on first use, with the new base URL
    yield base_url
    app.config["TWILIO_API_BASE_URL"] = previous
    app.extensions.pop("hotline.twilio", None)


@pytest.fixture
def someone_on_duty(app):
    """An agent on duty: a caller who presses 0 is queued, not offered a callback as when
    nobody answers."""
    with app.app_context():
        agent_on_duty()
        db.session.remove()
