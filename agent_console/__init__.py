"""The browser console of agents and supervisors, under /console/."""

from flask import Blueprint

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# Imported for their side effect, after `bp` exists: each module registers its views on it (the
# console's pages, the agents' browser phone, the supervisors' pages, SMS from the call screen,
# CSV imports as jobs, the prompt studio).
from agent_console import (  # noqa: E402, F401
    admin,
    audit_log,
    auth,
    call_complaint,
    call_control,
    call_log,
    call_screen,
    call_sms,
    callbacks,
    calls,
    complaint_report,
    complaints,
    imports,
    kpis,
    labels,
    letters,
    menu,
    notices,
    phone,
    presence,
    recordings,
    records,
    routes,
    studio,
    supervise,
    wallboard,
)
