"""The call simulator: plays the IVR without a phone line, over signed requests."""
from flask import Blueprint

bp = Blueprint("simulator", __name__, url_prefix="/dev/simulator")
