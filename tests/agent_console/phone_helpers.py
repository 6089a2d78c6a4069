"""Helpers for the browser phone's tests: the API key settings a token needs."""
from __future__ import annotations

import pytest

API_KEY_SID = "SK" + "5" * 32
API_KEY_SECRET = "k" * 32  # Twilio's API key secrets are 32 characters


@pytest.fixture
def voice_key(app, monkeypatch):
    """The API key settings a browser phone needs, for this test only."""
    monkeypatch.setitem(app.config, "TWILIO_API_KEY_SID", API_KEY_SID)
    monkeypatch.setitem(app.config, "TWILIO_API_KEY_SECRET", API_KEY_SECRET)
    monkeypatch.setitem(app.config, "VOICE_TOKEN_TTL_S", 900)
