"""The voice IVR: Twilio webhooks under /ivr/."""
from flask import Blueprint

bp = Blueprint("ivr", __name__, url_prefix="/ivr")

from ivr import routes  # noqa: E402,F401  (registers the views on bp)
from ivr import survey  # noqa: E402,F401  (the post-call survey's answer)
