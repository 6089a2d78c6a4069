"""Can a stranger make a webhook's signature check itself slow? Big bodies, many fields,
malformed signatures: each refused before the body is parsed, and the signature computed once."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from tests.support.ivr import Answer
from tests.support.webhooks import AUTH_TOKEN, PUBLIC_BASE_URL, sign

ROOT = Path(__file__).resolve().parents[2]
FORM = {"CallSid": "CA" + "5" * 32, "From": "+9647501234567", "To": "+9645599", "Digits": "1"}
WELL_FORMED_BUT_WRONG = "A" * 27 + "="


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise AssertionError("the body was read")


def post_unreadable(client, path: str, length: int, headers: dict):
    return client.post(
        path,
        content_type="application/x-www-form-urlencoded",
        headers=headers,
        environ_overrides={"wsgi.input": UnreadableBody(), "CONTENT_LENGTH": str(length)},
    )


def post_raw(client, path: str, body: bytes, signature: str):
    return client.post(
        path, data=body, content_type="application/x-www-form-urlencoded", headers={"X-Twilio-Signature": signature}
    )


@pytest.mark.parametrize("path", ["/ivr/voice", "/ivr/status", "/sms/status?m=1"])
@pytest.mark.parametrize("signature", ["", "x", "not base64 at all!", "A" * 28, "A" * 5000])
def test_a_missing_or_malformed_signature_is_refused_before_the_body_is_read(client, path, signature):
    headers = {"X-Twilio-Signature": signature} if signature else {}
    response = post_unreadable(client, path, 1_000_000, headers)
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/ivr/voice", "/ivr/queue/wait?lang=en", "/sms/status?m=1"])
def test_a_body_over_the_webhook_limit_is_413_unread(app, client, path):
    limit = app.config["WEBHOOK_MAX_BYTES"]
    response = post_unreadable(client, path, limit + 1, {"X-Twilio-Signature": WELL_FORMED_BUT_WRONG})
    assert response.status_code == 413


def test_more_fields_than_the_limit_is_413_even_when_signed(app, client):
    form = {**FORM, **{f"f{i}": "" for i in range(app.config["WEBHOOK_MAX_FIELDS"])}}
    body = urlencode(form).encode()
    assert len(body) < app.config["WEBHOOK_MAX_BYTES"]
    assert post_raw(client, "/ivr/voice", body, sign(PUBLIC_BASE_URL + "/ivr/voice", form)).status_code == 413


def test_a_real_webhook_just_under_the_limits_is_answered(app, client, app_context):
    form = {**FORM, **{f"f{i}": "" for i in range(app.config["WEBHOOK_MAX_FIELDS"] - len(FORM))}}
    body = urlencode(form).encode()
    Answer.of(post_raw(client, "/ivr/voice", body, sign(PUBLIC_BASE_URL + "/ivr/voice", form)))


def test_repeated_fields_are_signed_as_twilio_signs_them(client, app_context):
    """Twilio signs every value of a repeated field; a dict of the form keeps only the first."""
    pairs = [*FORM.items(), ("AddOns", "a"), ("AddOns", "b")]
    url = PUBLIC_BASE_URL + "/ivr/voice"
    from werkzeug.datastructures import MultiDict

    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, MultiDict(pairs))
    Answer.of(post_raw(client, "/ivr/voice", urlencode(pairs).encode(), signature))
    one_value = RequestValidator(AUTH_TOKEN).compute_signature(url, dict(pairs))
    assert post_raw(client, "/ivr/voice", urlencode(pairs).encode(), one_value).status_code == 403


def test_the_signature_is_computed_once_per_request(client, app_context, monkeypatch):
    computed = []
    original = RequestValidator.compute_signature

    def counting(self, *args, **kwargs):
        computed.append(args[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RequestValidator, "compute_signature", counting)
    body = urlencode(FORM).encode()
    assert post_raw(client, "/ivr/voice", body, WELL_FORMED_BUT_WRONG).status_code == 403
    assert computed == [PUBLIC_BASE_URL + "/ivr/voice"]


def test_nginx_refuses_big_webhook_bodies_too():
    conf = (ROOT / "deploy" / "nginx" / "hotline.conf").read_text()
    for location in ("/ivr/", "/sms/"):
        block = re.search(r"location " + re.escape(location) + r" \{(.*?)\}", conf, re.S)
        assert block, f"no location {location} in hotline.conf"
        assert "client_max_body_size 32k;" in block.group(1)
