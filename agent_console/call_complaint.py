"""Recording a complaint on a call: the caller's number and language filled in, the complaint
linked to the call and the agent; verified by a one-time code the caller reads back, or
marked as taken by phone, not verified. The new code is shown for the agent to read out.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from agent_console import bp
from agent_console.access import agent_required, client_address
from agent_console.call_screen import render_call, visible_call
from agent_console.complaint_form import intake_form
from agent_console.forms import ComplaintIntakeForm
from domain.audit import audit
from domain.complaints import notices
from domain.complaints.codes import spaced
from domain.complaints.filing import Draft, file_complaint, plain, problems
from domain.one_time_codes import Check, CodeRefused, check_code, keyed, send_code
from domain.phones import normalize_phone
from extensions import db
from models import Call, CodePurpose, ComplaintChannel, Verification

# What filing.problems() keys mean, per field.
PROBLEMS = {
    "choose": _l("Choose one from the list."),
    "other_kind": _l("This category is for the other kind of complaint."),
    "too_short": _l("Describe what happened in at least 20 characters."),
    "too_long": _l("This is too long."),
    "required": _l("This is needed."),
    "not_a_number": _l("This is not a phone number. Write it as 0750 123 4567 or +964 750 123 4567."),
    "not_an_email": _l("This is not an e-mail address."),
    "phone_or_email": _l("A mobile number or an e-mail address is needed."),
    "digits": _l("A national ID is 8 to 20 digits."),
    "too_many": _l("Too many attachments."),
}
REFUSALS = {
    "destination": _l("This number had its codes for the hour. Mark the complaint as not verified instead."),
    "requester": _l("Too many codes were sent on this call. Mark the complaint as not verified instead."),
    "busy": _l("Codes cannot be sent just now. Mark the complaint as not verified instead."),
    "undeliverable": _l("No SMS can be sent to this number. Mark the complaint as not verified instead."),
}
CHECKS = {
    Check.wrong: _l("This is not the code that was sent. Ask the caller to read it again."),
    Check.expired: _l("No valid code for this number: send a new one."),
    Check.exhausted: _l("Too many wrong tries: send a new code."),
}
FIELD_OF = {"category_id": "category", "entity_id": "entity", "attachments": "description"}


def number(text: str | None) -> int | None:
    text = text or ""
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 2**31 else None


def draft_of(form: ComplaintIntakeForm) -> Draft:
    return Draft(
        kind=form.kind.data or "",
        category_id=number(form.category.data),
        entity_id=number(form.entity.data),
        governorate=form.governorate.data or "",
        description=plain(form.description.data, current_app.config["COMPLAINT_DESCRIPTION_MAX"]),
        name=plain(form.name.data, 200),
        phone=plain(form.phone.data, 64),
        email=plain(form.email.data, 254).lower(),
        national_id="".join(ch for ch in plain(form.national_id.data, 64) if not ch.isspace()),
        declared_adult=bool(form.declared_adult.data),
        declared_citizen=bool(form.declared_citizen.data),
        hide_identity=bool(form.hide_identity.data),
        language=form.language.data or "ar",
    )


def render_intake(call: Call, form: ComplaintIntakeForm, status: int = 200, code_sent: bool = False):
    """The call screen again, its complaint form open with what was typed (the browser phone
    sends this form in the background during a call: leaving the page would end the call)."""
    return render_call(call, complaint=form, code_sent=code_sent, status=status)


def mark(form: ComplaintIntakeForm, found: dict[str, str]) -> None:
    for field, key in found.items():
        target = form[FIELD_OF.get(field, field)]
        target.errors = [*target.errors, str(PROBLEMS.get(key, PROBLEMS["choose"]))]


@bp.post("/calls/<int:call_id>/complaint")
@agent_required
def call_complaint(call_id: int):
    call = visible_call(call_id)
    form = intake_form(call, formdata=request.form)
    if not form.validate():
        return render_intake(call, form, 422)
    draft = draft_of(form)
    e164 = normalize_phone(draft.phone, current_app.config["DEFAULT_PHONE_REGION"]) if draft.phone else None
    sms = form.verification.data == "sms"
    if sms and e164 is None:
        form.phone.errors = [_("A code needs the caller's mobile number.")]
        return render_intake(call, form, 422)
    destination = e164 or ""
    if form.send_code.data:
        try:
            send_code(
                purpose=CodePurpose.complaint,
                channel="sms",
                destination=destination,
                requester=keyed(f"call:{call.sid}"),
                language=draft.language,
            )
        except CodeRefused as refused:
            db.session.rollback()
            form.otp.errors = [str(REFUSALS[refused.reason.value])]
            return render_intake(call, form, 429)
        db.session.commit()
        notices.dispatch()
        return render_intake(call, form, code_sent=True)
    found = problems(draft, need_contact=False)
    if found:
        mark(form, found)
        return render_intake(call, form, 422, code_sent=sms)
    if sms:
        checked = check_code(purpose=CodePurpose.complaint, destination=destination, code=form.otp.data or "")
        if checked is not Check.ok:
            form.otp.errors = [str(CHECKS[checked])]
            return render_intake(call, form, 422, code_sent=True)
    complaint = file_complaint(
        draft,
        channel=ComplaintChannel.phone,
        verification=Verification.sms if sms else Verification.phone_unverified,
        call_id=call.id,
        taken_by_id=current_user.id,
    )
    audit(current_user, "file_complaint", target_type="complaint", target_id=complaint.id, address=client_address())
    db.session.commit()
    flash(_("Complaint filed. Read its code to the caller: %(code)s", code=spaced(complaint.code)), "success")
    return redirect(url_for("console.call", call_id=call.id, _anchor="caller-complaints"), code=303)
