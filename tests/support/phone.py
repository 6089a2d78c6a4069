"""The browser phone's API key settings, as the tests give them (`voice_key` in
tests/agent_console/conftest.py)."""

from __future__ import annotations

API_KEY_SID = "SK" + "5" * 32
API_KEY_SECRET = "k" * 32  # Twilio's API key secrets are 32 characters
