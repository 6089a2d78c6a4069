"""What the factory wires: proxies trusted only when told."""
from __future__ import annotations

from conftest import AUTH_TOKEN, PUBLIC_BASE_URL
from factory import create_app


def make(**extra):
    return create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, **extra})


def remote_addr_seen(app) -> str:
    seen = {}

    @app.get("/_addr")
    def addr():
        from flask import request

        seen["addr"] = request.remote_addr
        return "ok"

    app.test_client().get("/_addr", headers={"X-Forwarded-For": "203.0.113.7"},
                          environ_base={"REMOTE_ADDR": "10.0.0.2"})
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
