"""Fixtures for the records-office API: a live token and letters as the CSV's fields."""
from __future__ import annotations

import pytest

from domain.staff.api_tokens import create_token


@pytest.fixture
def token(app_context) -> str:
    return create_token("records-office")


@pytest.fixture
def auth(token) -> dict:
    return {"Authorization": f"Bearer {token}"}


def letter(**changes) -> dict:
    fields = {
        "number": "5501", "date": "2024-03-15", "direction": "to_federal", "subject": "طلب تعيين",
        "sender": "وزارة الداخلية في إقليم كوردستان", "recipient": "وزارة المالية الاتحادية",
        "holder": "وزارة المالية الاتحادية", "status": "forwarded", "status_date": "2024-04-02",
        "phone": "07501234567",
    }
    fields.update(changes)
    return fields


@pytest.fixture
def sms_api(app, twilio_api):
    previous = app.config["SMS_FROM"]
    app.config["SMS_FROM"] = "+15005550006"
    yield twilio_api
    app.config["SMS_FROM"] = previous
