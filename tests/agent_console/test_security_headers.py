"""Which headers every answer carries: CSP, no framing, no sniffing, no referrer to other
sites, HSTS in production over HTTPS, and no caching of anything that shows a letter or a call."""

from __future__ import annotations

import pytest

from domain.staff.api_tokens import create_token
from extensions import db
from factory import create_app
from tests.support.records import add_letter, logged_in_client, post_form
from tests.support.supervisor import add_call
from tests.support.webhooks import AUTH_TOKEN, PUBLIC_BASE_URL

EVERYWHERE = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def directives(response) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in policy.split("; ") if " " in part}


def assert_hardened(response):
    for name, value in EVERYWHERE.items():
        assert response.headers.get(name) == value, (name, response.request.path)
    policy = directives(response)
    assert policy.get("frame-ancestors") == "'none'", response.request.path
    assert policy.get("script-src") == "'self'" and policy.get("style-src") == "'self'"
    assert policy.get("object-src") == "'none'"


@pytest.mark.parametrize(
    "path",
    ["/console/login", "/inquiry?lang=en", "/", "/api/v1/openapi.json", "/console/static/console.css", "/no-such-page"],
)
def test_every_answer_forbids_framing_sniffing_and_inline_scripts(client, path):
    assert_hardened(client.get(path))


def test_a_webhook_answer_carries_them_too(twilio):
    assert_hardened(twilio.post("/ivr/voice"))


def test_only_the_console_may_reach_twilio_for_the_browser_phone(client):
    console = directives(client.get("/console/login"))
    assert "wss://*.twilio.com" in console["connect-src"] and "mediastream:" in console["media-src"]
    inquiry = directives(client.get("/inquiry"))
    assert inquiry["connect-src"] == "'self'" and inquiry["media-src"] == "'self'"


def production_app(**settings):
    return create_app(
        {
            "APP_ENV": "production",
            "SECRET_KEY": "s" * 32,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            **settings,
        }
    )


def test_hsts_in_production_over_https_only():
    client = production_app().test_client()
    assert (
        client.get("/inquiry", base_url="https://hotline.example.test").headers["Strict-Transport-Security"]
        == "max-age=31536000"
    )
    assert "Strict-Transport-Security" not in client.get("/inquiry", base_url="http://hotline.example.test").headers
    off = production_app(HSTS_SECONDS=0).test_client()
    assert "Strict-Transport-Security" not in off.get("/inquiry", base_url="https://hotline.example.test").headers


def test_no_hsts_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/inquiry", base_url="https://localhost").headers


def test_pages_that_show_a_letter_a_call_or_a_search_are_never_stored(app, staff):
    with app.app_context():
        letter_id = add_letter().id
        call_id = add_call("2025-03-10 09:20:00", transaction_id=letter_id, found=True).id
        token = create_token("records-office")
        db.session.remove()
    agent = logged_in_client(app, "aya")
    supervisor = logged_in_client(app, "sami")
    answers = {
        "record": agent.get(f"/console/transactions/{letter_id}"),
        "call": supervisor.get(f"/console/calls/{call_id}"),
        "search": post_form(
            agent,
            "/console/search",
            {"by": "transaction", "number": "1234", "date": "15/03/2024"},
            follow_redirects=True,
        ),
        "call log": supervisor.get("/console/calls"),
        "audit log": logged_in_client(app, "adam").get("/console/audit"),
        "queue": agent.get("/console/queue.json"),
        "api letter": app.test_client().get(
            "/api/v1/transactions?number=1234&date=2024-03-15", headers={"Authorization": f"Bearer {token}"}
        ),
        "inquiry": app.test_client().get("/inquiry"),
    }
    for name, response in answers.items():
        assert response.status_code == 200, (name, response.status_code)
        assert response.headers.get("Cache-Control") == "no-store", name


def test_static_files_may_still_be_cached(client):
    assert client.get("/console/static/console.css").headers.get("Cache-Control") != "no-store"
