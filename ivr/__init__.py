"""The voice IVR: Twilio webhooks under /ivr/."""

from flask import Blueprint

from telephony.signature import limit_webhook_body

bp = Blueprint("ivr", __name__, url_prefix="/ivr")
bp.before_request(limit_webhook_body)  # Twilio's bodies are small: a big one is never read

# Each module registers its views on bp.
from ivr import agent_leg, complaints, conference, conversation, recording, survey, twilio_events  # noqa: E402,F401
