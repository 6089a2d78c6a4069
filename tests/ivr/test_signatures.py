"""Does every Twilio route refuse a request that Twilio did not sign, writing nothing?"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Call, CallEvent
from tests.support.webhooks import PUBLIC_BASE_URL, sign

TWILIO_ROUTES = [
    "/ivr/voice",
    "/ivr/language?lang=ar&s=1",
    "/ivr/menu?lang=en&s=2",
    "/ivr/number?lang=en&s=3",
    "/ivr/number/confirm?lang=en&s=4&n=12",
    "/ivr/date?lang=en&s=5&n=12",
    "/ivr/date/confirm?lang=en&s=6&n=12&d=2024-01-01",
    "/ivr/direction?lang=en&s=7&n=12&d=2024-01-01",
    "/ivr/result?lang=en&s=8&tx=1",
    "/ivr/not-found?lang=en&s=8",
    "/ivr/callback?lang=en&s=9",
    "/ivr/queue/wait?lang=en",
    "/ivr/queue/left?lang=en&s=9",
    "/ivr/status",
    "/ivr/fallback",
]
FORM = {"CallSid": "CA" + "5" * 32, "From": "+9647501234567", "Digits": "1"}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("path", TWILIO_ROUTES)
def test_missing_signature_is_403_and_writes_nothing(client, app_context, path):
    assert client.post(path, data=FORM).status_code == 403
    assert count(Call) == 0 and count(CallEvent) == 0


@pytest.mark.parametrize("path", TWILIO_ROUTES)
def test_forged_signature_is_403(client, app_context, path):
    forged = sign(PUBLIC_BASE_URL + path, FORM, token="not-the-token")
    assert client.post(path, data=FORM, headers={"X-Twilio-Signature": forged}).status_code == 403
    assert count(Call) == 0


def test_signature_covers_the_query_string(client, app_context):
    signature = sign(PUBLIC_BASE_URL + "/ivr/number/confirm?lang=en&s=4&n=12", FORM)
    tampered = client.post("/ivr/number/confirm?lang=en&s=4&n=99", data=FORM, headers={"X-Twilio-Signature": signature})
    assert tampered.status_code == 403


def test_signature_covers_the_body(client, app_context):
    signature = sign(PUBLIC_BASE_URL + "/ivr/voice", FORM)
    changed = dict(FORM, From="+9647700000000")
    assert client.post("/ivr/voice", data=changed, headers={"X-Twilio-Signature": signature}).status_code == 403


def test_signature_is_checked_against_the_public_url_not_the_host(client, app_context):
    signature = sign("http://localhost/ivr/voice", FORM)
    assert client.post("/ivr/voice", data=FORM, headers={"X-Twilio-Signature": signature}).status_code == 403
    good = sign(PUBLIC_BASE_URL + "/ivr/voice", FORM)
    assert client.post("/ivr/voice", data=FORM, headers={"X-Twilio-Signature": good}).status_code == 200


def test_production_refuses_to_start_without_a_twilio_token(monkeypatch):
    from factory import create_app

    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s")
    with pytest.raises(RuntimeError, match="TWILIO_AUTH_TOKEN"):
        create_app()


def test_production_refuses_to_switch_signatures_off(monkeypatch):
    from factory import create_app

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t")
    monkeypatch.setenv("TWILIO_VALIDATE_SIGNATURES", "false")
    with pytest.raises(RuntimeError, match="cannot be off"):
        create_app()


@pytest.mark.parametrize("app_env", ["staging", "Production", "prod", ""])
def test_an_unknown_app_env_refuses_to_start(monkeypatch, app_env):
    """A typo must not skip the production checks (and fill in the development secrets)."""
    from factory import create_app

    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("APP_ENV", app_env)
    with pytest.raises(RuntimeError, match="APP_ENV"):
        create_app()


def test_a_webhook_signed_with_an_empty_token_is_refused(app, client, app_context, monkeypatch):
    """With no token configured, a signature made with the empty key proves nothing."""
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "")
    path = "/ivr/result?lang=en&s=8&tx=1"
    forged = sign(PUBLIC_BASE_URL + path, FORM, token="")
    assert client.post(path, data=FORM, headers={"X-Twilio-Signature": forged}).status_code == 403
    assert count(Call) == 0
