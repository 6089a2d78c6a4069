"""The agent's own settings: the console language (presence: agent_console.presence)."""

from __future__ import annotations

from flask import abort, redirect, request, session, url_for
from flask_login import current_user, login_required

from agent_console import bp
from agent_console.auth import safe_next
from agent_console.forms import LanguageForm
from extensions import db


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
