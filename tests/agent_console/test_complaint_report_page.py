"""The supervisors' complaints report page and its CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from domain.reporting.complaints import CSV_COLUMNS
from extensions import db
from models import AuditEntry, ComplaintCategory, Role
from tests.support.complaint_report import NOW, some_complaints
from tests.support.records import add_user, logged_in_client, post_form

PERIOD = "period=custom&start=2025-03-10&end=2025-03-11"


@pytest.fixture
def staff(app):
    with app.app_context():
        add_user("sami", Role.supervisor, language="en")
        add_user("salma", Role.supervisor, language="ar")
        add_user("kawa", Role.supervisor, language="ckb")
        add_user("aya_agent", Role.agent)


@pytest.fixture
def complaints(app, monkeypatch):
    monkeypatch.setattr("domain.reporting.complaints.utcnow", lambda: NOW)
    with app.app_context():
        some_complaints()
        db.session.remove()


def page(app, query: str, username: str = "sami"):
    return logged_in_client(app, username).get(f"/console/complaint-report?{query}")


def tile(html: str, name: str) -> str:
    return html.split(f'id="tile-{name}"')[1].split('<span class="num">')[1].split("</span>")[0]


def test_the_page_shows_the_periods_weak_points(app, staff, complaints):
    response = page(app, PERIOD)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert tile(html, "filed") == "6" and tile(html, "finished") == "2"
    assert tile(html, "first-response") == "2.0" and tile(html, "resolution") == "17.0"
    assert tile(html, "sla") == "50%" and tile(html, "appeals") == "50%" and tile(html, "overdue") == "2"
    assert html.count("<svg") == 2  # per day, per governorate
    for table in ("overdue-entities", "by-entity", "by-category", "by-governorate", "by-channel"):
        assert f'id="{table}"' in html
    assert "KRG Ministry of Education" in html and "Delay in a service" in html
    assert "Hawre" not in html and "referral papers" not in html  # no complainant, no text
    assert 'id="export"' in html


def test_it_is_on_the_supervisors_menu_only(app, staff):
    assert 'href="/console/complaint-report"' in page(app, "").get_data(as_text=True)
    agent = logged_in_client(app, "aya_agent")
    assert agent.get("/console/complaint-report").status_code == 403
    assert 'href="/console/complaint-report"' not in agent.get("/console/search").get_data(as_text=True)


@pytest.mark.parametrize("username, words", [("salma", "تقرير الشكاوى"), ("kawa", "ڕاپۆرتی سکاڵاکان")])
def test_arabic_and_kurdish_read_right_to_left_in_their_words(app, staff, complaints, username, words):
    html = page(app, PERIOD, username).get_data(as_text=True)
    assert 'dir="rtl"' in html and words in html and "<svg" in html


def test_a_bad_period_is_explained_not_a_server_error(app, staff):
    response = page(app, "period=custom&start=2025-03-10&end=2025-03-01")
    assert response.status_code == 422
    assert "The last day comes before the first day." in response.get_data(as_text=True)


def test_no_complaints_reads_as_none(app, staff):
    html = page(app, "period=month").get_data(as_text=True)
    assert tile(html, "filed") == "0" and tile(html, "sla") == "—" and 'id="export"' not in html


def export(app, username="sami", **form):
    client = logged_in_client(app, username)
    return post_form(client, "/console/complaint-report.csv", form)


def test_the_export_has_one_row_per_complaint_without_personal_data_and_is_audited(app, staff, complaints):
    with app.app_context():
        db.session.execute(
            ComplaintCategory.__table__.update()
            .where(ComplaintCategory.code == "employee-conduct")
            .values(code="=HYPERLINK(1)")
        )
        db.session.commit()
    response = export(app, period="custom", start="2025-03-10", end="2025-03-11")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 6 and tuple(rows[0]) == CSV_COLUMNS
    first = rows[0]
    assert (first["entity"], first["status"], first["first_response_h"], first["resolution_h"]) == (
        "krg-health",
        "resolved",
        "2.0",
        "4.0",
    )
    assert (first["sla_met"], first["appeals"], first["filed_at"]) == ("yes", "1", "2025-03-10 09:00:00")
    assert {row["category"] for row in rows} == {"service-delay", "'=HYPERLINK(1)"}
    assert "+964" not in body.decode() and "Hawre" not in body.decode()
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
        assert entry.target_type == "complaint" and entry.detail["start"] == "2025-03-10"


def test_the_export_needs_the_csrf_token_and_a_supervisor(app, staff, complaints):
    client = logged_in_client(app, "sami")
    assert client.post("/console/complaint-report.csv", data={"period": "month"}).status_code == 400
    assert export(app, "aya_agent", period="month").status_code == 403


def test_an_export_of_a_bad_period_goes_back_to_the_page(app, staff):
    response = export(app, period="custom", start="nonsense", end="2025-03-01")
    assert response.status_code == 303
    assert "/console/complaint-report?" in response.headers["Location"]
    assert "csrf" not in response.headers["Location"]
