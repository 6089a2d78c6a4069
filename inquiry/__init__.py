"""The public e-inquiry page: a letter's status by number and date, no login, three languages."""

from flask import Blueprint

bp = Blueprint(
    "inquiry",
    __name__,
    url_prefix="/inquiry",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

from inquiry import routes  # noqa: E402,F401  (registers the views on bp)
