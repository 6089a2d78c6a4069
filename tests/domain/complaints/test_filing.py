"""Filing a complaint: checked fields, a code, routed to the entity, the SLA started, the citizen told."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from domain.complaints.codes import is_valid, spaced
from domain.complaints.filing import plain, problems
from extensions import db
from models import ComplaintEvent, ComplaintStatus, SmsKind, SmsMessage
from tests.support.complaints import add_complaint, add_entity, draft


def test_a_filed_complaint_is_routed_with_a_valid_code_and_an_sla(app_context):
    complaint = add_complaint()
    assert is_valid(complaint.code)
    assert complaint.status is ComplaintStatus.routed
    assert complaint.phone == "+9647501234567"
    assert complaint.sla_due_at is not None and complaint.sla_due_at > complaint.created_at
    kinds = [event.kind.value for event in complaint.events]
    assert kinds == ["submitted", "routed"]


def test_the_citizen_gets_the_code_the_status_and_the_entity_by_sms_nothing_else(app_context):
    complaint = add_complaint(description="My private medical history is in this description, at length.")
    message = db.session.scalar(select(SmsMessage).where(SmsMessage.complaint_id == complaint.id))
    assert message.kind is SmsKind.complaint and message.to_phone == "+9647501234567"
    assert spaced(complaint.code) in message.body
    assert "KRG Ministry of Health" in message.body
    assert "medical" not in message.body and "Hawre" not in message.body


def test_two_complaints_get_two_different_codes(app_context):
    assert add_complaint().code != add_complaint().code


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("kind", "gossip", "choose"),
        ("category_id", 999999, "choose"),
        ("entity_id", 999999, "choose"),
        ("governorate", "atlantis", "choose"),
        ("description", "too short", "too_short"),
        ("description", "x" * 6000, "too_long"),
        ("name", "", "required"),
        ("phone", "12", "not_a_number"),
        ("email", "not-an-address", "not_an_email"),
        ("national_id", "12ab", "digits"),
        ("declared_adult", False, "required"),
        ("declared_citizen", False, "required"),
        ("language", "fr", "choose"),
    ],
)
def test_each_field_is_checked(app_context, field, value, problem):
    assert problems(draft(**{field: value}))[field] == problem


def test_a_web_complaint_needs_a_phone_or_an_email(app_context):
    assert problems(draft(phone="", email="")) == {"phone": "phone_or_email"}
    assert problems(draft(phone="", email="citizen@example.org")) == {}


def test_an_employee_complaint_needs_an_employee_category(app_context):
    assert problems(draft(kind="employee"))["category_id"] == "other_kind"


def test_filing_a_draft_with_problems_writes_nothing(app_context):
    with pytest.raises(ValueError):
        add_complaint(name="")
    assert db.session.scalar(select(ComplaintEvent.id)) is None


def test_typed_text_is_cleaned_of_control_characters_not_of_its_words():
    assert plain("  ابو\x00بكر\u202e  ", 100) == "ابوبكر"
    assert plain("line one\nline two", 100) == "line one\nline two"
    assert len(plain("x" * 50, 10)) == 11  # one over the limit: reported as too long, not cut


def test_the_sla_counts_the_categorys_working_hours(app_context, monkeypatch):
    sunday_nine = datetime(2026, 12, 6, 6, 0, tzinfo=timezone.utc)  # 09:00 in Baghdad
    monkeypatch.setattr("domain.complaints.filing.utcnow", lambda: sunday_nine)
    add_entity()
    complaint = add_complaint()
    # 35 working hours of 7 a day: five working days, Sunday 09:00 -> next Sunday 09:00.
    assert complaint.sla_due_at == datetime(2026, 12, 13, 6, 0, tzinfo=timezone.utc)


def test_a_complaint_verified_by_email_is_told_by_email_with_the_code(app_context):
    from models import EmailMessage, Verification

    complaint = add_complaint(phone="", email="Citizen@Example.org", verification=Verification.email, language="ar")
    message = db.session.scalar(select(EmailMessage).where(EmailMessage.complaint_id == complaint.id))
    assert complaint.email == message.to_address == "citizen@example.org"
    assert spaced(complaint.code) in message.subject and spaced(complaint.code) in message.body
    assert "Hawre" not in message.body
    assert db.session.scalar(select(SmsMessage.id).where(SmsMessage.complaint_id == complaint.id)) is None
