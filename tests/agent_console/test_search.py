"""Searching letters and opening a record: what the agent sees, what is audited, what is refused."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from extensions import db
from models import AuditEntry, Call, Direction, Outcome, User
from tests.support.records import add_letter, logged_in_client, post_form


def search(client, **terms):
    by = "phone" if "phone" in terms else "transaction"
    return post_form(client, "/console/search", {"by": by, **terms})


def audit_rows(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        return [(row.user_id, row.target_type, row.target_id, row.detail) for row in rows]


def test_the_search_page_offers_both_ways(app, staff):
    page = logged_in_client(app, "aya").get("/console/search")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="number"' in html and 'name="date"' in html and 'name="phone"' in html
    assert audit_rows(app, "search") == []  # opening the page is not a search


def test_number_and_typed_date_open_the_one_matching_letter(app, staff):
    with app.app_context():
        letter_id = add_letter().id
    client = logged_in_client(app, "aya")
    for typed in ["15/03/2024", "15032024", "2024-03-15", "15-3-2024", "١٥/٠٣/٢٠٢٤"]:
        response = search(client, number="1234", date=typed)
        assert response.status_code == 302, typed
        assert response.headers["Location"] == f"/console/transactions/{letter_id}"
    detail = audit_rows(app, "search")[0][3]
    assert detail == {"by": "transaction", "number": "1234", "date": "2024-03-15", "matches": 1}


def test_two_letters_with_one_number_and_date_are_both_listed(app, staff):
    with app.app_context():
        add_letter(direction=Direction.to_federal, subject="first")
        add_letter(direction=Direction.to_region, subject="second")
    response = search(logged_in_client(app, "aya"), number="1234", date="15/03/2024")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Region → Federal" in html and "Federal → Region" in html
    assert audit_rows(app, "search")[0][3]["matches"] == 2


def test_no_match_says_so(app, staff):
    with app.app_context():
        add_letter()
    response = search(logged_in_client(app, "aya"), number="1234", date="16/03/2024")
    assert response.status_code == 200
    assert "No letter matches this search." in response.get_data(as_text=True)
    assert audit_rows(app, "search")[0][3]["matches"] == 0


def test_bad_number_and_date_are_explained_on_the_form(app, staff):
    client = logged_in_client(app, "aya")
    cases = [
        ({"number": "", "date": "15/03/2024"}, "Enter the transaction number."),
        ({"number": "12a4", "date": "15/03/2024"}, "A transaction number has digits only."),
        ({"number": "1" * 13, "date": "15/03/2024"}, "A transaction number has at most 12 digits."),
        ({"number": "1234", "date": ""}, "Enter the date of the letter."),
        ({"number": "1234", "date": "31/02/2024"}, "This day does not exist in the calendar."),
        ({"number": "1234", "date": "march"}, "Write the date as DD/MM/YYYY"),
        ({"number": "1234", "date": "01/01/1999"}, "Letters dated before 2000 are not kept here."),
        (
            {"number": "1234", "date": (date.today() + timedelta(days=3)).strftime("%d/%m/%Y")},
            "This date is in the future.",
        ),
    ]
    for terms, message in cases:
        response = search(client, **terms)
        assert response.status_code == 422, terms
        html = response.get_data(as_text=True)
        assert message in html, terms
        assert 'aria-invalid="true"' in html
    refused = audit_rows(app, "search")
    assert len(refused) == len(cases)  # a refused search is still a search, and audited
    assert all("refused" in detail for *_, detail in refused)


def test_a_phone_search_finds_letters_and_recent_calls(app, staff):
    with app.app_context():
        letter = add_letter(phone="+9647501234567")
        add_letter(number="999", phone="+9647709999999")
        db.session.add_all(
            [
                Call(
                    sid="CA" + "1" * 32,
                    caller="+9647501234567",
                    language="ckb",
                    transaction_id=letter.id,
                    asked_number="1234",
                    asked_date=date(2024, 3, 15),
                    found=True,
                    outcome=Outcome.self_served,
                ),
                Call(
                    sid="CA" + "2" * 32,
                    caller="+9647501234567",
                    language="ar",
                    asked_number="5555",
                    found=False,
                    outcome=Outcome.failed_input,
                ),
                Call(
                    sid="CA" + "3" * 32,
                    caller="+9647501234567",
                    language="en",
                    started_at=datetime.now(timezone.utc) - timedelta(days=200),
                ),
            ]
        )
        db.session.commit()
    response = search(logged_in_client(app, "aya"), phone="0750 123 4567")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1234" in html and "999" not in html
    assert "کوردی" in html and "5555" in html and "not found" in html
    assert "English" not in html.split("Recent calls from this number")[1]  # 200 days old: not recent
    assert audit_rows(app, "search")[0][3] == {"by": "phone", "phone": "+9647501234567", "matches": 1}


def test_a_phone_that_is_not_one_is_explained(app, staff):
    client = logged_in_client(app, "aya")
    for typed, message in [("", "Enter a phone number."), ("12", "This is not a phone number.")]:
        response = search(client, phone=typed)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)


def test_the_record_page_shows_the_letter_in_the_agents_language(app, staff):
    with app.app_context():
        letter_id = add_letter(subject="Appointment request").id
        db.session.add(
            Call(
                sid="CA" + "4" * 32,
                caller="+9647501234567",
                language="ar",
                transaction_id=letter_id,
                outcome=Outcome.agent_answered,
                agent_id=staff["agent"],
                disposition="status_given",
            )
        )
        db.session.commit()
    client = logged_in_client(app, "aya")
    html = client.get(f"/console/transactions/{letter_id}").get_data(as_text=True)
    for shown in [
        "1234",
        "15/03/2024",
        "Region → Federal",
        "Appointment request",
        "KRG Ministry of Interior",
        "Federal Ministry of Finance",
        "Federal Ministry of Planning",
        "Forwarded",
        "02/04/2024",
        "0750 123 4567",
        "Received",
        "Status given",  # the call's outcome in words, not its code
        "Aya",
    ]:
        assert shown in html, shown
    assert "status_given" not in html
    with app.app_context():
        db.session.get(User, staff["agent"]).language = "ckb"
        db.session.commit()
    html = client.get(f"/console/transactions/{letter_id}").get_data(as_text=True)
    assert 'dir="rtl"' in html
    assert "وەزارەتی ناوخۆی هەرێم" in html  # the Kurdish name where one is kept
    assert "وزارة التخطيط الاتحادية" in html  # else the Arabic one


def test_every_record_view_is_audited(app, staff):
    with app.app_context():
        letter_id = add_letter().id
    client = logged_in_client(app, "aya")
    client.get(f"/console/transactions/{letter_id}")
    client.get(f"/console/transactions/{letter_id}")
    assert (
        audit_rows(app, "view_transaction")
        == [
            (staff["agent"], "transaction", str(letter_id), None),
        ]
        * 2
    )
    assert client.get("/console/transactions/999999").status_code == 404
    assert len(audit_rows(app, "view_transaction")) == 2


def test_no_record_content_reaches_the_logs(app, staff, caplog):
    with app.app_context():
        letter_id = add_letter(subject="Very private subject", phone="+9647501234567").id
    client = logged_in_client(app, "aya")
    with caplog.at_level(logging.DEBUG):
        search(client, number="1234", date="15/03/2024")
        search(client, phone="07501234567")
        client.get(f"/console/transactions/{letter_id}")
    for secret in ["Very private subject", "7501234567", "1234", "Federal Ministry"]:
        assert secret not in caplog.text


printable = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)


@pytest.fixture
def aya_client(app, staff):
    """Logged in once for all of Hypothesis's examples (a login costs an Argon2 hash)."""
    return logged_in_client(app, "aya")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=printable, typed_date=printable, phone=printable)
def test_no_typed_input_gives_a_server_error(aya_client, number, typed_date, phone):
    by_letter = search(aya_client, number=number, date=typed_date)
    by_phone = search(aya_client, phone=phone)
    assert by_letter.status_code in {200, 302, 422}
    assert by_phone.status_code in {200, 422}
