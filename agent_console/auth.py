"""Logging in and out of the console, with throttling that cannot lock anyone out for long."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from agent_console import bp
from agent_console.access import client_address
from agent_console.errors import messages as error_messages
from agent_console.forms import LoginForm
from domain.audit import audit
from domain.staff.login_throttle import login_throttle
from domain.staff.passwords import VerifiersBusy, hash_password, needs_rehash, verify_password, verify_slots
from domain.staff.users import end_sessions, set_presence
from extensions import db, login_manager
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


KNOWN_BROWSER_COOKIE = "hotline_known"
KNOWN_BROWSER_DAYS = 90


def login_username() -> str:
    return (request.form.get("username") or "").strip().lower()[:64]


def _known_browsers() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="login-known-browser")


def known_browser(username: str) -> bool:
    """Whether this browser logged in as `username` before (then the account-wide delay,
    which anyone could raise by guessing, does not apply to it)."""
    cookie = request.cookies.get(KNOWN_BROWSER_COOKIE)
    if not cookie or not username:
        return False
    try:
        return _known_browsers().loads(cookie, max_age=KNOWN_BROWSER_DAYS * 86400) == username
    except BadSignature:
        return False


def remember_browser(response, username: str):
    response.set_cookie(
        KNOWN_BROWSER_COOKIE,
        _known_browsers().dumps(username),
        max_age=KNOWN_BROWSER_DAYS * 86400,
        path=url_for("console.login"),
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )
    return response


def too_many_attempts(retry_after_s: int, busy: bool = False):
    title, message = error_messages()[429]
    if busy:
        title, message = _("Too many logins right now"), _("Too many logins right now. Please try again in a moment.")
    response = make_response(render_template("console/error.html", code=429, title=title, message=message), 429)
    response.headers["Retry-After"] = str(retry_after_s)
    return response


BUSY_RETRY_AFTER_S = 2


def verified(password_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Whether `password` matches `password_hash` (None: no usable account), and a new hash
    when the matched one needs it. Exactly one verification, against a stand-in hash when
    there is no account: the same time whether the user exists or not.
    Raises VerifiersBusy when no verification slot came free in time."""
    with verify_slots(current_app).held():
        good = verify_password(password_hash, password)
        rehashed = hash_password(password) if good and password_hash and needs_rehash(password_hash) else None
    return good, rehashed


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("console.home"))
    form = LoginForm()
    if form.validate_on_submit():
        username = login_username()
        throttle = login_throttle(current_app)
        verdict = throttle.admit(username, client_address(), known_browser=known_browser(username))
        if not verdict.allowed:
            return too_many_attempts(verdict.retry_after_s)
        user = db.session.scalar(select(User).where(User.username == username))
        user_id, checked_hash = (user.id, user.password_hash) if user is not None and user.active else (None, None)
        db.session.close()  # a login waiting for a slot or for Argon2 holds no database connection
        try:
            good, rehashed = verified(checked_hash, form.password.data or "")
        except VerifiersBusy:
            throttle.succeeded(verdict)  # nothing was verified: the attempt is given back
            return too_many_attempts(BUSY_RETRY_AFTER_S, busy=True)
        # Read again after the verification: a password changed or an account deactivated
        # meanwhile is not opened with what was true before.
        user = db.session.get(User, user_id) if good and user_id is not None else None
        if user is not None and user.active and user.password_hash == checked_hash:
            throttle.succeeded(verdict)
            if rehashed:
                user.password_hash = rehashed
            session.clear()  # a fresh session on login: no fixation
            login_user(user)
            session.permanent = True
            if user.presence == Presence.offline:
                set_presence(user, Presence.away)
            audit(user, "login", address=client_address())
            db.session.commit()
            return remember_browser(redirect(safe_next(request.args.get("next"))), user.username)
        flash(_("Wrong username or password."), "error")
        return render_template("console/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("console/login.html", form=form), status


def safe_next(target: str | None) -> str:
    """Only a path inside the console: never an open redirect to another site, never a
    control character (CR/LF would split the Location header), never a backslash."""
    if target and target.isprintable() and "\\" not in target:
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
