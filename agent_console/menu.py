"""The console's menu and the template helpers every page uses."""

from __future__ import annotations

from flask import current_app, session
from flask_babel import get_locale, lazy_gettext as _l
from flask_login import current_user

from agent_console import bp
from models import Role

# (endpoint, label, the least role that sees it). Officers see only their own pages: the ones
# for every role (Role.officer) and those in OFFICERS_ONLY.
MENU = [
    ("console.home", _l("Queue"), Role.agent),
    ("console.search", _l("Search"), Role.agent),
    ("console.callbacks", _l("Callbacks"), Role.agent),
    ("console.complaints", _l("Complaints"), Role.officer),
    ("console.letters", _l("Letters"), Role.officer),
    ("console.call_log", _l("Call log"), Role.supervisor),
    ("console.kpis", _l("KPIs"), Role.supervisor),
    ("console.complaint_report_page", _l("Complaints report"), Role.supervisor),
    ("console.wallboard", _l("Wallboard"), Role.supervisor),
    ("console.agents", _l("Agents"), Role.supervisor),
    ("console.audit_log", _l("Audit log"), Role.supervisor),
    ("console.imports", _l("Imports"), Role.admin),
    ("console.studio", _l("Prompt studio"), Role.admin),
]


OFFICERS_ONLY = {"console.letters"}
# The supervisors' and administrators' pages open from a menu of their own in the top bar, so
# that the bar stays on one line at 1024 px in every language.
GROUPS = {Role.supervisor: _l("Supervision"), Role.admin: _l("Administration")}


def shown(endpoint: str, role: Role) -> bool:
    if endpoint in OFFICERS_ONLY:
        return current_user.role is Role.officer
    return current_user.has_role(role)


def select_locale() -> str:
    """The user's own language; before login, the one chosen on the login page; else Arabic."""
    languages = current_app.config["CONSOLE_LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


@bp.app_context_processor
def console_helpers():
    def console_menu():
        if not current_user.is_authenticated:
            return []
        return [
            (endpoint, label, role)
            for endpoint, label, role in MENU
            if shown(endpoint, role) and endpoint in current_app.view_functions
        ]

    def console_menu_groups():
        """[(group label or None, [(endpoint, label)])]: the pages every user has, then a group each."""
        items = console_menu()
        groups = [(None, [(endpoint, label) for endpoint, label, role in items if role not in GROUPS])]
        for role, name in GROUPS.items():
            grouped = [(endpoint, label) for endpoint, label, item_role in items if item_role is role]
            if grouped:
                groups.append((name, grouped))
        return groups

    return {
        "console_menu": console_menu,
        "console_menu_groups": console_menu_groups,
        "current_language": lambda: str(get_locale()),
    }
