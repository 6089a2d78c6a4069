"""The records office's HTTP API (/api/v1): letters in, one letter out, CSV imports as jobs."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from api import routes  # noqa: E402,F401  (registers the views on bp)
