"""The call simulator: plays the IVR without a phone line, over signed requests."""

from flask import Blueprint

bp = Blueprint(
    "simulator",
    __name__,
    url_prefix="/dev/simulator",
    template_folder="templates",
    static_folder="static",
)

from simulator import routes  # noqa: E402,F401  (registers the views on bp)
