"""The call log's CSV export: the filtered calls, Excel-friendly UTF-8, no formulas, audited."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from agent_console.call_log import CSV_COLUMNS, safe_cell
from extensions import db
from models import AuditEntry, Outcome, Role
from tests.support.records import add_letter, add_user, logged_in_client, post_form
from tests.support.supervisor import add_call


def export(client, **filters):
    """Search as the page does, then press its Export button (a POST with the CSRF token)."""
    if filters:
        response = post_form(client, "/console/calls", filters)
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
        linked = parse_qs(urlsplit(response.headers["Location"]).query)  # what the page's export form sends
        return post_form(client, "/console/calls.csv", {name: values[0] for name, values in linked.items()})
    return post_form(client, "/console/calls.csv")


def rows_of(response) -> list[dict]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode()), "no byte-order mark: Excel would misread Arabic"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.fixture
def calls(app, staff):
    with app.app_context():
        letter = add_letter("1234")
        rezan = add_user("rezan", Role.agent, display_name="ريزان كريم")
        answered = add_call(
            "2025-03-10 09:20:00",
            language="ar",
            caller="+9647501112222",
            outcome=Outcome.agent_answered,
            queued_after=40,
            answered_after=20,
            talk=150,
            wrap=30,
            agent=rezan,
            survey=4,
            disposition="status_given",
            asked_number="1234",
            transaction_id=letter.id,
            found=True,
            ended_after=400,
            duration_s=400,
        )
        abandoned = add_call(
            "2025-03-11 00:30:00",
            language="en",
            caller="+442079460000",
            outcome=Outcome.abandoned_in_queue,
            queued_after=30,
            left_after=95,
        )
        return {"answered": answered.sid, "abandoned": abandoned.sid}


def test_the_export_is_the_filtered_log_as_utf8_csv_with_a_bom(app, calls):
    response = export(logged_in_client(app, "sami"), outcome="agent_answered")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="calls-')
    rows = rows_of(response)
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == 1
    row = rows[0]
    assert row["call_sid"] == calls["answered"] and row["outcome"] == "agent_answered"
    assert row["started_at"] == "2025-03-10 09:20:00"  # Baghdad's clock, ASCII digits
    assert row["caller"] == "0750 111 2222" and row["language"] == "ar"
    assert row["agent"] == "ريزان كريم"
    assert (row["queue_s"], row["handle_s"], row["survey_score"], row["duration_s"]) == ("20", "180", "4", "400")
    assert (row["asked_number"], row["transaction_number"], row["transaction_date"]) == ("1234", "1234", "2024-03-15")
    assert row["disposition"] == "status_given"


def test_without_a_search_every_call_is_exported_newest_first(app, calls):
    rows = rows_of(export(logged_in_client(app, "sami")))
    assert [row["call_sid"] for row in rows] == [calls["abandoned"], calls["answered"]]


def test_the_export_is_streamed(app, calls):
    response = export(logged_in_client(app, "sami"))
    assert response.is_streamed


def test_cells_that_look_like_formulas_are_quoted(app, calls):
    with app.app_context():
        add_call(
            "2025-03-12 10:00:00",
            agent=add_user("evil", Role.agent, display_name='=HYPERLINK("x")'),
            outcome=Outcome.agent_answered,
        )
    rows = rows_of(export(logged_in_client(app, "sami")))
    assert rows[0]["agent"] == '\'=HYPERLINK("x")'
    # A foreign caller is written internationally, and a leading + could start a formula too.
    abandoned = next(row for row in rows if row["call_sid"] == calls["abandoned"])
    assert abandoned["caller"] == "'+44 20 7946 0000"


@pytest.mark.parametrize(
    "value, written",
    [
        ("=1+1", "'=1+1"),
        ("+964", "'+964"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("1=1", "1=1"),
        ("ريزان", "ريزان"),
        (None, ""),
        (42, "42"),
    ],
)
def test_safe_cell(value, written):
    assert safe_cell(value) == written


def test_an_export_is_audited_with_its_filters(app, calls):
    export(logged_in_client(app, "sami"), language="en", start="2025-03-11").get_data()
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all()
        assert [(e.target_type, e.detail) for e in entries] == [("call", {"language": "en", "start": "2025-03-11"})]


def test_an_expired_search_is_not_exported(app, calls):
    response = post_form(logged_in_client(app, "sami"), "/console/calls.csv", {"q": "not-kept-here"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/console/calls")
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export")) is None


def test_agents_may_not_export(app, calls):
    assert post_form(logged_in_client(app, "aya"), "/console/calls.csv").status_code == 403


def exports_audited(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export")).all())


def test_a_link_cannot_export(app, calls):
    """A top-level GET another site sends (SameSite=Lax carries the cookie) exports nothing."""
    client = logged_in_client(app, "sami")
    assert client.get("/console/calls.csv", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 405
    assert exports_audited(app) == 0


def test_a_forged_form_without_the_csrf_token_cannot_export(app, calls):
    assert logged_in_client(app, "sami").post("/console/calls.csv").status_code == 400
    assert exports_audited(app) == 0


def test_the_call_log_exports_with_a_form(app, calls):
    html = logged_in_client(app, "sami").get("/console/calls").get_data(as_text=True)
    assert 'method="post" action="/console/calls.csv"' in html and 'name="csrf_token"' in html


def test_filtered_and_unfiltered_exports_are_named_apart(app, calls):
    client = logged_in_client(app, "sami")
    everything = export(client).headers["Content-Disposition"]
    filtered = export(client, language="en", start="2025-03-11", caller="0750 111 2222").headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="calls-\d{8}-\d{4}\.csv"', everything)
    assert re.fullmatch(r'attachment; filename="calls-from-2025-03-11_language-en_caller_\d{8}-\d{4}\.csv"', filtered)
    assert "750" not in filtered  # the caller's number never in a file name
