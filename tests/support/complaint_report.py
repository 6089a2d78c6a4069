"""Complaints filed at known times, for the supervisors' report (domain and page tests)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from extensions import db
from models import ComplaintChannel, ComplaintStatus
from tests.support.complaints import add_category, add_complaint, add_entity

S = ComplaintStatus
# 10 March 2025, 09:00 in Baghdad (UTC+3).
MORNING = datetime(2025, 3, 10, 6, 0, tzinfo=timezone.utc)
NOW = datetime(2025, 3, 20, 9, 0, tzinfo=timezone.utc)


def filed(at: datetime, **fields):
    complaint = add_complaint(**{k: fields.pop(k) for k in ("entity_id", "category_id", "governorate") if k in fields})
    complaint.created_at = at
    for name, value in fields.items():
        setattr(complaint, name, value)
    db.session.commit()
    return complaint


def some_complaints():
    """Seven complaints: six filed on 10-11 March 2025 (Baghdad), one just after midnight on the 12th.

    health (erbil, web), 10 March: resolved in 4 h (first response at 2 h, within the SLA),
        appealed once; rejected in 30 h (first response at 10 h, late); open, due on 15
        March: overdue on NOW.
    education (duhok, phone), 11 March: in progress (first response at 1 h, due after NOW);
        open, due on 12 March: overdue; awaiting the citizen (clock paused): not overdue.
    education, 12 March 00:30 Baghdad (11 March 21:30 UTC): open, not overdue.
    """
    health = add_entity()
    education = add_entity("krg-education", "وزارة التربية", "KRG Ministry of Education")
    delay = add_category()
    conduct = add_category("employee-conduct", sla_hours=14)
    h = timedelta(hours=1)
    filed(
        MORNING,
        entity_id=health.id,
        category_id=delay.id,
        status=S.resolved,
        first_response_at=MORNING + 2 * h,
        resolved_at=MORNING + 4 * h,
        sla_met=True,
        appeals=1,
        sla_due_at=None,
    )
    filed(
        MORNING + 3 * h,
        entity_id=health.id,
        category_id=conduct.id,
        status=S.rejected,
        first_response_at=MORNING + 13 * h,
        resolved_at=MORNING + 33 * h,
        sla_met=False,
        sla_due_at=None,
    )
    filed(
        MORNING + 5 * h,
        entity_id=health.id,
        category_id=delay.id,
        sla_due_at=datetime(2025, 3, 15, tzinfo=timezone.utc),
    )
    education_fields = dict(
        entity_id=education.id, category_id=conduct.id, governorate="duhok", channel=ComplaintChannel.phone
    )
    eleventh = MORNING + 24 * h
    filed(eleventh, status=S.in_progress, first_response_at=eleventh + h, sla_due_at=NOW + 100 * h, **education_fields)
    filed(eleventh + h, sla_due_at=datetime(2025, 3, 12, tzinfo=timezone.utc), **education_fields)
    filed(eleventh + 2 * h, status=S.awaiting_citizen, sla_due_at=None, sla_paused_minutes=90, **education_fields)
    filed(datetime(2025, 3, 11, 21, 30, tzinfo=timezone.utc), sla_due_at=NOW + 100 * h, **education_fields)
    return health, education, delay, conduct
