"""Demo complaints: the default categories and complaints of the last six weeks in every status a
complaint stays in (filing routes at once, so none stays `submitted`), with their histories.

Rows are written directly, as the domain would have left them, so that seeding sends no SMS:
the demo's complainants are made up. The entity officer's entity (OFFICER_ENTITY) gets a
share of every status, so that the officer's pages have something to show.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from demo.letters import ensure_entities
from domain.clock import utcnow
from domain.complaints.categories import ensure_categories
from domain.complaints.codes import new_code
from domain.complaints.filing import governorates, working_time
from domain.complaints.sla import due_at
from extensions import db
from models import (
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintKind,
    ComplaintStatus,
    Entity,
    Verification,
)

S = ComplaintStatus
E = ComplaintEventKind
OFFICER_ENTITY = "krg-health"
ENTITIES = (OFFICER_ENTITY, "krg-education", "krg-interior", "krg-electricity", "krg-municipalities", "fed-finance")
# Where each demo complaint ends up; the open ones are the most, as in life.
STATUSES = ([S.routed] * 4 + [S.in_progress] * 4 + [S.awaiting_citizen] * 2 + [S.resolved] * 4 + [S.rejected] * 2) + [
    S.appealed,
    S.closed,
    S.closed,
]
NAMES = (
    "هاوڕێ ئەحمەد",
    "سارا محمد",
    "Karwan Aziz",
    "نسرين علي",
    "ئاراس کەریم",
    "Layla Hassan",
    "دلشاد عمر",
    "زينب جاسم",
)
DESCRIPTIONS = {
    ComplaintKind.service: (
        "قدمت طلب تجديد الإجازة قبل شهرين ولم يُنجز حتى الآن رغم مراجعاتي المتكررة.",
        "داوای نوێکردنەوەی مۆڵەتم پێشکەش کرد و دوای شەش هەفتە هێشتا وەڵامێک نییە.",
        "The office asked me for a fee that is not on any official list before it would stamp my papers.",
        "الخدمة الإلكترونية لحجز المواعيد متوقفة منذ أسبوعين ولا يوجد بديل.",
    ),
    ComplaintKind.employee: (
        "الموظف في شباك الاستعلامات رفض استلام أوراقي وتكلم بطريقة غير لائقة.",
        "فەرمانبەرەکە لە کاتی دەوامدا ئامادە نەبوو و سێ جار گەڕامەوە.",
        "An employee said the file would move faster if I paid him privately.",
    ),
}
RESPONSE = "تم التواصل مع الدائرة المعنية وسيتم إنجاز الطلب خلال أيام."
REASON = "الموضوع من اختصاص جهة أخرى وقد أُبلغ المواطن بها."


def demo_complaint_count() -> int:
    return db.session.scalar(select(func.count(Complaint.id))) or 0


def seed_complaints(*, seed: int = 5599, now: datetime | None = None) -> int:
    """The default categories and the demo complaints; nothing when complaints exist already."""
    ensure_entities()
    ensure_categories()
    if demo_complaint_count():
        return 0
    rng = random.Random(seed)
    now = now or utcnow()
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    entities = {e.code: e for e in db.session.scalars(select(Entity).where(Entity.code.in_(ENTITIES)))}
    categories = list(db.session.scalars(select(ComplaintCategory).where(ComplaintCategory.active.is_(True))))
    governorate_codes = list(governorates())
    made = 0
    for round_number in range(3):
        for status in STATUSES:
            entity = entities.get(OFFICER_ENTITY if round_number == 0 else rng.choice(ENTITIES)) or next(
                iter(entities.values())
            )
            days_ago = rng.randint(1, 6) if status in {S.routed, S.in_progress} else rng.randint(5, 42)
            local_day = (now.astimezone(zone) - timedelta(days=days_ago)).date()
            created = datetime.combine(local_day, time(rng.randint(8, 14), rng.randint(0, 59)), zone).astimezone(
                timezone.utc
            )
            _complaint(rng, status, entity, rng.choice(categories), rng.choice(governorate_codes), created, now)
            made += 1
    db.session.commit()
    return made


def _complaint(rng, status, entity, category, governorate, created, now) -> Complaint:
    working = working_time()
    channel = rng.choice([ComplaintChannel.web, ComplaintChannel.phone])
    complaint = Complaint(
        code=new_code(),
        kind=category.kind,
        category_id=category.id,
        entity_id=entity.id,
        governorate=governorate,
        description=rng.choice(DESCRIPTIONS[category.kind]),
        status=S.routed,
        status_at=created,
        channel=channel,
        name=rng.choice(NAMES),
        phone=f"+964750555{rng.randint(0, 9999):04d}",
        email=None,
        national_id=None,
        declared_adult=True,
        declared_citizen=True,
        hide_identity=rng.random() < 0.2,
        language=rng.choice(["ar", "ar", "ckb", "en"]),
        verification=Verification.sms if channel is ComplaintChannel.web else Verification.phone_unverified,
        sla_due_at=due_at(created, category.sla_hours, working),
        appeals=0,
        created_at=created,
    )
    db.session.add(complaint)
    db.session.flush()
    events = [
        ComplaintEvent(kind=E.submitted, to_status=S.submitted, public=True, created_at=created),
        ComplaintEvent(
            kind=E.routed,
            from_status=S.submitted,
            to_status=S.routed,
            to_entity_id=entity.id,
            public=True,
            created_at=created,
        ),
    ]
    moment = created
    if status is not S.routed:
        moment = _later(rng, moment, now)
        complaint.first_response_at = moment
        events.append(_status(S.routed, S.in_progress, moment))
        events.append(ComplaintEvent(kind=E.response, body=RESPONSE, public=True, created_at=moment))
        complaint.status, complaint.status_at = S.in_progress, moment
    if status is S.awaiting_citizen:
        moment = _later(rng, moment, now)
        complaint.sla_paused_minutes = max(0, working.minutes_between(moment, complaint.sla_due_at))
        complaint.sla_due_at = None
        events.append(
            ComplaintEvent(
                kind=E.info_request,
                from_status=S.in_progress,
                to_status=S.awaiting_citizen,
                body="يرجى إرفاق صورة من الإيصال.",
                public=True,
                created_at=moment,
            )
        )
        complaint.status, complaint.status_at = S.awaiting_citizen, moment
    if status in {S.resolved, S.rejected, S.appealed, S.closed}:
        finished = S.rejected if status is S.rejected else S.resolved
        moment = _later(rng, moment, now)
        complaint.sla_met = complaint.sla_due_at is not None and moment <= complaint.sla_due_at
        body = REASON if finished is S.rejected else RESPONSE
        complaint.reason = REASON if finished is S.rejected else None
        events.append(
            ComplaintEvent(
                kind=E.status, from_status=S.in_progress, to_status=finished, body=body, public=True, created_at=moment
            )
        )
        complaint.status, complaint.status_at, complaint.resolved_at, complaint.sla_due_at = (
            finished,
            moment,
            moment,
            None,
        )
    if status is S.appealed:
        moment = _later(rng, moment, now)
        complaint.appeals = 1
        complaint.sla_due_at = due_at(moment, category.sla_hours, working)
        events.append(
            ComplaintEvent(
                kind=E.appeal,
                from_status=S.resolved,
                to_status=S.appealed,
                body="لم تُحل المشكلة فعلياً.",
                public=True,
                created_at=moment,
            )
        )
        complaint.status, complaint.status_at = S.appealed, moment
    if status is S.closed:
        moment = min(now, moment + timedelta(days=current_app.config["COMPLAINT_APPEAL_DAYS"]))
        events.append(_status(complaint.status, S.closed, moment))
        complaint.status, complaint.status_at, complaint.closed_at = S.closed, moment, moment
    if complaint.sla_due_at is not None and complaint.sla_due_at < now and complaint.status is not S.awaiting_citizen:
        complaint.escalated_at = complaint.sla_due_at
        events.append(ComplaintEvent(kind=E.escalated, created_at=complaint.sla_due_at))
    for event in events:
        event.complaint_id = complaint.id
    db.session.add_all(events)
    return complaint


def _status(before: ComplaintStatus, after: ComplaintStatus, moment: datetime) -> ComplaintEvent:
    return ComplaintEvent(kind=E.status, from_status=before, to_status=after, public=False, created_at=moment)


def _later(rng, moment: datetime, now: datetime) -> datetime:
    """A few working hours to a few days later, never after now."""
    return min(now - timedelta(minutes=1), moment + timedelta(hours=rng.choice([2, 5, 20, 26, 50, 75])))
