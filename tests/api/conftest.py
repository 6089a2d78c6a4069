"""Fixtures for the records-office API tests: a live token, its header, SMS to the Twilio stand-in."""

from __future__ import annotations

import pytest

from domain.staff.api_tokens import create_token


@pytest.fixture
def token(app_context) -> str:
    return create_token("records-office")


@pytest.fixture
def auth(token) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def sms_api(app, twilio_api):
    previous = app.config["SMS_FROM"]
    app.config["SMS_FROM"] = "+15005550006"
    yield twilio_api
    app.config["SMS_FROM"] = previous
