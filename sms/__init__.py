"""Twilio's callbacks about our text messages (delivery status)."""

from flask import Blueprint

from telephony.signature import limit_webhook_body

bp = Blueprint("sms", __name__, url_prefix="/sms")
bp.before_request(limit_webhook_body)  # Twilio's bodies are small: a big one is never read

from sms import routes  # noqa: E402,F401  (registers the views on bp)
