"""Checks that a webhook really comes from Twilio, cheaply enough that a stranger cannot
make the check itself the attack.

Before anything is read: a signature that is not a base64 HMAC-SHA1 is refused.
Then the body: larger than WEBHOOK_MAX_BYTES (413) or with more than WEBHOOK_MAX_FIELDS
fields (413) and it is never parsed. Then one signature, computed once with the twilio
library's RequestValidator over the request's own form (repeated fields included), against
the URL Twilio requested (PUBLIC_BASE_URL + path + query).
"""

from __future__ import annotations

import hmac
import re
from functools import wraps

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

# What Twilio sends: base64 of an HMAC-SHA1, 28 characters.
SIGNATURE_SHAPE = re.compile(r"[A-Za-z0-9+/]{27}=")


def public_url() -> str:
    """The URL Twilio requested: PUBLIC_BASE_URL (what Twilio sees) + path + query."""
    url = current_app.config["PUBLIC_BASE_URL"] + request.path
    query = request.query_string.decode("latin-1")
    return f"{url}?{query}" if query else url


def limit_webhook_body() -> None:
    """Twilio's webhooks are a few KB: a larger body is refused before it is read (413)."""
    request.max_content_length = current_app.config["WEBHOOK_MAX_BYTES"]
    request.max_form_parts = current_app.config["WEBHOOK_MAX_FIELDS"]


def too_many_fields() -> bool:
    """More fields than any webhook of Twilio's has: counted on the raw body, before parsing."""
    if request.mimetype != "application/x-www-form-urlencoded":
        return False
    body = request.get_data(cache=True)  # within WEBHOOK_MAX_BYTES; request.form reuses it
    return body.count(b"&") + 1 > current_app.config["WEBHOOK_MAX_FIELDS"]


def is_signed_by_twilio() -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    if not token:  # anyone can sign with an empty key
        return False
    if not SIGNATURE_SHAPE.fullmatch(signature):
        return False  # malformed: refused before the body is read
    limit_webhook_body()
    if request.content_length is not None and request.content_length > current_app.config["WEBHOOK_MAX_BYTES"]:
        abort(413)
    if too_many_fields():
        abort(413)
    validator = RequestValidator(token)
    expected = validator.compute_signature(public_url(), request.form)
    return hmac.compare_digest(expected, signature)


def twilio_signed(view):
    """403, and nothing written, for a request without a valid Twilio signature."""

    @wraps(view)
    def checked(*args, **kwargs):
        if current_app.config["TWILIO_VALIDATE_SIGNATURES"] and not is_signed_by_twilio():
            abort(403)
        return view(*args, **kwargs)

    return checked
