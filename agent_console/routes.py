"""The agent's own settings: presence and console language."""

from __future__ import annotations

from flask import abort, redirect, request, session, url_for
from flask_login import current_user, login_required

from agent_console import bp
from agent_console.access import agent_required
from agent_console.auth import safe_next
from agent_console.forms import LanguageForm, PresenceForm
from domain.live import publish_agents_changed
from domain.staff.users import set_presence
from extensions import db
from models import Presence


@bp.post("/presence")
@agent_required
def presence():
    form = PresenceForm()
    if not form.validate_on_submit():
        abort(400)
    set_presence(current_user, Presence(form.presence.data))
    db.session.commit()
    publish_agents_changed()
    return redirect(url_for("console.home"))


@bp.post("/language")
@login_required
def language():
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    current_user.language = form.language.data
    db.session.commit()
    session["language"] = form.language.data
    return redirect(safe_next(request.form.get("next")))


@bp.post("/login/language")
def login_language():
    """The language of the login page, before anyone is logged in."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["language"] = form.language.data
    return redirect(url_for("console.login"))
