"""What time does to complaints: the SLA passes (escalated), the appeal days end (closed), the
retention ends (personal data purged). The housekeeping jobs (jobs/housekeeping.py) run these.

Each works from what the database says now and changes one complaint per transaction with a
conditional UPDATE or under the row's lock, so a replayed job, or the same job on two
nodes at once, changes each complaint once and writes one event for it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from domain.clock import utcnow
from domain.complaints.handling import close_uncontested, locked
from domain.complaints.workflow import CLOCK_RUNS, FINISHED
from domain.db.once import rows_changed
from extensions import db
from models import Complaint, ComplaintAttachment, ComplaintEvent, ComplaintEventKind, ComplaintStatus

log = logging.getLogger(__name__)
BATCH = 500  # complaints per run: a backlog drains over several runs, none of them long
PURGED = "—"  # what a purged complaint's name and description read
LIVE_EVENT = "complaints"  # the consoles' live stream event type


def escalated_open() -> int:
    """Complaints escalated and still with the entity, their clock running: what supervisors are shown."""
    query = select(func.count()).where(Complaint.escalated_at.is_not(None), Complaint.status.in_(CLOCK_RUNS))
    return db.session.scalar(query) or 0


def escalate_overdue(now: datetime | None = None) -> list[int]:
    """Open complaints past their due time, not escalated yet: escalated, one event each.

    Supervisors are told by a live event to the consoles and a log line; neither carries
    anything about the complainant (ids and counts only).
    """
    now = now or utcnow()
    due = db.session.scalars(
        select(Complaint.id)
        .where(Complaint.status.in_(CLOCK_RUNS), Complaint.sla_due_at < now, Complaint.escalated_at.is_(None))
        .order_by(Complaint.sla_due_at)
        .limit(BATCH)
    ).all()
    escalated = []
    for complaint_id in due:
        changed = db.session.execute(
            update(Complaint)
            .where(
                Complaint.id == complaint_id,
                Complaint.escalated_at.is_(None),
                Complaint.status.in_(CLOCK_RUNS),
                Complaint.sla_due_at < now,
            )
            .values(escalated_at=now)
            .execution_options(synchronize_session=False)
        )
        if not rows_changed(changed):  # escalated elsewhere, or moved on, meanwhile
            db.session.rollback()
            continue
        db.session.add(ComplaintEvent(complaint_id=complaint_id, kind=ComplaintEventKind.escalated, public=False))
        db.session.commit()
        escalated.append(complaint_id)
    if escalated:
        log.warning("complaints escalated past their SLA: %s (ids %s)", len(escalated), escalated[:50])
        from domain.live import publish

        publish(LIVE_EVENT, {"escalated": escalated})
    return escalated


def close_after_appeal_days(now: datetime | None = None) -> list[int]:
    """Resolved or rejected complaints whose appeal days ended: closed, the citizen told."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["COMPLAINT_APPEAL_DAYS"])
    due = db.session.scalars(
        select(Complaint.id)
        .where(Complaint.status.in_(FINISHED), Complaint.resolved_at < cutoff)
        .order_by(Complaint.resolved_at)
        .limit(BATCH)
    ).all()
    db.session.rollback()
    return [complaint_id for complaint_id in due if close_uncontested(complaint_id, now) is not None]


def purge_personal_data(now: datetime | None = None) -> int:
    """Closed complaints past COMPLAINT_RETENTION_DAYS lose their personal data.

    The complainant's name, phone, e-mail and national id, the description, the rejection
    reason, every event's text and the attachments go; the row, its category, entity,
    governorate, channel, dates and status history stay, so the reports still count it.
    0 or less days: kept for ever.
    """
    days = current_app.config["COMPLAINT_RETENTION_DAYS"]
    if days <= 0:
        return 0
    now = now or utcnow()
    due = db.session.scalars(
        select(Complaint.id)
        .where(
            Complaint.status == ComplaintStatus.closed,
            Complaint.closed_at < now - timedelta(days=days),
            Complaint.purged_at.is_(None),
        )
        .order_by(Complaint.closed_at)
        .limit(BATCH)
    ).all()
    db.session.rollback()
    purged = 0
    for complaint_id in due:
        complaint = locked(complaint_id)
        if complaint.purged_at is not None:  # purged on another node meanwhile
            db.session.rollback()
            continue
        complaint.name = PURGED
        complaint.description = PURGED
        complaint.phone = complaint.email = complaint.national_id = complaint.reason = None
        complaint.purged_at = now
        db.session.execute(
            delete(ComplaintAttachment)
            .where(ComplaintAttachment.complaint_id == complaint_id)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == complaint_id)
            .values(body="")
            .execution_options(synchronize_session=False)
        )
        db.session.add(ComplaintEvent(complaint_id=complaint_id, kind=ComplaintEventKind.purged, public=False))
        db.session.commit()
        purged += 1
    return purged
