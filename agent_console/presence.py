"""Presence in the console: each open page's heartbeat (which also routes), the agent's own
state in one click, and supervisors setting an agent's state or logging them out.

Every console page of an agent runs presence.js: a heartbeat every PRESENCE_HEARTBEAT_S, whose
answer (the agent's state, the waiting callers, their open offer) is also the fallback when the
live stream is down; the banner, the ring, the title count and the desktop notification come
from it and from the stream's "queue" and "offers" events.
"""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from agent_console import bp
from agent_console.access import admin_required, agent_required, client_address, supervisor_required
from agent_console.forms import ActionForm
from agent_console.labels import LABELS, label
from domain.audit import audit
from domain.calls.offers import offer_of, route
from domain.calls.queue import offer_mode, snapshot
from domain.clock import utcnow
from domain.languages import LANGUAGES
from domain.live import publish_agents_changed
from domain.staff.presence import (
    PresenceError,
    away_reasons,
    choose,
    heartbeat,
    log_out,
    shown_presence,
    timeout,
)
from extensions import db
from models import Role, User


def state_of(user: User, now) -> dict:
    """An agent's state as the consoles show it."""
    shown = shown_presence(user, now)
    reason = user.away_reason if shown.value == "away" else None
    since = user.presence_since
    if shown != user.presence and user.last_seen_at is not None:  # gone quiet, not yet swept
        since = user.last_seen_at + timeout()
    return {
        "id": user.id,
        "presence": shown.value,
        "reason": reason,
        "label": label("presence", shown) + (f" · {label('away_reason', reason)}" if reason else ""),
        "since": since.isoformat() if since else None,
    }


def presence_strings() -> dict:
    """The words presence.js shows, in the agent's language."""
    return {
        "waiting": _("Callers waiting: %(num)s"),
        "offer": _("A caller is offered to you"),
        "accept": _("Accept"),
        "accepting": _("Accepting…"),
        "seconds_left": _("%(seconds)s s left"),
        "open_queue": _("Open the queue"),
        "notify_title": _("5599: a caller is waiting"),
        "allow_notifications": _("Allow desktop notifications"),
        "offer_gone": _("The offer ended."),
        "signed_out": _("You are signed out."),
        "languages": {code: str(name) for code, name in LABELS["language"].items()},
        "withheld": _("Withheld number"),
    }


@bp.app_context_processor
def presence_helpers():
    def presence_bar() -> dict | None:
        """What base.html needs for the banner and presence.js, for an agent's pages only."""
        if not current_user.is_authenticated or not current_user.has_role(Role.agent):
            return None
        return {
            "heartbeat_url": url_for("console.presence_heartbeat"),
            "presence_url": url_for("console.presence"),
            "take_url": url_for("console.take_call", call_id=0),
            "queue_url": url_for("console.home"),
            "stream_url": url_for("console.stream"),
            "ring_url": url_for("console.static", filename="ring.wav"),
            "heartbeat_s": current_app.config["PRESENCE_HEARTBEAT_S"],
            "mode": current_app.config["ROUTING_MODE"],
            "me": current_user.id,
            "strings": presence_strings(),
        }

    return {"presence_bar": presence_bar, "away_reasons": away_reasons}


@bp.post("/heartbeat")
@agent_required
def presence_heartbeat():
    """An open console page is alive: the agent stays present; routing runs when it has work."""
    now = utcnow()
    was = current_user.presence
    heartbeat(current_user, now)
    db.session.commit()
    if current_user.presence != was:
        publish_agents_changed()
    route(now, when_needed=True)
    db.session.expire_all()
    queue = snapshot(now)
    response = jsonify(
        state=state_of(current_user, now),
        mode=current_app.config["ROUTING_MODE"],
        waiting=queue["waiting"],
        longest_wait_s=queue["longest_wait_s"],
        offer=offer_of(current_user, now) if offer_mode() else None,
        now=now.isoformat(),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def presence_problem(error: PresenceError) -> str:
    return {
        "bad_state": _("Choose Available or Away."),
        "bad_reason": _("Choose why you are away."),
        "on_call": _("An agent on a call is available again after the call."),
    }.get(error.code, _("This value is not accepted."))


def set_state(user: User, *, by: User) -> tuple[bool, str]:
    """The form's state and reason for `user`; (done, message). Commits and routes when done."""
    if not ActionForm().validate_on_submit():
        abort(400)
    # One button per choice: "available", "away:<reason>" (or "away" and a separate reason).
    state, _colon, reason_given = request.form.get("presence", "").partition(":")
    reason = reason_given or request.form.get("reason") or None
    now = utcnow()
    try:
        choose(user, state, reason, now)
    except PresenceError as error:
        db.session.rollback()
        return False, presence_problem(error)
    if by.id != user.id:
        audit(
            by,
            "presence_set",
            target_type="user",
            target_id=user.id,
            detail={"presence": state, "reason": user.away_reason},
            address=client_address(),
        )
    user.last_seen_at = now if by.id == user.id else user.last_seen_at
    db.session.commit()
    publish_agents_changed()
    route(now)  # an agent now Available may be offered the longest-waiting caller at once
    return True, ""


@bp.post("/presence")
@agent_required
def presence():
    """The agent's own state in one click: Available, or Away with a reason."""
    done, message = set_state(current_user, by=current_user)
    if wants_json():
        db.session.refresh(current_user)
        return jsonify(ok=done, message=message or None, state=state_of(current_user, utcnow())), 200 if done else 422
    if not done:
        flash(message, "error")
    return redirect(url_for("console.home"), code=303)


def staff_member(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role is Role.officer:
        abort(404)
    return user


@bp.post("/agents/<int:user_id>/presence")
@supervisor_required
def agent_presence(user_id: int):
    """A supervisor sets an agent's state (audited)."""
    user = staff_member(user_id)
    done, message = set_state(user, by=current_user)
    if done:
        flash(
            _("%(name)s is now %(state)s.", name=user.display_name, state=state_of(user, utcnow())["label"]), "success"
        )
    else:
        flash(message, "error")
    return redirect(url_for("console.agents"), code=303)


@bp.post("/agents/<int:user_id>/logout")
@supervisor_required
def agent_logout(user_id: int):
    """A supervisor logs an agent out: Offline, and every session of theirs ends (audited)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    user = staff_member(user_id)
    if user.id == current_user.id:
        flash(_("Use Log out at the top to log yourself out."), "error")
        return redirect(url_for("console.agents"), code=303)
    log_out(user)
    audit(current_user, "agent_logout", target_type="user", target_id=user.id, address=client_address())
    db.session.commit()
    publish_agents_changed()
    route()
    flash(_("%(name)s is logged out.", name=user.display_name), "success")
    return redirect(url_for("console.agents"), code=303)


@bp.post("/agents/<int:user_id>/languages")
@admin_required
def agent_languages(user_id: int):
    """The languages an agent takes calls in (routing offers them callers of these first)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    user = staff_member(user_id)
    chosen = [code for code in LANGUAGES if code in request.form.getlist("languages")]
    user.languages = ",".join(chosen)
    audit(
        current_user,
        "user_languages",
        target_type="user",
        target_id=user.id,
        detail={"languages": user.languages},
        address=client_address(),
    )
    db.session.commit()
    flash(_("The languages of %(name)s are saved.", name=user.display_name), "success")
    return redirect(url_for("console.agents"), code=303)


@bp.get("/agents.json")
@supervisor_required
def agents_json():
    """Every agent's state and since when, for the Agents page kept live by the stream."""
    now = utcnow()
    users = db.session.scalars(db.select(User).where(User.role != Role.officer, User.active.is_(True)))
    response = jsonify(now=now.isoformat(), agents=[state_of(user, now) for user in users])
    response.headers["Cache-Control"] = "no-store"
    return response
