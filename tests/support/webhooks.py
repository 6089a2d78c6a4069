"""Webhooks posted to the test app exactly as Twilio posts them: form body, signed full URL."""

from __future__ import annotations

from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

# The test app's public address and Twilio auth token (tests/conftest.py's `app` has them).
PUBLIC_BASE_URL = "https://hotline.example.test"
AUTH_TOKEN = "test-auth-token"


def sign(url: str, params: dict, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


class Twilio:
    """Posts webhooks to the app exactly as Twilio would: form body, signed full URL."""

    DEFAULT_SID = "CA" + "1" * 32

    def __init__(self, client, sid: str = DEFAULT_SID, caller: str = "+9647501234567"):
        self.client = client
        self.sid = sid
        self.caller = caller

    def post(self, path: str, signed: bool = True, **params):
        form = {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "To": "+9645599",
            "From": self.caller,
            "Direction": "inbound",
            "CallStatus": "in-progress",
        }
        form.update({k: v for k, v in params.items() if v is not None})
        form = {k: v for k, v in form.items() if v is not None}
        headers = {}
        if signed:
            headers["X-Twilio-Signature"] = sign(PUBLIC_BASE_URL + path, form)
        return self.client.post(path, data=form, headers=headers)


def query(**params) -> str:
    return urlencode(params)
