"""The call screen's "Record a complaint" form, filled in from the call (a module of its own:
the call screen shows it, and call_complaint.py files it)."""

from __future__ import annotations

from flask import current_app
from flask_babel import get_locale, gettext as _
from sqlalchemy import select

from agent_console.forms import ComplaintIntakeForm, options
from domain.complaints.filing import governorates
from domain.phones import national_format
from extensions import db
from models import Call, ComplaintCategory, Entity


def intake_form(call: Call, formdata=None) -> ComplaintIntakeForm:
    region = current_app.config["DEFAULT_PHONE_REGION"]
    form = ComplaintIntakeForm(
        formdata=formdata,
        phone=national_format(call.caller, region) if call.caller else "",
        language=call.language or "ar",
        verification="sms" if call.caller else "phone_unverified",
    )
    language = str(get_locale())
    form.kind.choices = options(
        [("", _("Choose…")), ("service", _("A government service")), ("employee", _("A government employee"))]
    )
    categories = db.session.scalars(
        select(ComplaintCategory).where(ComplaintCategory.active.is_(True)).order_by(ComplaintCategory.code)
    )
    form.category.choices = options([("", _("Choose…"))] + [(str(c.id), c.name(language)) for c in categories])
    entities = db.session.scalars(select(Entity).order_by(Entity.name_ar))
    form.entity.choices = options([("", _("Choose…"))] + [(str(e.id), e.name(language)) for e in entities])
    form.governorate.choices = options(
        [("", _("Choose…"))] + [(code, names.get(language) or names["ar"]) for code, names in governorates().items()]
    )
    return form
