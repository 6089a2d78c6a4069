"""Agents for supervisors (who is there, in which state, since when) and user accounts for admins."""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user
from sqlalchemy import select

from agent_console import bp
from agent_console.access import admin_required, client_address, supervisor_required
from agent_console.forms import ActionForm, UserForm, options
from agent_console.labels import entity_name
from agent_console.phone import rings_in_browser
from agent_console.presence import state_of
from domain.audit import audit
from domain.clock import utcnow
from domain.live import publish_agents_changed
from domain.staff.passwords import MIN_LENGTH
from domain.staff.users import UserError, create_user, list_users, set_active
from extensions import db
from models import Entity, Role, User
from telephony.access_tokens import voice_tokens_configured


def user_error(error: UserError) -> str:
    return {
        "bad_username": _("A username is 2 to 64 lower-case letters, digits, dots, dashes or underscores."),
        "username_taken": _("This username is already taken."),
        "long_name": _("The display name is too long."),
        "bad_language": _("Choose a language."),
        "weak_password": _(
            "The password needs at least %(count)d characters, without spaces at the start or end.", count=MIN_LENGTH
        ),
        "bad_client": _("A browser identity is letters, digits, dots, dashes or underscores (A-Z a-z 0-9 _ . -)."),
        "bad_sip": _("A SIP endpoint starts with sip: and names a user and a host, e.g. sip:agent@pbx.example.org."),
        "bad_phone": _("A phone endpoint is a valid number in international form, e.g. +9647501234567."),
        "deactivate_self": _("You cannot deactivate your own account."),
        "no_entity": _("An entity officer needs their entity: choose one."),
    }.get(error.code, _("This value is not accepted."))


def entity_choices(form: UserForm) -> UserForm:
    entities = db.session.scalars(select(Entity).order_by(Entity.name_ar))
    form.entity_id.choices = options([("", _("None")), *((str(e.id), entity_name(e)) for e in entities)])
    return form


def chosen_entity(form: UserForm) -> int | None:
    text = form.entity_id.data or ""
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 2**31 else None


def clock_text(seconds: int) -> str:
    """0:05:09, as the page's script ticks it."""
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def render_agents(form: UserForm | None = None, status_code: int = 200):
    now = utcnow()
    can_admin = current_user.has_role(Role.admin)
    opened = form is not None
    if can_admin:
        form = entity_choices(form if form is not None else UserForm(formdata=None))
    users = list_users()
    states = {}
    for user in users:
        state = state_of(user, now)
        since = datetime.fromisoformat(state["since"]) if state["since"] else now
        state["since_at"] = since
        state["for"] = clock_text(max(0, int((now - since).total_seconds())))
        states[user.id] = state
    return render_template(
        "console/agents.html",
        users=users,
        states=states,
        now=now,
        can_admin=can_admin,
        form=form,
        action_form=ActionForm(),
        min_password=MIN_LENGTH,
        open_form=opened,
        phone_unset=phone_setup_warning(users) if can_admin else "",
    ), status_code


def phone_setup_warning(users) -> str:
    """Active users' calls are meant to ring in the browser while the server has no Twilio API
    key for the browser phone: told to the administrator here, not to every agent on every page."""
    if voice_tokens_configured(current_app.config):
        return ""
    count = sum(1 for user in users if user.active and rings_in_browser(user))
    if not count:
        return ""
    return ngettext(
        "%(num)d user's calls are meant to ring in the browser, but the server has no Twilio API key "
        "for the browser phone, so nothing rings there. Set %(settings)s.",
        "%(num)d users' calls are meant to ring in the browser, but the server has no Twilio API key "
        "for the browser phone, so nothing rings there. Set %(settings)s.",
        count,
        settings="TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET",
    )


@bp.get("/agents")
@supervisor_required
def agents():
    return render_agents()


@bp.post("/agents/new")
@admin_required
def agent_create():
    form = UserForm()
    if not form.validate_on_submit():
        return render_agents(form, 422)
    try:
        user = create_user(
            form.username.data,
            form.password.data,
            Role(form.role.data),
            display_name=form.display_name.data or "",
            language=form.language.data,
            endpoint_kind=form.endpoint_kind.data,
            endpoint=form.endpoint.data or "",
            entity_id=chosen_entity(form),
        )
    except UserError as refused:
        db.session.rollback()
        for error in refused.all:
            field = form[error.field] if error.field in form else form.username
            field.errors = [*field.errors, user_error(error)]
        return render_agents(form, 422)
    audit(
        current_user,
        "user_create",
        target_type="user",
        target_id=user.id,
        detail={"username": user.username, "role": user.role.value, "entity_id": user.entity_id},
        address=client_address(),
    )
    db.session.commit()
    publish_agents_changed()
    flash(_("User %(name)s created. Give them their initial password in person.", name=user.username), "success")
    return redirect(url_for("console.agents"))


@bp.post("/agents/<int:user_id>/active")
@admin_required
def agent_active(user_id: int):
    """Deactivate (active=0) or reactivate (active=1); a deactivated user is logged out at once."""
    if not ActionForm().validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    active = request.form.get("active") == "1"
    try:
        set_active(user, active, by=current_user)
    except UserError as error:
        flash(user_error(error), "error")
        return render_agents(status_code=409)
    audit(
        current_user,
        "user_activate" if active else "user_deactivate",
        target_type="user",
        target_id=user.id,
        address=client_address(),
    )
    db.session.commit()
    publish_agents_changed()
    if active:
        flash(_("%(name)s can log in again.", name=user.username), "success")
    else:
        flash(_("%(name)s can no longer log in.", name=user.username), "success")
    return redirect(url_for("console.agents"))
