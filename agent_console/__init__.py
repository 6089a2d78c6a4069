"""The browser console of agents and supervisors, under /console/."""
from flask import Blueprint

bp = Blueprint(
    "console", __name__, url_prefix="/console",
    template_folder="templates", static_folder="static", static_url_path="/static",
)

from agent_console import auth, call_screen, calls, menu, routes  # noqa: E402,F401  (registers the views on bp)
from agent_console import admin, callbacks, labels, records  # noqa: E402,F401
from agent_console import phone  # noqa: E402,F401  (the agents' browser phone)
from agent_console import audit_log, call_log, kpis, wallboard  # noqa: E402,F401  (the supervisors' pages)
from agent_console import call_sms, imports  # noqa: E402,F401  (SMS from the call screen; CSV imports as jobs)
