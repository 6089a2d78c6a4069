"""What time does to complaints: escalated past the SLA, closed after the appeal days, purged
after the retention; each once, however often the job runs."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from domain.complaints import upkeep
from extensions import db
from jobs.housekeeping import close_complaints, escalate_complaints, purge_retention
from models import (
    Complaint,
    ComplaintAttachment,
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintStatus,
    SmsKind,
    SmsMessage,
)
from tests.support.complaints import add_complaint

S = ComplaintStatus
NOW = datetime(2026, 11, 10, 9, 0, tzinfo=timezone.utc)  # a Tuesday morning, Baghdad time


@pytest.fixture
def published(monkeypatch):
    events = []
    monkeypatch.setattr("domain.live.publish", lambda kind, payload=None: events.append((kind, payload)) or True)
    return events


def events(complaint, kind: ComplaintEventKind) -> list[ComplaintEvent]:
    return db.session.scalars(
        select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint.id, ComplaintEvent.kind == kind)
    ).all()


def complaint_with(**fields) -> Complaint:
    complaint = add_complaint()
    for name, value in fields.items():
        setattr(complaint, name, value)
    db.session.commit()
    return complaint


def refreshed(complaint) -> Complaint:
    db.session.expire_all()
    return db.session.get(Complaint, complaint.id)


def test_an_open_complaint_past_its_due_time_is_escalated_once(app_context, published):
    late = complaint_with(sla_due_at=NOW - timedelta(minutes=1))
    in_time = complaint_with(sla_due_at=NOW + timedelta(hours=2))
    paused = complaint_with(status=S.awaiting_citizen, sla_due_at=None, sla_paused_minutes=60)
    resolved = complaint_with(status=S.resolved, sla_due_at=NOW - timedelta(days=1), resolved_at=NOW)
    assert upkeep.escalate_overdue(NOW) == [late.id]
    assert upkeep.escalate_overdue(NOW) == []  # the job again, or on another node
    assert refreshed(late).escalated_at == NOW
    assert len(events(late, ComplaintEventKind.escalated)) == 1
    assert not events(late, ComplaintEventKind.escalated)[0].public
    for other in (in_time, paused, resolved):
        assert refreshed(other).escalated_at is None
    assert published == [("complaints", {"escalated": [late.id]})]  # ids only: no personal data


def test_an_appealed_complaint_can_be_escalated_again(app_context, published):
    complaint = complaint_with(sla_due_at=NOW - timedelta(hours=1))
    upkeep.escalate_overdue(NOW)
    complaint = refreshed(complaint)
    complaint.status, complaint.escalated_at, complaint.sla_due_at = S.appealed, None, NOW + timedelta(hours=1)
    db.session.commit()
    later = NOW + timedelta(hours=2)
    assert upkeep.escalate_overdue(later) == [complaint.id]
    assert len(events(complaint, ComplaintEventKind.escalated)) == 2


def test_the_job_escalates_by_the_clock(app_context, published, monkeypatch):
    complaint = complaint_with(sla_due_at=NOW + timedelta(hours=1))
    monkeypatch.setattr(upkeep, "utcnow", lambda: NOW)
    assert escalate_complaints() == 0
    monkeypatch.setattr(upkeep, "utcnow", lambda: NOW + timedelta(hours=1, seconds=1))
    assert escalate_complaints() == 1
    assert refreshed(complaint).escalated_at is not None


def finished(status: S, days_ago: float) -> Complaint:
    return complaint_with(status=status, resolved_at=NOW - timedelta(days=days_ago), sla_due_at=None)


def test_a_resolution_nobody_contested_is_closed_and_the_citizen_told(app, app_context, monkeypatch):
    days = app.config["COMPLAINT_APPEAL_DAYS"]
    old_resolved = finished(S.resolved, days + 1)
    old_rejected = finished(S.rejected, days + 0.5)
    contestable = finished(S.resolved, days - 1)
    monkeypatch.setattr(upkeep, "utcnow", lambda: NOW)
    assert close_complaints() == 2
    assert close_complaints() == 0  # replayed: nothing more
    for complaint, before in ((old_resolved, S.resolved), (old_rejected, S.rejected)):
        complaint = refreshed(complaint)
        assert complaint.status is S.closed and complaint.closed_at == NOW
        (event,) = [e for e in events(complaint, ComplaintEventKind.status) if e.to_status is S.closed]
        assert event.from_status is before and event.user_id is None
        notices = db.session.scalars(
            select(SmsMessage.body)
            .where(SmsMessage.complaint_id == complaint.id, SmsMessage.kind == SmsKind.complaint)
            .order_by(SmsMessage.id)
        ).all()
        assert len(notices) == 2 and "closed" in notices[-1]  # filed, closed
    assert refreshed(contestable).status is S.resolved


def test_closed_complaints_past_retention_lose_their_personal_data_not_their_counts(app, app_context, monkeypatch):
    days = app.config["COMPLAINT_RETENTION_DAYS"]
    old = complaint_with(
        status=S.closed, closed_at=NOW - timedelta(days=days + 1), national_id="199012345678", reason="Not ours."
    )
    recent = complaint_with(status=S.closed, closed_at=NOW - timedelta(days=days - 1))
    for complaint in (old, recent):
        db.session.add(
            ComplaintEvent(complaint_id=complaint.id, kind=ComplaintEventKind.note, body="Called Hawre at home.")
        )
        db.session.add(
            ComplaintAttachment(
                complaint_id=complaint.id,
                filename="id-card.png",
                content_type="image/png",
                size=3,
                sha256="0" * 64,
                data=b"png",
            )
        )
    db.session.commit()
    monkeypatch.setattr("jobs.housekeeping.utcnow", lambda: NOW)
    assert purge_retention()["complaints"] == 1
    assert purge_retention()["complaints"] == 0  # replayed: nothing more

    purged = refreshed(old)
    assert purged.purged_at == NOW
    assert (purged.name, purged.description) == (upkeep.PURGED, upkeep.PURGED)
    assert purged.phone is purged.email is purged.national_id is purged.reason is None
    assert db.session.scalar(select(func.count()).where(ComplaintAttachment.complaint_id == old.id)) == 0
    assert all(event.body == "" for event in purged.events)
    assert [e.kind for e in purged.events][-1] is ComplaintEventKind.purged
    # What the reports count stays.
    assert (purged.status, purged.entity_id, purged.category_id, purged.governorate) == (
        S.closed,
        old.entity_id,
        old.category_id,
        "erbil",
    )
    kept = refreshed(recent)
    assert kept.purged_at is None and kept.name == "Hawre Ahmed" and kept.phone
    assert db.session.scalar(select(func.count()).where(ComplaintAttachment.complaint_id == recent.id)) == 1


def test_retention_of_zero_days_keeps_complaints_for_ever(app, app_context, monkeypatch):
    complaint = complaint_with(status=S.closed, closed_at=NOW - timedelta(days=5000))
    monkeypatch.setitem(app.config, "COMPLAINT_RETENTION_DAYS", 0)
    assert upkeep.purge_personal_data(NOW) == 0
    assert refreshed(complaint).purged_at is None
