"""Logging in and out of the console, with throttling that cannot lock anyone out for long."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from agent_console import bp
from agent_console.access import client_address
from agent_console.forms import LoginForm
from domain.audit import audit
from domain.staff.passwords import hash_password, needs_rehash, verify_password
from domain.staff.users import end_sessions, set_presence
from extensions import db, limiter, login_manager
from models import Presence, User


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The user of a session id (`User.get_id`: "user:version"), while that session is current.

    Logout, deactivation and a new password raise the user's session version, so every
    cookie made before (another browser's, or one copied) opens nothing from then on.
    """
    try:
        user_id, version = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def login_username() -> str:
    return (request.form.get("username") or "").strip().lower()[:64]


def failed_login(response) -> bool:
    """Only failed attempts count against the limits: a good login never locks anyone out."""
    return response.status_code != 302


def _limit(name: str):
    return lambda: current_app.config[name]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_LIMIT_PER_ACCOUNT_ADDRESS"), methods=["POST"], deduct_when=failed_login,
               key_func=lambda: f"login:{login_username()}:{client_address()}")
@limiter.limit(_limit("LOGIN_LIMIT_PER_ADDRESS"), methods=["POST"], deduct_when=failed_login,
               key_func=lambda: f"login-address:{client_address()}")
@limiter.limit(_limit("LOGIN_LIMIT_PER_ACCOUNT"), methods=["POST"], deduct_when=failed_login,
               key_func=lambda: f"login-account:{login_username()}")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("console.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(select(User).where(User.username == login_username()))
        if user is not None and user.active and verify_password(user.password_hash, form.password.data):
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(form.password.data)
            session.clear()  # a fresh session on login: no fixation
            login_user(user)
            session.permanent = True
            if user.presence == Presence.offline:
                set_presence(user, Presence.away)
            audit(user, "login", address=client_address())
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
        verify_password(None, form.password.data or "")  # same cost whether or not the user exists
        flash(_("Wrong username or password."), "error")
        return render_template("console/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("console/login.html", form=form), status


def safe_next(target: str | None) -> str:
    """Only a path inside the console: never an open redirect to another site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/console/"):
            return target
    return url_for("console.home")


@bp.post("/logout")
@login_required
def logout():
    """End this user's sessions everywhere, not only this cookie: a copy of it must open nothing."""
    set_presence(current_user, Presence.offline)
    end_sessions(current_user)
    audit(current_user, "logout", address=client_address())
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("console.login"))
