"""Twilio's callbacks about our text messages (delivery status)."""
from flask import Blueprint

bp = Blueprint("sms", __name__, url_prefix="/sms")

from sms import routes  # noqa: E402,F401  (registers the views on bp)
