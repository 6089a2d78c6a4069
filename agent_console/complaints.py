"""Complaints in the console: the inbox, one complaint's page, its handling, its attachments.

Officers see their entity's complaints, supervisors every one (`workflow.may_see`); agents
find one by its code or see the caller's on the call screen. Officers and supervisors
handle them (`workflow.may_handle`); every action is a POST (CSRF) to `domain.complaints.handling`.
Every page view of a complaint and every download is audited.
"""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from agent_console import bp
from agent_console.access import client_address, officer_required, opened_from_this_site
from agent_console.call_log import read_day_range
from agent_console.forms import ComplaintActionForm, ComplaintCodeForm
from agent_console.paging import page_cursor
from domain.audit import audit
from domain.clock import utcnow
from domain.complaints import handling
from domain.complaints.filing import governorate_name, working_time
from domain.complaints.inbox import Assigned, InboxFilters, entity_officers, find_by_code, inbox_page
from domain.complaints.notices import status_words
from domain.complaints.sla import colour
from domain.complaints.workflow import FINISHED, OPEN, TRANSFERABLE, NotAllowed, may_handle, may_see, shows_identity
from extensions import db
from models import Complaint, ComplaintAttachment, ComplaintCategory, ComplaintStatus, Entity, Role

PAGE_SIZE = 50
MAX_FIELD = 64

# The SLA colours with their words: the colour is never the only sign.
SLA_LABELS = {
    "red": _l("Overdue"),
    "amber": _l("Due soon"),
    "green": _l("On time"),
    "none": _l("Clock stopped"),
}
SLA_TONES = {"red": "bad", "amber": "warn", "green": "good", "none": ""}

EVENT_LABELS = {
    "submitted": _l("Filed"),
    "routed": _l("Sent to the entity"),
    "status": _l("Status changed"),
    "assigned": _l("Assigned"),
    "response": _l("Public response"),
    "note": _l("Internal note"),
    "info_request": _l("Information asked of the citizen"),
    "citizen_reply": _l("The citizen replied"),
    "transfer": _l("Transferred"),
    "appeal": _l("Appealed by the citizen"),
    "escalated": _l("Past its SLA: supervisors told"),
    "purged": _l("Personal data removed"),
}
KIND_LABELS = {"service": _l("A government service"), "employee": _l("A government employee")}
CHANNEL_LABELS = {"web": _l("Web"), "phone": _l("Phone")}
VERIFICATION_LABELS = {
    "sms": _l("SMS code"),
    "email": _l("E-mail code"),
    "phone_unverified": _l("Taken by phone, not verified"),
}

# The actions on a complaint: the handling use case each calls, and what it needs.
ACTIONS = ("assign", "respond", "ask", "note", "resolve", "reject", "transfer", "close")
DONE = {
    "assign": _l("The assignment is saved."),
    "respond": _l("The response is sent to the citizen."),
    "ask": _l("The question is sent to the citizen; the SLA waits for the answer."),
    "note": _l("The note is saved."),
    "resolve": _l("The complaint is resolved."),
    "reject": _l("The complaint is rejected; the citizen is told the reason."),
    "transfer": _l("The complaint is transferred."),
    "close": _l("The complaint is closed."),
}


def sla_state(complaint: Complaint, now=None) -> str:
    return colour(complaint.sla_due_at, complaint.category.sla_hours, now or utcnow(), working_time())


def language() -> str:
    from flask_babel import get_locale

    return str(get_locale())


def console_helpers() -> dict:
    lang = language()
    return {
        "sla_state": sla_state,
        "sla_label": lambda state: str(SLA_LABELS[state]),
        "sla_tone": SLA_TONES.get,
        "event_label": lambda kind: str(EVENT_LABELS.get(kind.value, kind.value)),
        "category_name": lambda category: category.name(lang),
        "statuses": list(ComplaintStatus),
    }


# --- the inbox ---------------------------------------------------------------------------


def read_inbox_filters(args) -> tuple[InboxFilters, dict[str, str], dict[str, str]]:
    """(the checked filters, the raw values to show again, an error message per field)."""
    raw = {
        name: str(args.get(name, "") or "")[:MAX_FIELD].strip()
        for name in ("status", "category", "assigned", "overdue", "start", "end")
    }
    errors: dict[str, str] = {}
    values: dict = {}
    read_day_range(raw, values, errors)
    if raw["status"]:
        try:
            values["status"] = ComplaintStatus(raw["status"])
        except ValueError:
            errors["status"] = _("Choose a status from the list.")
    if raw["category"]:
        text = raw["category"]
        if text.isascii() and text.isdigit() and 0 < int(text) < 2**31:
            values["category_id"] = int(text)
        else:
            errors["category"] = _("Choose a category from the list.")
    if raw["assigned"]:
        try:
            values["assigned"] = Assigned(raw["assigned"])
        except ValueError:
            errors["assigned"] = _("Choose from the list.")
    values["overdue"] = raw["overdue"] == "1"
    return InboxFilters(**values), raw, errors


@bp.get("/complaints")
@officer_required
def complaints():
    filters, raw, errors = read_inbox_filters(request.args)
    page = None
    browses = current_user.role is Role.officer or current_user.has_role(Role.supervisor)
    if browses and not errors:
        cursor, direction, cursor_ok = page_cursor()
        if not cursor_ok:
            flash(_("That page link is not valid any more; here is the first page."), "warning")
        now = utcnow()
        page = inbox_page(
            current_user,
            filters,
            tz_name=current_app.config["TIMEZONE"],
            now=now,
            size=PAGE_SIZE,
            cursor=cursor,
            direction=direction,
        )
    args = {name: value for name, value in raw.items() if value}
    categories = db.session.scalars(select(ComplaintCategory).order_by(ComplaintCategory.code)).all()
    return render_template(
        "console/complaints.html",
        page=page,
        raw=raw,
        errors=errors,
        args=args,
        filtered=filters.any,
        browses=browses,
        categories=categories,
        own_entity=db.session.get(Entity, current_user.entity_id) if current_user.entity_id else None,
        code_form=ComplaintCodeForm(formdata=None),
        **console_helpers(),
    ), (422 if errors else 200)


@bp.post("/complaints/find")
@officer_required
def complaint_find():
    """By code (POSTed: a code stays out of URLs and access logs); audited, found or not."""
    form = ComplaintCodeForm()
    complaint = find_by_code(current_user, form.code.data) if form.validate() else None
    audit(
        current_user,
        "search",
        target_type="complaint",
        detail={"code": (form.code.data or "")[:MAX_FIELD], "matches": int(complaint is not None)},
        address=client_address(),
    )
    db.session.commit()
    if complaint is None:
        flash(_("No complaint you may open has this code. Check the digits with the caller."), "error")
        return redirect(url_for("console.complaints"), code=303)
    return redirect(url_for("console.complaint", complaint_id=complaint.id), code=303)


# --- one complaint ---------------------------------------------------------------------------


def visible_complaint(complaint_id: int) -> Complaint:
    """404 for a complaint that does not exist and for one the user may not see: the same answer."""
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None or not may_see(current_user, complaint):
        abort(404)
    return complaint


def action_form(complaint: Complaint, formdata=None) -> ComplaintActionForm:
    form = ComplaintActionForm(formdata=formdata)
    officers = entity_officers(complaint.entity_id)
    form.officer.choices = [("", _("Nobody"))] + [(str(user.id), user.display_name) for user in officers]
    entities = db.session.scalars(select(Entity).where(Entity.id != complaint.entity_id).order_by(Entity.name_ar))
    form.entity.choices = [("", _("Choose…"))] + [(str(entity.id), entity.name(language())) for entity in entities]
    if formdata is None and complaint.assigned_to_id:
        form.officer.data = str(complaint.assigned_to_id)
    return form


def possible_actions(complaint: Complaint) -> set[str]:
    if not may_handle(current_user, complaint):
        return set()
    found = {"note"}
    if complaint.status in OPEN:
        found |= {"assign", "respond", "resolve", "reject", "ask"}
        if complaint.status is ComplaintStatus.submitted:
            found -= {"resolve", "reject", "ask"}
    if complaint.status in TRANSFERABLE:
        found.add("transfer")
    if complaint.status in FINISHED and current_user.has_role(Role.supervisor):
        found.add("close")
    return found


def render_complaint(
    complaint: Complaint,
    form: ComplaintActionForm | None = None,
    open_action: str = "",
    status=200,
    problem: str = "",
):
    attachments = db.session.scalars(
        select(ComplaintAttachment)
        .where(ComplaintAttachment.complaint_id == complaint.id)
        .order_by(ComplaintAttachment.id)
    ).all()
    return render_template(
        "console/complaint.html",
        complaint=complaint,
        identity=shows_identity(current_user, complaint),
        attachments=attachments,
        actions=possible_actions(complaint),
        form=form or action_form(complaint),
        open_action=open_action,
        problem=problem,
        governorate=governorate_name(complaint.governorate, language()),
        kind_label=str(KIND_LABELS.get(complaint.kind.value, complaint.kind.value)),
        channel_label=str(CHANNEL_LABELS.get(complaint.channel.value, complaint.channel.value)),
        verification_label=str(VERIFICATION_LABELS.get(complaint.verification.value, "")),
        **console_helpers(),
    ), status


@bp.get("/complaints/<int:complaint_id>")
@officer_required
@opened_from_this_site
def complaint(complaint_id: int):
    record = visible_complaint(complaint_id)
    audit(current_user, "view_complaint", target_type="complaint", target_id=record.id, address=client_address())
    db.session.commit()
    return render_complaint(record)


def action_error(error: Exception) -> str:
    if isinstance(error, NotAllowed):
        return _("This is not possible for this complaint now (its status or entity has changed). Reload the page.")
    return {
        "empty": _("Write the text first."),
        "too_long": _("The text is too long: at most %(count)d characters.", count=handling.BODY_MAX),
    }.get(str(error), _("Please check this value."))


def run_action(action: str, complaint: Complaint, form: ComplaintActionForm):
    user, body = current_user, form.body.data or ""
    if action == "assign":
        text = form.officer.data or ""
        officer_id = int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 2**31 else None
        if text and officer_id is None:
            raise NotAllowed("not an officer")
        return handling.assign(complaint.id, user, officer_id)
    if action == "respond":
        return handling.respond(complaint.id, user, body)
    if action == "ask":
        return handling.request_information(complaint.id, user, body)
    if action == "note":
        return handling.add_note(complaint.id, user, body)
    if action == "resolve":
        return handling.move(complaint.id, user, ComplaintStatus.resolved, body)
    if action == "reject":
        return handling.reject(complaint.id, user, body)
    if action == "close":
        return handling.move(complaint.id, user, ComplaintStatus.closed, body)
    text = form.entity.data or ""
    if not (text.isascii() and text.isdigit() and 0 < int(text) < 2**31):
        raise NotAllowed("choose an entity")
    return handling.transfer(complaint.id, user, int(text), body)


@bp.post("/complaints/<int:complaint_id>/<action>")
@officer_required
def complaint_act(complaint_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    record = visible_complaint(complaint_id)
    if not may_handle(current_user, record):
        abort(403)
    form = action_form(record, formdata=request.form)
    if not form.validate():
        return render_complaint(record, form, action, status=422)
    if action == "transfer" and not form.entity.data:
        form.entity.errors = [_("Choose the entity to transfer the complaint to.")]
        return render_complaint(record, form, action, status=422)
    try:
        run_action(action, record, form)
    except LookupError:
        abort(404)
    except ValueError as error:  # NotAllowed included
        db.session.rollback()
        record = visible_complaint(complaint_id)
        form = action_form(record, formdata=request.form)
        if isinstance(error, NotAllowed):  # the action's form may be gone: the message on top
            return render_complaint(record, form, action, status=409, problem=action_error(error))
        form.body.errors = [action_error(error)]
        return render_complaint(record, form, action, status=422)
    flash(str(DONE[action]), "success")
    db.session.expire_all()
    after = db.session.get(Complaint, complaint_id)
    if after is None or not may_see(current_user, after):  # transferred away from the officer's entity
        return redirect(url_for("console.complaints"), code=303)
    return redirect(url_for("console.complaint", complaint_id=complaint_id), code=303)


# --- attachments ---------------------------------------------------------------------------


@bp.get("/complaints/<int:complaint_id>/attachments/<int:attachment_id>")
@officer_required
@opened_from_this_site
def complaint_attachment(complaint_id: int, attachment_id: int):
    """The file itself, only through the app: never inline, never sniffed, never cached."""
    record = visible_complaint(complaint_id)
    attachment = db.session.get(ComplaintAttachment, attachment_id)
    if attachment is None or attachment.complaint_id != record.id:
        abort(404)
    audit(
        current_user,
        "download_attachment",
        target_type="complaint",
        target_id=record.id,
        detail={"attachment_id": attachment.id},
        address=client_address(),
    )
    db.session.commit()
    name = f"complaint-{record.code}-{attachment.id}{extension(attachment.content_type)}"
    return Response(
        attachment.data,
        mimetype=attachment.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def extension(content_type: str) -> str:
    return EXTENSIONS.get(content_type, "")


@bp.app_context_processor
def complaint_status_words():
    """A complaint's status in the citizen's words, on every console page (the call screen too)."""
    return {"status_word": lambda status: status_words(status, language())}
