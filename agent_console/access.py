"""Who may open which console page: login required everywhere, roles where they matter."""
from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_login import current_user, login_required

from models import Role


def role_required(role: Role):
    """Log in first; then 403 unless the user's role is at least `role`."""

    def decorate(view):
        @wraps(view)
        @login_required
        def checked(*args, **kwargs):
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        checked.required_role = role  # read by the role x route test
        return checked

    return decorate


agent_required = role_required(Role.agent)
supervisor_required = role_required(Role.supervisor)
admin_required = role_required(Role.admin)


def client_address() -> str:
    return request.remote_addr or ""
