"""What the factory wires: proxies trusted only when told."""

from __future__ import annotations

from factory import create_app
from tests.support.webhooks import AUTH_TOKEN, PUBLIC_BASE_URL


def make(**extra):
    return create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            **extra,
        }
    )


def remote_addr_seen(app) -> str:
    seen = {}

    @app.get("/_addr")
    def addr():
        from flask import request

        seen["addr"] = request.remote_addr
        return "ok"

    app.test_client().get(
        "/_addr", headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "10.0.0.2"}
    )
    return seen["addr"]


def test_forwarded_addresses_are_ignored_without_a_proxy():
    assert remote_addr_seen(make()) == "10.0.0.2"


def test_one_proxy_hop_gives_the_client_address():
    assert remote_addr_seen(make(PROXY_FIX_HOPS=1)) == "203.0.113.7"


def test_the_twilio_library_does_not_log_each_rest_request(app):
    import logging

    assert not logging.getLogger("twilio.http_client").isEnabledFor(logging.INFO)


def test_a_forwarded_host_is_not_believed_even_behind_a_proxy():
    app = make(PROXY_FIX_HOPS=1)
    seen = {}

    @app.get("/_host")
    def host():
        from flask import request

        seen["host"] = request.host
        return "ok"

    app.test_client().get("/_host", headers={"Host": "node-1:8000", "X-Forwarded-Host": "evil.example"})
    assert seen["host"] == "node-1:8000"


def test_postgresql_connections_give_up_on_a_host_that_stops_acknowledging():
    """The timeouts that keep a vanished database host from silencing callers, per setting."""
    app = make(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://hotline@db.invalid/hotline",
        DB_TCP_USER_TIMEOUT_MS=1500,
        REPORTS_DATABASE_URL="postgresql+psycopg://hotline@replica.invalid/hotline",
    )
    for options in (app.config["SQLALCHEMY_ENGINE_OPTIONS"], app.config["SQLALCHEMY_BINDS"]["reports"]):
        connect = options["connect_args"]
        assert connect["tcp_user_timeout"] == 1500 and connect["keepalives"] == 1
        assert connect["connect_timeout"] == 3 and "statement_timeout=3000" in connect["options"]
    assert "tcp_user_timeout" not in make().config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]  # SQLite


def test_no_engine_puts_bound_parameters_in_its_errors():
    """Callers' numbers must not reach the logs through an exception, on the primary or the replica."""
    app = make(REPORTS_DATABASE_URL="sqlite://")
    with app.app_context():
        from extensions import db

        assert db.engines[None].hide_parameters and db.engines["reports"].hide_parameters


def test_an_unreachable_database_is_told_apart_from_a_refused_statement():
    import psycopg
    from sqlalchemy.exc import IntegrityError, OperationalError

    from extensions import database_unreachable

    assert database_unreachable(OperationalError("SELECT 1", {}, psycopg.OperationalError("connection timed out")))
    assert database_unreachable(
        OperationalError("SELECT 1", {}, psycopg.errors.QueryCanceled(), connection_invalidated=True)
    )
    assert not database_unreachable(OperationalError("SELECT 1", {}, psycopg.errors.QueryCanceled()))  # a timeout
    assert not database_unreachable(IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation()))
    assert not database_unreachable(ValueError("not the database at all"))
