"""Complaints' test records: entities, categories, a valid draft, a filed complaint."""

from __future__ import annotations

from domain.complaints.filing import Draft, file_complaint
from extensions import db
from models import ComplaintCategory, ComplaintChannel, ComplaintKind, Entity, Verification


def add_entity(code: str = "krg-health", ar: str = "وزارة الصحة في إقليم كوردستان", en: str = "KRG Ministry of Health"):
    entity = db.session.query(Entity).filter_by(code=code).one_or_none()
    if entity is None:
        entity = Entity(code=code, name_ar=ar, name_ckb="وەزارەتی تەندروستی", name_en=en)
        db.session.add(entity)
        db.session.flush()
    return entity


def add_category(code: str = "service-delay", kind: ComplaintKind = ComplaintKind.service, sla_hours: int = 35):
    category = db.session.query(ComplaintCategory).filter_by(code=code).one_or_none()
    if category is None:
        category = ComplaintCategory(
            code=code,
            kind=kind,
            name_ar="تأخر في الخدمة",
            name_ckb="دواکەوتن لە خزمەتگوزاری",
            name_en="Delay in a service",
            sla_hours=sla_hours,
            active=True,
        )
        db.session.add(category)
        db.session.flush()
    return category


def draft(**overrides) -> Draft:
    """A draft with nothing wrong (entity and category made when missing)."""
    values = dict(
        kind="service",
        category_id=add_category().id,
        entity_id=add_entity().id,
        governorate="erbil",
        description="The clinic refused my referral papers three times without a reason.",
        name="Hawre Ahmed",
        phone="0750 123 4567",
        email="",
        national_id="",
        declared_adult=True,
        declared_citizen=True,
        hide_identity=False,
        language="en",
    )
    values.update(overrides)
    return Draft(**values)


def add_complaint(**overrides):
    channel = overrides.pop("channel", ComplaintChannel.web)
    verification = overrides.pop("verification", Verification.sms)
    return file_complaint(draft(**overrides), channel=channel, verification=verification)
