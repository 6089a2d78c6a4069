"""/complaints: a citizen files a complaint and follows it, in three languages, without JavaScript.

Filing: the form (its fields and checked attachments kept in a PendingComplaint row between
steps, so an error never loses what was typed or sent) -> a one-time code to the mobile or
the e-mail address -> `file_complaint()` once the code checks -> the complaint code.
Following: the complaint code and the contact it was filed with -> a code sent there (the
same answer whether or not they match) -> the complaint's public history for a short time,
with the citizen's reply or appeal when one is possible.
"""

from __future__ import annotations

import json
import secrets
import tomllib
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Blueprint, current_app, make_response, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, validate_csrf
from sqlalchemy import delete, func, select
from werkzeug.exceptions import RequestEntityTooLarge

from domain.clock import utcnow
from domain.complaints import handling, notices
from domain.complaints.attachments import FileRefused, Refusal, checked
from domain.complaints.codes import clean as clean_code, is_valid, spaced
from domain.complaints.filing import (
    EMAIL,
    NAME_MAX,
    Attachment,
    Draft,
    file_complaint,
    governorate_name,
    governorates,
    normal_email,
    plain,
    problems,
)
from domain.complaints.workflow import NotAllowed
from domain.languages import BABEL_LOCALES, LANGUAGES, language_or_default
from domain.letters.lookup import ascii_digits
from domain.letters.throttle import web_caller_key
from domain.one_time_codes import Check, CodeRefused, check_code, keyed, send_code
from domain.phones import normalize_phone
from extensions import csrf, db
from models import (
    CodePurpose,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintEventKind,
    ComplaintKind,
    ComplaintStatus,
    Entity,
    PendingAttachment,
    PendingComplaint,
    TrackRequest,
    Verification,
)
from models.complaint_pending import PENDING_HOURS

bp = Blueprint("complaints", __name__, url_prefix="/complaints", template_folder="templates")

TRACK_MINUTES = 30  # how long a checked tracking code shows the complaint
FORM_OVERHEAD = 256 * 1024  # the text fields and the multipart framing around the files
FIELD_MAX = 400  # any one short field, as typed (the description has its own limit)
SESSION_PENDING = "complaint_pending"
SESSION_TRACK = "complaint_track"
SESSION_TRACKED = "complaint_tracked"
TEXT_FIELDS = ("kind", "category_id", "entity_id", "governorate", "name", "phone", "email", "national_id")
CHECKS = ("declared_adult", "declared_citizen", "hide_identity")


@lru_cache(maxsize=None)
def texts_of(language: str) -> dict:
    with open(Path(__file__).with_name("complaints.toml"), "rb") as handle:
        return tomllib.load(handle)[language]


def chosen_language() -> str:
    return language_or_default(request.values.get("lang"))


def requester() -> str:
    """The keyed hash limits count a web client by: its address, an IPv6 one by its network
    (the letters' inquiry page counts the same way)."""
    return keyed(web_caller_key(request.remote_addr, current_app.config["INQUIRY_IPV6_PREFIX"]))


def answer(template: str, lang: str, status: int = 200, **context):
    response = make_response(
        render_template(template, lang=lang, t=texts_of(lang), languages=LANGUAGES, **context), status
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def local_time(moment: datetime | None, lang: str) -> str:
    if moment is None:
        return ""
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    return format_datetime(moment, "d MMMM y, HH:mm", tzinfo=tz, locale=BABEL_LOCALES[lang])


# --- the complaint being written -----------------------------------------------------


def current_pending() -> PendingComplaint | None:
    token = session.get(SESSION_PENDING)
    if not isinstance(token, str):
        return None
    pending = db.session.scalar(select(PendingComplaint).where(PendingComplaint.token == token))
    if pending is None or pending.updated_at < utcnow() - timedelta(hours=PENDING_HOURS):
        return None
    return pending


def new_pending() -> PendingComplaint:
    """A fresh row (and the stale ones of everybody forgotten)."""
    db.session.execute(
        delete(PendingComplaint).where(PendingComplaint.updated_at < utcnow() - timedelta(hours=PENDING_HOURS))
    )
    pending = PendingComplaint(token=secrets.token_urlsafe(32), fields="{}")
    db.session.add(pending)
    db.session.flush()
    session[SESSION_PENDING] = pending.token
    return pending


def fields_of(pending: PendingComplaint | None) -> dict:
    if pending is None:
        return {}
    try:
        loaded = json.loads(pending.fields or "{}")
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def typed_fields(form) -> dict:
    """The form's fields as typed (bounded), for the row and for the page to show again."""
    limit = current_app.config["COMPLAINT_DESCRIPTION_MAX"]
    fields: dict = {name: (form.get(name) or "")[:FIELD_MAX] for name in TEXT_FIELDS}
    fields["description"] = (form.get("description") or "")[: limit + 100]
    fields["contact_by"] = "email" if form.get("contact_by") == "email" else "sms"
    fields["entity_filter"] = (form.get("entity_filter") or "")[:100]
    for name in CHECKS:
        fields[name] = form.get(name) in {"1", "on", "yes", "true"}
    return fields


def small_int(text) -> int | None:
    digits = ascii_digits(str(text or "")).strip()
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 9 else None


def draft_of(fields: dict, lang: str, pending: PendingComplaint | None) -> Draft:
    limit = current_app.config["COMPLAINT_DESCRIPTION_MAX"]
    return Draft(
        kind=str(fields.get("kind") or ""),
        category_id=small_int(fields.get("category_id")),
        entity_id=small_int(fields.get("entity_id")),
        governorate=str(fields.get("governorate") or ""),
        description=plain(fields.get("description"), limit),
        name=plain(fields.get("name"), NAME_MAX),
        phone=ascii_digits(plain(fields.get("phone"), 40)),
        email=normal_email(fields.get("email")),
        national_id=ascii_digits(plain(fields.get("national_id"), 40)).replace(" ", ""),
        declared_adult=bool(fields.get("declared_adult")),
        declared_citizen=bool(fields.get("declared_citizen")),
        hide_identity=bool(fields.get("hide_identity")),
        language=lang,
        attachments=[attachment_of(row) for row in pending.files] if pending else [],
    )


def attachment_of(row: PendingAttachment) -> Attachment:
    return Attachment(filename=row.filename, content_type=row.content_type, data=row.data, sha256=row.sha256)


def uploaded_files() -> list[tuple[str, bytes]]:
    """The files sent with this request (none chosen: none), each read to one byte over the limit."""
    most = current_app.config["COMPLAINT_ATTACHMENT_MAX_BYTES"]
    files = []
    for upload in request.files.getlist("files"):
        data = upload.stream.read(most + 1)
        if upload.filename or data:
            files.append((upload.filename or "", data))
    return files


def take_files(pending: PendingComplaint, files: list[tuple[str, bytes]]) -> list[dict]:
    """Keep the files that pass; say why each other one did not (its name, type, size, count)."""
    config = current_app.config
    refused = []
    for filename, data in files:
        try:
            if len(pending.files) >= config["COMPLAINT_ATTACHMENTS_MAX"]:
                raise FileRefused(Refusal.too_many, filename)
            attachment = checked(filename, data, config["COMPLAINT_ATTACHMENT_MAX_BYTES"])
        except FileRefused as refusal:
            from domain.complaints.attachments import display_name

            refused.append({"name": display_name(filename), "reason": refusal.reason.value})
            continue
        pending.files.append(
            PendingAttachment(
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=len(attachment.data),
                sha256=attachment.sha256,
                data=attachment.data,
            )
        )
    return refused


def entity_choices(lang: str, query: str, selected: int | None) -> list[tuple[int, str]]:
    """Every entity by name in the language, those matching the search first-class; the chosen one kept."""
    entities = db.session.scalars(select(Entity)).all()
    needle = plain(query, 100).casefold()
    chosen = [
        entity
        for entity in entities
        if not needle
        or entity.id == selected
        or any(needle in (name or "").casefold() for name in (entity.name_ar, entity.name_ckb, entity.name_en))
    ]
    return sorted(((entity.id, entity.name(lang)) for entity in chosen), key=lambda pair: pair[1])


def category_choices(lang: str) -> dict[str, list[tuple[int, str]]]:
    categories = db.session.scalars(select(ComplaintCategory).where(ComplaintCategory.active.is_(True))).all()
    return {
        kind.value: sorted(
            ((category.id, category.name(lang)) for category in categories if category.kind is kind),
            key=lambda pair: pair[1],
        )
        for kind in ComplaintKind
    }


def form_page(lang: str, pending: PendingComplaint | None, status: int = 200, **context):
    fields = fields_of(pending)
    return answer(
        "inquiry/complaint_form.html",
        lang,
        status,
        f=fields,
        files=list(pending.files) if pending else [],
        entities=entity_choices(lang, fields.get("entity_filter", ""), small_int(fields.get("entity_id"))),
        categories=category_choices(lang),
        governorates=[(code, governorate_name(code, lang)) for code in governorates()],
        most_files=current_app.config["COMPLAINT_ATTACHMENTS_MAX"],
        most_mb=max(1, current_app.config["COMPLAINT_ATTACHMENT_MAX_BYTES"] // (1024 * 1024)),
        description_max=current_app.config["COMPLAINT_DESCRIPTION_MAX"],
        problems=context.pop("problems", {}),
        refused=context.pop("refused", []),
        **context,
    )


@bp.get("")
def form():
    lang = chosen_language()
    pending = current_pending()
    if pending is not None and pending.complaint_id is not None:
        session.pop(SESSION_PENDING, None)  # that one is filed: a new complaint starts empty
        pending = None
    return form_page(lang, pending)


def body_limit() -> int:
    config = current_app.config
    return config["COMPLAINT_ATTACHMENTS_MAX"] * config["COMPLAINT_ATTACHMENT_MAX_BYTES"] + FORM_OVERHEAD


@bp.post("")
@csrf.exempt  # checked below, once this route's own body limit is set
def submit():
    lang = language_or_default(request.args.get("lang"))  # the body is not read before its limit is set
    try:
        if (request.content_length or 0) > body_limit():
            raise RequestEntityTooLarge()
        request.max_content_length = body_limit()
        form_data = request.form
        files = uploaded_files()
    except RequestEntityTooLarge:
        return form_page(lang, current_pending(), 413, refused=[{"name": "", "reason": "too_large"}])
    try:
        validate_csrf(form_data.get("csrf_token"))
    except Exception as exc:  # noqa: BLE001  flask_wtf's ValidationError, the message says why
        raise CSRFError(str(exc)) from None
    lang = language_or_default(form_data.get("lang"))
    pending = current_pending()
    if pending is None or pending.complaint_id is not None:
        pending = new_pending()
    fields = typed_fields(form_data)
    pending.fields = json.dumps(fields, ensure_ascii=False)
    removed = {small_int(value) for value in form_data.getlist("remove")}
    for row in [row for row in pending.files if row.id in removed]:
        pending.files.remove(row)
    refused = take_files(pending, files)
    pending.updated_at = utcnow()
    db.session.commit()
    if form_data.get("action") == "filter":
        return form_page(lang, pending, focus="entity_id")
    draft = draft_of(fields, lang, pending)
    found = problems(draft)
    if found or refused:
        return form_page(lang, pending, 400, problems=found, refused=refused)
    return send_complaint_code(lang, pending, draft, fields)


def contact_of(draft: Draft, choice: str) -> tuple[str, str]:
    """Where the code goes: the mobile, unless only an e-mail was given or the citizen chose it."""
    phone = normalize_phone(draft.phone) if draft.phone else None
    if phone and not (choice == "email" and draft.email):
        return "sms", phone
    return "email", draft.email


def send_complaint_code(lang: str, pending: PendingComplaint, draft: Draft, fields: dict):
    channel, destination = contact_of(draft, str(fields.get("contact_by")))
    try:
        send_code(
            purpose=CodePurpose.complaint,
            channel=channel,
            destination=destination,
            subject=pending.token,
            requester=requester(),
            language=lang,
        )
    except CodeRefused as refused:
        db.session.commit()
        status = 400 if refused.reason.value == "undeliverable" else 429
        return form_page(lang, pending, status, refusal=refused.reason.value)
    pending.channel, pending.destination = channel, destination
    db.session.commit()
    notices.dispatch()
    return redirect(url_for("complaints.verify", lang=lang), 303)


def masked(destination: str | None) -> str:
    """Enough of the contact to recognise it, not enough to learn it from a shared screen."""
    if not destination:
        return ""
    if "@" in destination:
        local, _, domain = destination.partition("@")
        return f"{local[:2]}…@{domain}"
    return f"{destination[:4]}…{destination[-4:]}"


def verify_page(lang: str, pending: PendingComplaint, status: int = 200, **context):
    return answer(
        "inquiry/complaint_verify.html",
        lang,
        status,
        channel=pending.channel,
        destination=masked(pending.destination),
        minutes=current_app.config["OTP_TTL_MINUTES"],
        **context,
    )


@bp.get("/verify")
def verify():
    lang = chosen_language()
    pending = current_pending()
    if pending is None or not pending.destination:
        return redirect(url_for("complaints.form", lang=lang))
    if pending.complaint_id is not None:
        return redirect(url_for("complaints.done", lang=lang))
    return verify_page(lang, pending)


@bp.post("/verify")
def check():
    lang = chosen_language()
    pending = current_pending()
    if pending is None or not pending.destination or not pending.channel:
        return redirect(url_for("complaints.form", lang=lang), 303)
    if pending.complaint_id is not None:
        return redirect(url_for("complaints.done", lang=lang), 303)
    if request.form.get("action") == "resend":
        try:
            send_code(
                purpose=CodePurpose.complaint,
                channel=pending.channel,
                destination=pending.destination,
                subject=pending.token,
                requester=requester(),
                language=lang,
            )
        except CodeRefused as refused:
            db.session.commit()
            return verify_page(lang, pending, 429, message=f"refused.{refused.reason.value}")
        db.session.commit()
        notices.dispatch()
        return verify_page(lang, pending, message="resent")
    pending_id, token, channel, destination = pending.id, pending.token, pending.channel, pending.destination
    result = check_code(
        purpose=CodePurpose.complaint,
        destination=destination,
        subject=token,
        code=ascii_digits(request.form.get("code", "")[:40]),
    )
    pending = db.session.get(PendingComplaint, pending_id)
    if pending is None:
        return redirect(url_for("complaints.form", lang=lang), 303)
    if result is not Check.ok:
        if pending.complaint_id is not None:  # the same code, submitted twice: the first filed it
            return redirect(url_for("complaints.done", lang=lang), 303)
        return verify_page(lang, pending, 400, message=f"check.{result.value}")
    draft = draft_of(fields_of(pending), lang, pending)
    try:
        complaint = file_complaint(draft, channel=ComplaintChannel.web, verification=Verification(channel))
    except ValueError:
        db.session.rollback()
        pending = db.session.get(PendingComplaint, pending_id)
        return form_page(lang, pending, 400, problems=problems(draft_of(fields_of(pending), lang, pending)))
    pending = db.session.get(PendingComplaint, pending_id)
    if pending is not None:
        pending.complaint_id = complaint.id
        pending.fields = "{}"  # filed: the copy here is no longer needed
        pending.files.clear()
        db.session.commit()
    return redirect(url_for("complaints.done", lang=lang), 303)


@bp.get("/done")
def done():
    lang = chosen_language()
    pending = current_pending()
    complaint = db.session.get(Complaint, pending.complaint_id) if pending and pending.complaint_id else None
    if complaint is None:
        return redirect(url_for("complaints.form", lang=lang))
    return answer(
        "inquiry/complaint_done.html",
        lang,
        code=spaced(complaint.code),
        channel=complaint.verification.value,
        entity=complaint.entity.name(lang),
    )


# --- following a complaint -----------------------------------------------------------


def contact_typed(text: str) -> tuple[str, str] | None:
    """("email", address) or ("sms", E.164) for what was typed; None when it is neither."""
    text = ascii_digits(plain(text, 254))
    if "@" in text:
        address = normal_email(text)
        return ("email", address) if EMAIL.fullmatch(address) else None
    phone = normalize_phone(text) if text else None
    return ("sms", phone) if phone else None


def track_page(lang: str, status: int = 200, **context):
    return answer("inquiry/complaint_track.html", lang, status, **context)


@bp.get("/track")
def track():
    return track_page(chosen_language(), entered={"code": request.args.get("code", "")[:20]})


def too_many_track_requests(who: str, destination_key: str) -> bool:
    config = current_app.config
    since = utcnow() - timedelta(hours=1)

    def count(condition) -> int:
        return db.session.scalar(select(func.count()).where(condition, TrackRequest.created_at >= since)) or 0

    return (
        count(TrackRequest.requester == who) >= config["OTP_MAX_PER_REQUESTER_HOUR"]
        or count(TrackRequest.destination == destination_key) >= config["OTP_MAX_PER_DESTINATION_HOUR"]
    )


@bp.post("/track")
def track_send():
    lang = chosen_language()
    entered = {"code": request.form.get("code", "")[:40], "contact": request.form.get("contact", "")[:254]}
    code = clean_code(ascii_digits(entered["code"]))
    if not is_valid(code):
        return track_page(lang, 400, entered=entered, message="not_a_code")
    contact = contact_typed(entered["contact"])
    if contact is None:
        return track_page(lang, 400, entered=entered, message="bad_contact")
    channel, destination = contact
    who, destination_key = requester(), keyed(f"track:{destination}")
    if too_many_track_requests(who, destination_key):
        return track_page(lang, 429, entered=entered, message="refused.requester")
    db.session.add(TrackRequest(requester=who, destination=destination_key))
    column = Complaint.email if channel == "email" else Complaint.phone
    complaint = db.session.scalar(
        select(Complaint).where(Complaint.code == code, column == destination, Complaint.purged_at.is_(None))
    )
    if complaint is not None:
        try:
            send_code(
                purpose=CodePurpose.track,
                channel=channel,
                destination=destination,
                subject=code,
                requester=who,
                language=lang,
                complaint_id=complaint.id,
            )
        except CodeRefused:
            pass  # answered as a miss is: the page must not tell a match from a miss
    db.session.commit()
    notices.dispatch()
    session[SESSION_TRACK] = {"code": code, "channel": channel, "to": destination}
    session.pop(SESSION_TRACKED, None)
    return redirect(url_for("complaints.track_code", lang=lang), 303)


def track_request() -> dict | None:
    asked = session.get(SESSION_TRACK)
    if not isinstance(asked, dict) or not all(isinstance(asked.get(k), str) for k in ("code", "channel", "to")):
        return None
    return asked


def track_code_page(lang: str, asked: dict, status: int = 200, **context):
    return answer(
        "inquiry/complaint_track_code.html",
        lang,
        status,
        code=spaced(asked["code"]),
        channel=asked["channel"],
        destination=masked(asked["to"]),
        minutes=current_app.config["OTP_TTL_MINUTES"],
        **context,
    )


@bp.get("/track/code")
def track_code():
    lang = chosen_language()
    asked = track_request()
    if asked is None:
        return redirect(url_for("complaints.track", lang=lang))
    return track_code_page(lang, asked)


@bp.post("/track/code")
def track_check():
    lang = chosen_language()
    asked = track_request()
    if asked is None:
        return redirect(url_for("complaints.track", lang=lang), 303)
    result = check_code(
        purpose=CodePurpose.track,
        destination=asked["to"],
        subject=asked["code"],
        code=ascii_digits(request.form.get("otp", "")[:40]),
    )
    if result is not Check.ok:
        # One message for a wrong, used-up or never-sent code: a miss looks like a typo.
        return track_code_page(lang, asked, 400, message="track_code_wrong")
    column = Complaint.email if asked["channel"] == "email" else Complaint.phone
    complaint_id = db.session.scalar(select(Complaint.id).where(Complaint.code == asked["code"], column == asked["to"]))
    if complaint_id is None:
        return track_code_page(lang, asked, 400, message="track_code_wrong")
    until = utcnow() + timedelta(minutes=TRACK_MINUTES)
    session[SESSION_TRACKED] = {"id": complaint_id, "until": until.timestamp()}
    session.pop(SESSION_TRACK, None)
    return redirect(url_for("complaints.follow", lang=lang), 303)


def tracked() -> Complaint | None:
    held = session.get(SESSION_TRACKED)
    if not isinstance(held, dict) or not isinstance(held.get("id"), int):
        return None
    until = held.get("until")
    if not isinstance(until, int | float) or until < utcnow().timestamp():
        session.pop(SESSION_TRACKED, None)
        return None
    complaint = db.session.get(Complaint, held["id"])
    return complaint if complaint is not None and complaint.purged_at is None else None


PUBLIC_KINDS = {
    ComplaintEventKind.submitted,
    ComplaintEventKind.routed,
    ComplaintEventKind.status,
    ComplaintEventKind.response,
    ComplaintEventKind.info_request,
    ComplaintEventKind.citizen_reply,
    ComplaintEventKind.appeal,
}


def history(complaint: Complaint, lang: str) -> list[dict]:
    texts = texts_of(lang)
    rows = []
    for event in complaint.events:
        if not event.public or event.kind not in PUBLIC_KINDS:
            continue
        if event.kind is ComplaintEventKind.status and event.to_status is not None:
            what = texts["event.status"].format(status=notices.status_words(event.to_status, lang))
        elif event.kind is ComplaintEventKind.routed and event.to_entity is not None:
            what = texts["event.routed"].format(entity=event.to_entity.name(lang))
        else:
            what = texts[f"event.{event.kind.value}"]
        rows.append({"when": local_time(event.created_at, lang), "what": what, "body": event.body or ""})
    return rows


def follow_page(lang: str, complaint: Complaint, status: int = 200, **context):
    return answer(
        "inquiry/complaint_follow.html",
        lang,
        status,
        code=spaced(complaint.code),
        status_words=notices.status_words(complaint.status, lang),
        entity=complaint.entity.name(lang),
        category=complaint.category.name(lang),
        filed=local_time(complaint.created_at, lang),
        changed=local_time(complaint.status_at, lang),
        reason=complaint.reason if complaint.status is ComplaintStatus.rejected else "",
        events=history(complaint, lang),
        may_reply=complaint.status is ComplaintStatus.awaiting_citizen,
        may_appeal=handling.may_appeal(complaint),
        most_files=current_app.config["COMPLAINT_ATTACHMENTS_MAX"],
        most_mb=max(1, current_app.config["COMPLAINT_ATTACHMENT_MAX_BYTES"] // (1024 * 1024)),
        entered=context.pop("entered", {}),
        refused=context.pop("refused", []),
        **context,
    )


@bp.get("/track/view")
def follow():
    lang = chosen_language()
    complaint = tracked()
    if complaint is None:
        return redirect(url_for("complaints.track", lang=lang))
    return follow_page(lang, complaint)


@bp.post("/track/reply")
@csrf.exempt  # checked below, once this route's own body limit is set
def reply():
    lang = language_or_default(request.args.get("lang"))  # the body is not read before its limit is set
    complaint = tracked()
    if complaint is None:
        return redirect(url_for("complaints.track", lang=lang), 303)
    try:
        if (request.content_length or 0) > body_limit():
            raise RequestEntityTooLarge()
        request.max_content_length = body_limit()
        form_data = request.form
        files = uploaded_files()
    except RequestEntityTooLarge:
        return follow_page(lang, complaint, 413, refused=[{"name": "", "reason": "too_large"}])
    try:
        validate_csrf(form_data.get("csrf_token"))
    except Exception as exc:  # noqa: BLE001  flask_wtf's ValidationError, the message says why
        raise CSRFError(str(exc)) from None
    lang = language_or_default(form_data.get("lang"))
    body = (form_data.get("body") or "")[: handling.BODY_MAX + 100]
    config = current_app.config
    attachments, refused = [], []
    for filename, data in files:
        try:
            if len(attachments) >= config["COMPLAINT_ATTACHMENTS_MAX"]:
                raise FileRefused(Refusal.too_many, filename)
            attachments.append(checked(filename, data, config["COMPLAINT_ATTACHMENT_MAX_BYTES"]))
        except FileRefused as refusal:
            from domain.complaints.attachments import display_name

            refused.append({"name": display_name(filename), "reason": refusal.reason.value})
    if refused:
        return follow_page(lang, complaint, 400, refused=refused, entered={"body": body})
    try:
        handling.citizen_reply(complaint.id, body, attachments)
    except NotAllowed:  # a ValueError too: first
        return follow_page(lang, tracked() or complaint, 409, message="reply.not_now")
    except ValueError as problem:
        return follow_page(lang, complaint, 400, entered={"body": body}, message=f"reply.{problem}")
    return redirect(url_for("complaints.follow", lang=lang, sent="reply"), 303)


@bp.post("/track/appeal")
def contest():
    lang = chosen_language()
    complaint = tracked()
    if complaint is None:
        return redirect(url_for("complaints.track", lang=lang), 303)
    reason = (request.form.get("reason") or "")[: handling.BODY_MAX + 100]
    try:
        handling.appeal(complaint.id, reason)
    except NotAllowed:  # a ValueError too: first
        return follow_page(lang, tracked() or complaint, 409, message="appeal.not_now")
    except ValueError as problem:
        return follow_page(lang, complaint, 400, entered={"reason": reason}, message=f"appeal.{problem}")
    return redirect(url_for("complaints.follow", lang=lang, sent="appeal"), 303)
