"""Fixtures shared by every test: the app on SQLite or PostgreSQL, clients, signed webhooks.

The database comes from TEST_DATABASE_URL (a fresh SQLite file when unset); the schema is
built by the Alembic migrations, so they are tested on every backend the suite runs on.
"""
from __future__ import annotations

import os
from urllib.parse import urlencode

import pytest

# A developer's .env (scripts/run-demo writes one) must not reach the app or the processes the
# tests start: every setting a test needs, it sets.
os.environ["FLASK_SKIP_DOTENV"] = "1"

from flask_migrate import upgrade
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from config import Hours
from extensions import db
from factory import create_app
from tests.support.services import RUN_ID

PUBLIC_BASE_URL = "https://hotline.example.test"
# Tests that start browsers, servers or faults: they touch no SQL of their own worth a second
# database, so `scripts/test` runs them once, in its PostgreSQL pass (`-m "not postgres_pass"`
# on SQLite).
ONCE_MARKERS = ("browser", "gunicorn", "once")
AUTH_TOKEN = "test-auth-token"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        if "/drills/" in item.nodeid or any(item.get_closest_marker(name) for name in ONCE_MARKERS):
            item.add_marker(pytest.mark.postgres_pass)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'hotline.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app({
        "APP_ENV": "testing",
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "AGENT_HOURS": Hours.parse("00:00-24:00"),
        "SELF_SERVICE_HOURS": Hours.parse("00:00-24:00"),
        "LIVE_CHANNEL": f"hotline:live:{RUN_ID}",
    })
    with app.app_context():
        if database_url.startswith("postgresql"):
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
    yield app


@pytest.fixture(autouse=True)
def clean_database(request, app):
    """Every test starts with empty tables (the schema stays)."""
    yield
    with app.app_context():
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()
    app.extensions.pop("hotline.voices", None)


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def sign(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


class Twilio:
    """Posts webhooks to the app exactly as Twilio would: form body, signed full URL."""

    def __init__(self, client, sid: str = "CA" + "1" * 32, caller: str = "+9647501234567"):
        self.client = client
        self.sid = sid
        self.caller = caller

    def post(self, path: str, signed: bool = True, **params):
        form = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "To": "+9645599",
                "From": self.caller, "Direction": "inbound", "CallStatus": "in-progress"}
        form.update({k: v for k, v in params.items() if v is not None})
        form = {k: v for k, v in form.items() if v is not None}
        headers = {}
        if signed:
            headers["X-Twilio-Signature"] = sign(PUBLIC_BASE_URL + path, form)
        return self.client.post(path, data=form, headers=headers)


@pytest.fixture
def twilio(client):
    return Twilio(client)


def query(**params) -> str:
    return urlencode(params)


@pytest.fixture
def twilio_api(app):
    """A local Twilio REST stand-in; the app's real `twilio` client is pointed at it for the test."""
    from twilio_stand_in import TwilioStandIn

    stand_in = TwilioStandIn(app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"]).start()
    previous = app.config["TWILIO_API_BASE_URL"]
    app.config["TWILIO_API_BASE_URL"] = stand_in.url
    app.extensions.pop("hotline.twilio", None)  # rebuilt on first use, with the new base URL
    yield stand_in
    app.config["TWILIO_API_BASE_URL"] = previous
    app.extensions.pop("hotline.twilio", None)
    stand_in.stop()
