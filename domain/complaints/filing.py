"""Filing a complaint: what a complaint must hold, and the use case that files it.

The public form and the agent's call screen both fill a `Draft`, ask `problems()` what is
wrong with it (field -> a message key the page words in the user's language), and file it
with `file_complaint()` once the contact is verified (or, on a call, marked as taken by
phone). Filing routes the complaint to the entity at once and starts its SLA.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain.clock import utcnow
from domain.complaints import notices
from domain.complaints.codes import new_code
from domain.complaints.sla import WorkingTime, due_at
from domain.languages import known_language
from domain.phones import normalize_phone
from extensions import db
from models import (
    Complaint,
    ComplaintAttachment,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintKind,
    ComplaintStatus,
    Entity,
    Verification,
)

NAME_MAX = 200
NATIONAL_ID = re.compile(r"[0-9]{8,20}")
# A plausible address, not RFC 5322 in full: one @, a dot in the domain, no spaces or controls.
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
EMAIL_MAX = 254


@lru_cache(maxsize=1)
def governorates() -> dict[str, dict[str, str]]:
    with open(Path(__file__).with_name("governorates.toml"), "rb") as handle:
        return tomllib.load(handle)


def governorate_name(code: str, language: str) -> str:
    names = governorates().get(code)
    return (names.get(language) or names["ar"]) if names else code


@dataclass
class Attachment:
    """A checked file: its type found from its content, images already re-encoded."""

    filename: str
    content_type: str
    data: bytes
    sha256: str


@dataclass
class Draft:
    """What a complainant gave, as typed (cleaned by `clean()`)."""

    kind: str = ""
    category_id: int | None = None
    entity_id: int | None = None
    governorate: str = ""
    description: str = ""
    name: str = ""
    phone: str = ""
    email: str = ""
    national_id: str = ""
    declared_adult: bool = False
    declared_citizen: bool = False
    hide_identity: bool = False
    language: str = "ar"
    attachments: list[Attachment] = field(default_factory=list)


def plain(text: str | None, limit: int) -> str:
    """Trimmed, NFC, without control characters (a NUL or a bidi override never reaches a page)."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return text.strip()[: limit + 1]  # one over: too long is reported, not cut silently


def normal_email(text: str | None) -> str:
    return plain(text, EMAIL_MAX).lower()


def problems(draft: Draft, *, need_contact: bool = True) -> dict[str, str]:
    """Every field's problem (a message key), empty when the draft can be filed."""
    found: dict[str, str] = {}
    config = current_app.config
    if draft.kind not in {kind.value for kind in ComplaintKind}:
        found["kind"] = "choose"
    category = db.session.get(ComplaintCategory, draft.category_id) if draft.category_id else None
    if category is None or not category.active:
        found["category_id"] = "choose"
    elif draft.kind and category.kind.value != draft.kind:
        found["category_id"] = "other_kind"
    if not draft.entity_id or db.session.get(Entity, draft.entity_id) is None:
        found["entity_id"] = "choose"
    if draft.governorate not in governorates():
        found["governorate"] = "choose"
    if len(draft.description) < 20:
        found["description"] = "too_short"
    elif len(draft.description) > config["COMPLAINT_DESCRIPTION_MAX"]:
        found["description"] = "too_long"
    if not draft.name:
        found["name"] = "required"
    elif len(draft.name) > NAME_MAX:
        found["name"] = "too_long"
    if draft.phone and normalize_phone(draft.phone) is None:
        found["phone"] = "not_a_number"
    if draft.email and (len(draft.email) > EMAIL_MAX or not EMAIL.fullmatch(draft.email)):
        found["email"] = "not_an_email"
    if need_contact and not draft.phone and not draft.email:
        found["phone"] = "phone_or_email"
    if draft.national_id and not NATIONAL_ID.fullmatch(draft.national_id):
        found["national_id"] = "digits"
    if not draft.declared_adult:
        found["declared_adult"] = "required"
    if not draft.declared_citizen:
        found["declared_citizen"] = "required"
    if not known_language(draft.language):
        found["language"] = "choose"
    if len(draft.attachments) > config["COMPLAINT_ATTACHMENTS_MAX"]:
        found["attachments"] = "too_many"
    return found


def working_time() -> WorkingTime:
    return WorkingTime.from_config(current_app.config)


def file_complaint(
    draft: Draft,
    *,
    channel: ComplaintChannel,
    verification: Verification,
    call_id: int | None = None,
    taken_by_id: int | None = None,
) -> Complaint:
    """File a checked draft: a new code, routed to the entity, the SLA started, the citizen
    told (with the code). Commits; raises ValueError for a draft with problems."""
    found = problems(draft, need_contact=channel is ComplaintChannel.web)
    if found:
        raise ValueError(f"complaint draft has problems: {sorted(found)}")
    category = db.session.get(ComplaintCategory, draft.category_id)
    assert category is not None  # problems() checked it
    now = utcnow()
    complaint = Complaint(
        kind=ComplaintKind(draft.kind),
        category_id=category.id,
        entity_id=draft.entity_id,
        governorate=draft.governorate,
        description=draft.description,
        status=ComplaintStatus.routed,
        status_at=now,
        channel=channel,
        call_id=call_id,
        taken_by_id=taken_by_id,
        name=draft.name,
        phone=normalize_phone(draft.phone) if draft.phone else None,
        email=normal_email(draft.email) or None,
        national_id=draft.national_id or None,
        declared_adult=draft.declared_adult,
        declared_citizen=draft.declared_citizen,
        hide_identity=draft.hide_identity,
        language=draft.language,
        verification=verification,
        sla_due_at=due_at(now, category.sla_hours, working_time()),
        appeals=0,
        created_at=now,
    )
    _insert_with_new_code(complaint)
    submitted = ComplaintEvent(
        complaint_id=complaint.id, kind=ComplaintEventKind.submitted, to_status=ComplaintStatus.submitted, public=True
    )
    routed = ComplaintEvent(
        complaint_id=complaint.id,
        kind=ComplaintEventKind.routed,
        from_status=ComplaintStatus.submitted,
        to_status=ComplaintStatus.routed,
        to_entity_id=complaint.entity_id,
        public=True,
    )
    db.session.add_all([submitted, routed])
    for attachment in draft.attachments:
        db.session.add(
            ComplaintAttachment(
                complaint_id=complaint.id,
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=len(attachment.data),
                sha256=attachment.sha256,
                data=attachment.data,
                user_id=taken_by_id,
            )
        )
    db.session.flush()
    notices.notify(complaint, submitted)
    db.session.commit()
    notices.dispatch()
    return complaint


def _insert_with_new_code(complaint: Complaint) -> None:
    """A fresh random code; drawn again in the (one in a hundred million) case it is taken."""
    for _ in range(5):
        complaint.code = new_code()
        if db.session.scalar(select(Complaint.id).where(Complaint.code == complaint.code)) is not None:
            continue
        try:
            with db.session.begin_nested():
                db.session.add(complaint)
            return
        except IntegrityError:
            continue
    raise RuntimeError("no free complaint code after five draws")
