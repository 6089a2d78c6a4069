"""The voice IVR: Twilio webhooks under /ivr/."""
from flask import Blueprint

bp = Blueprint("ivr", __name__, url_prefix="/ivr")

# Each module registers its views on bp.
from ivr import agent_leg, conversation, survey, twilio_events  # noqa: E402,F401
