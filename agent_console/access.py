"""Who may open which console page: login required everywhere, roles where they matter."""

from __future__ import annotations

from functools import wraps

from flask import abort, render_template, request
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


def officer_only(view):
    """Log in first; then 403 unless the user is an entity officer (pages of their own entity
    that the call centre's staff have elsewhere, like the entity's letters)."""

    @wraps(view)
    @login_required
    def checked(*args, **kwargs):
        if current_user.role is not Role.officer:
            abort(403)
        return view(*args, **kwargs)

    checked.required_role = Role.officer  # read by the role x route test
    checked.only_role = True
    return checked


officer_required = role_required(Role.officer)  # every console user: the view narrows what it shows
agent_required = role_required(Role.agent)
supervisor_required = role_required(Role.supervisor)
admin_required = role_required(Role.admin)


def client_address() -> str:
    return request.remote_addr or ""


# Sec-Fetch-Site of a navigation that another site started (a link it sent, a page it opened).
OTHER_SITES = {"cross-site", "same-site"}


def opened_from_this_site(view):
    """For pages whose every view is audited: opened from another site, the page shows
    nothing and audits nothing, but asks; its Open link is then a navigation of this site.

    Browsers without Sec-Fetch-Site (none current) are let through; typed addresses and
    bookmarks ("none") are real page loads.
    """

    @wraps(view)
    def checked(*args, **kwargs):
        if request.headers.get("Sec-Fetch-Site") in OTHER_SITES:
            target = request.full_path if request.query_string else request.path
            return render_template("console/open_from_elsewhere.html", target=target)
        return view(*args, **kwargs)

    return checked
