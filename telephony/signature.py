"""Checks that a webhook really comes from Twilio, with the library's RequestValidator."""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator


def public_url() -> str:
    """The URL Twilio requested: PUBLIC_BASE_URL (what Twilio sees) + path + query."""
    url = current_app.config["PUBLIC_BASE_URL"] + request.path
    query = request.query_string.decode("latin-1")
    return f"{url}?{query}" if query else url


def is_signed_by_twilio() -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    token = current_app.config["TWILIO_AUTH_TOKEN"]
    if not signature or not token:  # anyone can sign with an empty key
        return False
    validator = RequestValidator(token)
    return validator.validate(public_url(), request.form.to_dict(flat=True), signature)


def twilio_signed(view):
    """403, and nothing written, for a request without a valid Twilio signature."""

    @wraps(view)
    def checked(*args, **kwargs):
        if current_app.config["TWILIO_VALIDATE_SIGNATURES"] and not is_signed_by_twilio():
            abort(403)
        return view(*args, **kwargs)

    return checked
