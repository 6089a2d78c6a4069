"""The browser phone's access token: who gets one, for which identity, with which grant."""

from __future__ import annotations

import logging

import jwt
import pytest

from models import EndpointKind, Role
from tests.support.console import agent_client, console_client
from tests.support.phone import API_KEY_SECRET, API_KEY_SID

ACCOUNT_SID = "AC" + "0" * 32
TWIML_APP_SID = "AP" + "7" * 32


def claims_of(response) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    token = response.get_json()["token"]
    assert jwt.get_unverified_header(token)["cty"] == "twilio-fpa;v=1"
    return jwt.decode(token, API_KEY_SECRET, algorithms=["HS256"])


def test_a_browser_agent_gets_a_token_for_the_identity_twilio_dials(app, app_context, voice_key):
    client = agent_client(app, "amira", endpoint_kind=EndpointKind.client, endpoint="amira-browser")
    response = client.get("/console/phone/token")
    claims = claims_of(response)
    assert claims["grants"]["identity"] == "amira-browser"
    assert claims["grants"]["voice"] == {"incoming": {"allow": True}}  # no outgoing without a TwiML app
    assert claims["iss"] == API_KEY_SID and claims["sub"] == ACCOUNT_SID
    assert claims["exp"] - claims["nbf"] == 900
    assert response.get_json()["identity"] == "amira-browser" and response.get_json()["ttl_s"] == 900


def test_an_identity_left_empty_is_the_username(app, app_context, voice_key):
    client = agent_client(app, "omar", endpoint_kind=EndpointKind.client, endpoint="")
    assert claims_of(client.get("/console/phone/token"))["grants"]["identity"] == "omar"


def test_with_a_twiml_app_the_browser_may_also_place_calls(app, app_context, voice_key, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_TWIML_APP_SID", TWIML_APP_SID)
    client = agent_client(app, "amira")
    voice = claims_of(client.get("/console/phone/token"))["grants"]["voice"]
    assert voice == {"incoming": {"allow": True}, "outgoing": {"application_sid": TWIML_APP_SID}}


@pytest.mark.parametrize("role", [Role.supervisor, Role.admin])
def test_supervisors_and_admins_who_take_calls_in_the_browser_get_one_too(app, app_context, voice_key, role):
    # agent_required lets every role at least "agent" in: supervisors may take calls.
    client = agent_client(app, "lead", role=role)
    assert claims_of(client.get("/console/phone/token"))["grants"]["identity"] == "lead"


@pytest.mark.parametrize(
    "kind, endpoint",
    [
        (EndpointKind.sip, "sip:amira@pbx.hotline.example.test"),
        (EndpointKind.phone, "+9647507654321"),
    ],
)
def test_an_agent_whose_calls_ring_elsewhere_gets_409_and_why(app, app_context, voice_key, kind, endpoint):
    client = agent_client(app, "amira", endpoint_kind=kind, endpoint=endpoint)
    response = client.get("/console/phone/token")
    assert response.status_code == 409
    body = response.get_json()
    assert body["reason"] == "not_browser" and "not this browser" in body["message"]
    assert "token" not in body


def test_without_the_api_key_the_server_says_the_phone_is_not_configured(app, app_context):
    assert not app.config["TWILIO_API_KEY_SID"]  # the test app has no key unless a test adds one
    client = agent_client(app, "amira")
    response = client.get("/console/phone/token")
    assert response.status_code == 503
    assert response.get_json()["reason"] == "not_configured"
    assert "not configured" in response.get_json()["message"]


def test_half_a_key_is_not_configured_either(app, app_context, voice_key, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_API_KEY_SECRET", "")
    assert agent_client(app, "amira").get("/console/phone/token").status_code == 503


def test_nobody_logged_out_gets_a_token(app, app_context, voice_key):
    response = console_client(app).get("/console/phone/token")
    assert response.status_code == 302 and response.headers["Location"].startswith("/console/login")


def test_the_token_is_never_logged(app, app_context, voice_key, caplog, monkeypatch):
    # Alembic's fileConfig (the test schema is built by migrations) disables existing loggers.
    monkeypatch.setattr(logging.getLogger("agent_console.phone"), "disabled", False)
    client = agent_client(app, "amira")
    with caplog.at_level(logging.DEBUG):
        token = client.get("/console/phone/token").get_json()["token"]
    assert "voice access token issued" in caplog.text
    assert token not in caplog.text and token.split(".")[2] not in caplog.text
