"""Fixtures shared by every test: the app on SQLite or PostgreSQL, clients, signed webhooks,
Redis for jobs, the Twilio REST stand-in, gunicorn servers.

The database comes from TEST_DATABASE_URL (a fresh SQLite file when unset); the schema is
built by the Alembic migrations, so they are tested on every backend the suite runs on.
Plain helpers live in `tests/support/`; fixtures of one folder in that folder's conftest.py.
"""

from __future__ import annotations

import os

import pytest

# A developer's .env (scripts/run-demo writes one) must not reach the app or the processes the
# tests start: every setting a test needs, it sets.
os.environ["FLASK_SKIP_DOTENV"] = "1"

import redis
from flask_migrate import upgrade
from sqlalchemy import text

from config import Hours
from extensions import db
from factory import create_app
from tests.support.frozen_redis import FreezableRedis
from tests.support.gunicorn_server import Gunicorn
from tests.support.jobs import PREFIX, SMS_FROM, forget_jobs, use_redis
from tests.support.services import REDIS_URL, RUN_ID
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_stand_in import TwilioStandIn
from tests.support.webhooks import AUTH_TOKEN, PUBLIC_BASE_URL, Twilio

# Tests that start browsers, servers or faults: they touch no SQL of their own worth a second
# database, so `scripts/test` runs them once, in its PostgreSQL pass (`-m "not postgres_pass"`
# on SQLite).
ONCE_MARKERS = ("browser", "gunicorn", "once")


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
    app = create_app(
        {
            "APP_ENV": "testing",
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "AGENT_HOURS": Hours.parse("00:00-24:00"),
            "SELF_SERVICE_HOURS": Hours.parse("00:00-24:00"),
            "LIVE_CHANNEL": f"hotline:live:{RUN_ID}",
            # Most tests take calls from the list; routing by offer is tested with it set.
            "ROUTING_MODE": "list",
        }
    )
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
    app.extensions.pop("hotline.approved_clips", None)


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


@pytest.fixture
def twilio(client):
    return Twilio(client)


@pytest.fixture
def twilio_api(app):
    """A local Twilio REST stand-in; the app's real `twilio` client is pointed at it for the test."""
    stand_in = TwilioStandIn(app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"]).start()
    previous = app.config["TWILIO_API_BASE_URL"]
    app.config["TWILIO_API_BASE_URL"] = stand_in.url
    app.extensions.pop("hotline.twilio", None)  # rebuilt on first use, with the new base URL
    yield stand_in
    app.config["TWILIO_API_BASE_URL"] = previous
    app.extensions.pop("hotline.twilio", None)
    stand_in.stop()


@pytest.fixture
def redis_url(app):
    """Jobs go to a real Redis, under this run's prefix, emptied before and after the test."""
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        forget_jobs(connection)
    except redis.exceptions.ConnectionError:
        pytest.fail(f"Redis is not answering at {REDIS_URL}; the job tests need a real Redis")
    previous = app.config["REDIS_URL"], app.config["JOB_QUEUE_PREFIX"]
    use_redis(app, REDIS_URL)
    app.config["JOB_QUEUE_PREFIX"] = PREFIX
    yield REDIS_URL
    use_redis(app, previous[0])
    app.config["JOB_QUEUE_PREFIX"] = previous[1]
    forget_jobs(connection)


@pytest.fixture
def frozen_redis(app, redis_url):
    """Every Redis use of the app (jobs, live events, login limits) through a proxy to the test
    Redis that the test can freeze (`.freeze()`: accepts, takes, never answers) and thaw."""
    proxy = FreezableRedis(redis_url)
    caches = ("hotline.broker", "hotline.login_throttle", "hotline.redis_web")
    use_redis(app, proxy.url())
    for name in caches:
        app.extensions.pop(name, None)
    yield proxy
    proxy.close()
    use_redis(app, redis_url)
    for name in caches:
        app.extensions.pop(name, None)


@pytest.fixture
def sms_ready(app, twilio_api):
    """SMS go to the Twilio stand-in, from a sender number."""
    previous = app.config["SMS_FROM"]
    app.config["SMS_FROM"] = SMS_FROM
    yield twilio_api
    app.config["SMS_FROM"] = previous


@pytest.fixture
def smtp_server(app):
    """A real local SMTP server (aiosmtpd) that keeps what it received; the app sends e-mail to it."""
    server = SmtpServer().start()
    settings = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": server.port, "SMTP_SECURITY": "none", "SMTP_USERNAME": ""}
    previous = {name: app.config[name] for name in settings}
    app.config.update(settings)
    yield server
    app.config.update(previous)
    server.stop()


@pytest.fixture
def gunicorn(tmp_path):
    """Starts servers for one test (`gunicorn(env, workers=...)`); all stopped afterwards."""
    servers: list[Gunicorn] = []

    def start(env: dict, **options) -> Gunicorn:
        server = Gunicorn(env, log_dir=tmp_path, **options)
        servers.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in servers:
            server.stop()
