"""The Twilio REST client, pointed at TWILIO_API_BASE_URL (a local stand-in in tests)."""

from __future__ import annotations

from flask import current_app
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

REST_TIMEOUT_S = 10


def twilio_client() -> Client:
    """A client per app; its API domain is the configured base URL instead of Twilio's."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the proxied app
    client = app.extensions.get("hotline.twilio")
    if client is None:
        config = app.config
        client = Client(
            config["TWILIO_ACCOUNT_SID"],
            config["TWILIO_AUTH_TOKEN"],
            http_client=TwilioHttpClient(timeout=REST_TIMEOUT_S),
        )
        client.api.base_url = config["TWILIO_API_BASE_URL"].rstrip("/")
        app.extensions["hotline.twilio"] = client
    return client


def public_url(path: str) -> str:
    """An absolute URL of this app as Twilio reaches it, for REST calls' `url` parameters."""
    return current_app.config["PUBLIC_BASE_URL"] + path
