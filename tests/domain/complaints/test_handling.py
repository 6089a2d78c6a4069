"""Handling: who may move a complaint where, the SLA following the status, the citizen told."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from domain.complaints import handling
from domain.complaints.workflow import NotAllowed, may_see, shows_identity
from extensions import db
from models import ComplaintEvent, ComplaintEventKind, ComplaintStatus, Role, SmsMessage
from tests.support.complaints import add_complaint, add_entity
from tests.support.records import add_user

S = ComplaintStatus


@pytest.fixture
def people(app_context):
    health = add_entity()
    other = add_entity("krg-education", "وزارة التربية", "KRG Ministry of Education")
    return {
        "officer": add_user("officer", Role.officer, entity_id=health.id),
        "other_officer": add_user("other", Role.officer, entity_id=other.id),
        "agent": add_user("agent", Role.agent),
        "supervisor": add_user("super", Role.supervisor),
        "other_entity": other,
    }


def notices(complaint) -> int:
    return db.session.scalar(select(func.count()).where(SmsMessage.complaint_id == complaint.id))


def test_an_officer_sees_and_handles_only_their_entitys_complaints(people):
    complaint = add_complaint()
    assert may_see(people["officer"], complaint) and not may_see(people["other_officer"], complaint)
    assert may_see(people["agent"], complaint)
    with pytest.raises(NotAllowed):
        handling.respond(complaint.id, people["other_officer"], "Not ours.")
    with pytest.raises(NotAllowed):
        handling.respond(complaint.id, people["agent"], "Agents don't answer for entities.")
    handling.respond(complaint.id, people["supervisor"], "We are looking into it.")


def test_hidden_identity_is_hidden_from_officers_only(people):
    complaint = add_complaint(hide_identity=True)
    assert not shows_identity(people["officer"], complaint)
    assert shows_identity(people["supervisor"], complaint) and shows_identity(people["agent"], complaint)


def test_a_response_starts_the_work_and_tells_the_citizen(people):
    complaint = add_complaint()
    handling.respond(complaint.id, people["officer"], "We called the clinic.")
    assert complaint.status is S.in_progress and complaint.first_response_at is not None
    assert notices(complaint) == 2  # filed, responded


def test_asking_the_citizen_pauses_the_sla_and_the_reply_resumes_it(people, monkeypatch):
    complaint = add_complaint()
    left = handling.working_time().minutes_between(handling.utcnow(), complaint.sla_due_at)
    handling.request_information(complaint.id, people["officer"], "Which clinic was it?")
    assert complaint.status is S.awaiting_citizen and complaint.sla_due_at is None
    assert abs(complaint.sla_paused_minutes - left) <= 1
    later = handling.utcnow() + timedelta(days=20)
    monkeypatch.setattr(handling, "utcnow", lambda: later)
    handling.citizen_reply(complaint.id, "The one in Ankawa.")
    assert complaint.status is S.in_progress
    assert complaint.sla_due_at > later  # twenty days waiting for the citizen did not count


def test_a_rejection_needs_a_reason_the_citizen_sees(people):
    complaint = add_complaint()
    with pytest.raises(NotAllowed):
        handling.move(complaint.id, people["officer"], S.rejected)
    with pytest.raises(ValueError):
        handling.reject(complaint.id, people["officer"], "   ")
    handling.reject(complaint.id, people["officer"], "This is a matter for the courts.")
    assert complaint.status is S.rejected and complaint.reason == "This is a matter for the courts."
    assert complaint.sla_due_at is None and complaint.resolved_at is not None


def test_moves_that_the_status_does_not_allow_write_nothing(people):
    complaint = add_complaint()
    handling.move(complaint.id, people["officer"], S.resolved, "Your referral is accepted.")
    events = db.session.scalar(select(func.count()).where(ComplaintEvent.complaint_id == complaint.id))
    for to in (S.in_progress, S.awaiting_citizen, S.routed):
        with pytest.raises(NotAllowed):
            handling.move(complaint.id, people["officer"], to)
    with pytest.raises(NotAllowed):
        handling.move(complaint.id, people["officer"], S.closed)  # the appeal period is the citizen's
    assert db.session.scalar(select(func.count()).where(ComplaintEvent.complaint_id == complaint.id)) == events


def test_the_citizen_may_contest_within_the_appeal_days_only(people, app, monkeypatch):
    complaint = add_complaint()
    handling.move(complaint.id, people["officer"], S.resolved, "Done.")
    handling.appeal(complaint.id, "It is not done: the clinic still refuses.")
    assert complaint.status is S.appealed and complaint.appeals == 1 and complaint.sla_due_at is not None
    handling.move(complaint.id, people["officer"], S.resolved, "Done, really.")
    late = complaint.resolved_at + timedelta(days=app.config["COMPLAINT_APPEAL_DAYS"], minutes=1)
    monkeypatch.setattr(handling, "utcnow", lambda: late)
    with pytest.raises(NotAllowed):
        handling.appeal(complaint.id, "Too late?")


def test_a_transfer_routes_to_the_other_entity_with_a_fresh_sla(people):
    complaint = add_complaint()
    handling.respond(complaint.id, people["officer"], "Not ours, passing it on.")
    handling.transfer(complaint.id, people["officer"], people["other_entity"].id, "Schools are Education's.")
    assert complaint.entity_id == people["other_entity"].id and complaint.status is S.routed
    assert complaint.assigned_to_id is None
    transfer = complaint.events[-1]
    assert transfer.kind is ComplaintEventKind.transfer and not transfer.public
    # The first entity's officer no longer sees it; the new one does.
    assert not may_see(people["officer"], complaint) and may_see(people["other_officer"], complaint)


def test_assigning_only_to_an_officer_of_the_entity(people):
    complaint = add_complaint()
    with pytest.raises(NotAllowed):
        handling.assign(complaint.id, people["supervisor"], people["other_officer"].id)
    handling.assign(complaint.id, people["supervisor"], people["officer"].id)
    assert complaint.assigned_to_id == people["officer"].id


def test_internal_notes_are_never_public_nor_sent(people):
    complaint = add_complaint()
    handling.add_note(complaint.id, people["officer"], "The complainant called twice before.")
    assert not complaint.events[-1].public
    assert notices(complaint) == 1  # only the filing's


def test_a_complaint_filed_on_saturday_night_is_due_in_working_hours(people, monkeypatch):
    saturday_night = datetime(2026, 12, 5, 20, 0, tzinfo=timezone.utc)
    monkeypatch.setattr("domain.complaints.filing.utcnow", lambda: saturday_night)
    complaint = add_complaint()
    assert complaint.sla_due_at.weekday() in {6, 0, 1, 2, 3}  # Sunday to Thursday
