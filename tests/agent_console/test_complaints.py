"""Complaints in the console: who sees which, the inbox's filters, the complaint page, every
action, hidden identities and attachment downloads, each view audited."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from extensions import db
from models import AuditEntry, Complaint, ComplaintAttachment, ComplaintEvent, ComplaintStatus, Role, User
from tests.support.complaints import add_complaint, add_entity
from tests.support.records import add_user, csrf_token, logged_in_client

S = ComplaintStatus


@pytest.fixture
def people(app):
    """Two entities, an officer of each, an agent and a supervisor; one complaint per entity."""
    with app.app_context():
        health = add_entity()
        education = add_entity("krg-education", "وزارة التربية", "KRG Ministry of Education")
        ours = add_complaint(name="Hawre Ahmed", national_id="19876543210")
        theirs = add_complaint(entity_id=education.id, name="Shilan Omar")
        return {
            "health": health.id,
            "education": education.id,
            "officer": add_user("olan", Role.officer, entity_id=health.id).id,
            "colleague": add_user("kawa", Role.officer, entity_id=health.id).id,
            "other_officer": add_user("rebin", Role.officer, entity_id=education.id).id,
            "agent": add_user("aya", Role.agent).id,
            "supervisor": add_user("sami", Role.supervisor).id,
            "ours": ours.id,
            "ours_code": ours.code,
            "theirs": theirs.id,
        }


def post(client, path: str, data: dict | None = None, **options):
    token = csrf_token(client, "/console/complaints")
    return client.post(path, data={"csrf_token": token, **(data or {})}, **options)


def audits(app, action: str, target_id) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).where(AuditEntry.action == action, AuditEntry.target_id == str(target_id))
        )


def fresh(app, complaint_id: int) -> Complaint:
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        db.session.expunge(complaint)
        return complaint


# --- who lands where, who sees what -----------------------------------------------------------


def test_an_officer_lands_on_the_inbox_and_sees_only_their_pages(app, people):
    client = logged_in_client(app, "olan")
    home = client.get("/console/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/console/complaints")
    page = client.get("/console/complaints").get_data(as_text=True)
    nav = re.search(r"<nav>(.*?)</nav>", page, re.S).group(1)
    assert "/console/complaints" in nav and "/console/letters" in nav
    assert "/console/search" not in nav and "/console/callbacks" not in nav
    for path in ("/console/search", "/console/callbacks", "/console/calls", "/console/queue.json"):
        assert client.get(path).status_code == 403, path


def test_agents_and_supervisors_have_a_complaints_item_but_no_letters_item(app, people):
    for username in ("aya", "sami"):
        page = logged_in_client(app, username).get("/console/complaints").get_data(as_text=True)
        nav = re.search(r"<nav>(.*?)</nav>", page, re.S).group(1)
        assert "/console/complaints" in nav and "/console/letters" not in nav


def test_an_officers_inbox_holds_their_entitys_complaints_only(app, people):
    page = logged_in_client(app, "olan").get("/console/complaints").get_data(as_text=True)
    assert f"complaint-{people['ours']}" in page
    assert f"complaint-{people['theirs']}" not in page
    everything = logged_in_client(app, "sami").get("/console/complaints").get_data(as_text=True)
    assert f"complaint-{people['ours']}" in everything and f"complaint-{people['theirs']}" in everything


def test_an_agent_browses_nothing_but_opens_a_complaint_by_its_code(app, people):
    client = logged_in_client(app, "aya")
    page = client.get("/console/complaints").get_data(as_text=True)
    assert f"complaint-{people['ours']}" not in page
    spaced = f"{people['ours_code'][:3]} {people['ours_code'][3:6]} {people['ours_code'][6:]}"
    found = post(client, "/console/complaints/find", {"code": spaced})
    assert found.status_code == 303 and found.headers["Location"].endswith(f"/console/complaints/{people['ours']}")
    missing = post(client, "/console/complaints/find", {"code": "1234567890"})
    assert missing.headers["Location"].endswith("/console/complaints")
    assert audits(app, "search", None) == 0  # searches have no target id; counted below
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(AuditEntry.action == "search")) == 2


def test_another_entitys_complaint_is_not_found_for_an_officer(app, people):
    client = logged_in_client(app, "olan")
    assert client.get(f"/console/complaints/{people['theirs']}").status_code == 404
    assert client.get("/console/complaints/999999").status_code == 404
    assert post(client, f"/console/complaints/{people['theirs']}/respond", {"body": "Hello"}).status_code == 404
    code = fresh(app, people["theirs"]).code
    assert post(client, "/console/complaints/find", {"code": code}).headers["Location"].endswith("/console/complaints")


def test_agents_cannot_handle(app, people):
    client = logged_in_client(app, "aya")
    assert client.get(f"/console/complaints/{people['ours']}").status_code == 200
    response = post(client, f"/console/complaints/{people['ours']}/respond", {"body": "We are on it."})
    assert response.status_code == 403
    assert fresh(app, people["ours"]).first_response_at is None


def test_the_inbox_filters(app, people):
    client = logged_in_client(app, "olan")
    with app.app_context():
        officer = db.session.get(User, people["officer"])
        from domain.complaints import handling

        handling.assign(people["ours"], officer, officer.id)
        late = add_complaint(description="Nobody answered at the passport office for three weeks.")
        late.sla_due_at = late.created_at - timedelta(hours=1)
        db.session.commit()
        late_id = late.id

    def rows(query: str) -> set[int]:
        page = client.get("/console/complaints" + query)
        assert page.status_code == 200, page.get_data(as_text=True)[:300]
        return {int(n) for n in re.findall(r'id="complaint-(\d+)"', page.get_data(as_text=True))}

    assert rows("") == {people["ours"], late_id}
    assert rows("?assigned=me") == {people["ours"]}
    assert rows("?assigned=nobody") == {late_id}
    assert rows("?overdue=1") == {late_id}
    assert rows("?status=resolved") == set()
    assert rows("?status=routed") == {people["ours"], late_id}
    assert rows("?start=2000-01-01&end=2000-01-02") == set()
    assert client.get("/console/complaints?status=nonsense").status_code == 422
    assert client.get("/console/complaints?start=31/02/2024").status_code == 422
    assert 'data-sla="red"' in client.get("/console/complaints").get_data(as_text=True)


def test_the_inbox_pages_by_keyset(app, people, monkeypatch):
    import agent_console.complaints as view

    monkeypatch.setattr(view, "PAGE_SIZE", 1)
    client = logged_in_client(app, "sami")
    first = client.get("/console/complaints").get_data(as_text=True)
    older = re.search(r'href="([^"]*older=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(older).get_data(as_text=True)
    assert re.findall(r'id="complaint-(\d+)"', first) != re.findall(r'id="complaint-(\d+)"', second)
    assert client.get("/console/complaints?older=garbage").status_code == 200


# --- the complaint page ----------------------------------------------------------------------


def test_the_page_shows_every_field_and_audits_real_views_only(app, people):
    client = logged_in_client(app, "olan")
    page = client.get(f"/console/complaints/{people['ours']}").get_data(as_text=True)
    assert people["ours_code"] in page and "Hawre Ahmed" in page and "19876543210" in page
    assert "The clinic refused my referral papers" in page
    assert audits(app, "view_complaint", people["ours"]) == 1
    elsewhere = client.get(f"/console/complaints/{people['ours']}", headers={"Sec-Fetch-Site": "cross-site"})
    assert "Hawre Ahmed" not in elsewhere.get_data(as_text=True)
    assert audits(app, "view_complaint", people["ours"]) == 1


def test_a_hidden_identity_is_not_in_the_officers_html(app, people):
    with app.app_context():
        hidden = add_complaint(
            hide_identity=True, name="Secret Person", national_id="11223344556", email="secret@example.org"
        )
        hidden_id, phone = hidden.id, hidden.phone
    page = logged_in_client(app, "olan").get(f"/console/complaints/{hidden_id}").get_data(as_text=True)
    for secret in ("Secret Person", "11223344556", "secret@example.org", phone, "750 123 4567"):
        assert secret not in page, secret
    assert 'id="identity-hidden"' in page
    supervisor_page = logged_in_client(app, "sami").get(f"/console/complaints/{hidden_id}").get_data(as_text=True)
    assert "Secret Person" in supervisor_page


@pytest.mark.parametrize(
    "action, data, status, event_kind, public",
    [
        ("respond", {"body": "We called the clinic."}, S.in_progress, "response", True),
        ("ask", {"body": "Which day did you go?"}, S.awaiting_citizen, "info_request", True),
        ("note", {"body": "The manager is on leave."}, S.routed, "note", False),
        ("resolve", {"body": "The referral is accepted."}, S.resolved, "status", True),
        ("reject", {"body": "This is not about our ministry."}, S.rejected, "status", True),
    ],
)
def test_each_action(app, people, action, data, status, event_kind, public):
    client = logged_in_client(app, "olan")
    response = post(client, f"/console/complaints/{people['ours']}/{action}", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    complaint = fresh(app, people["ours"])
    assert complaint.status is status
    with app.app_context():
        last = db.session.scalars(
            select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == people["ours"])
            .order_by(ComplaintEvent.id.desc())
        ).first()
        assert last.kind.value == event_kind and last.public is public and last.body == data["body"]
        assert last.user_id == people["officer"]
    page = client.get(f"/console/complaints/{people['ours']}").get_data(as_text=True)
    assert data["body"] in page


def test_assign_to_an_officer_of_the_entity_only(app, people):
    client = logged_in_client(app, "olan")
    assert (
        post(client, f"/console/complaints/{people['ours']}/assign", {"officer": people["colleague"]}).status_code
        == 303
    )
    assert fresh(app, people["ours"]).assigned_to_id == people["colleague"]
    refused = post(client, f"/console/complaints/{people['ours']}/assign", {"officer": people["other_officer"]})
    assert refused.status_code == 409
    assert "not possible" in refused.get_data(as_text=True)
    assert fresh(app, people["ours"]).assigned_to_id == people["colleague"]
    assert post(client, f"/console/complaints/{people['ours']}/assign", {"officer": ""}).status_code == 303
    assert fresh(app, people["ours"]).assigned_to_id is None


def test_transfer_moves_the_complaint_out_of_the_officers_sight(app, people):
    client = logged_in_client(app, "olan")
    missing = post(client, f"/console/complaints/{people['ours']}/transfer", {"body": "Not ours."})
    assert missing.status_code == 422
    assert "Not ours." in missing.get_data(as_text=True)  # the typed text is kept
    response = post(
        client, f"/console/complaints/{people['ours']}/transfer", {"entity": people["education"], "body": "Schools."}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/console/complaints")
    assert fresh(app, people["ours"]).entity_id == people["education"]
    assert client.get(f"/console/complaints/{people['ours']}").status_code == 404
    assert logged_in_client(app, "rebin").get(f"/console/complaints/{people['ours']}").status_code == 200


def test_an_empty_or_impossible_action_says_why_and_keeps_the_text(app, people):
    client = logged_in_client(app, "olan")
    empty = post(client, f"/console/complaints/{people['ours']}/reject", {"body": "   "})
    assert empty.status_code == 422 and "Write the text first." in empty.get_data(as_text=True)
    long_text = "x" * 5001
    too_long = post(client, f"/console/complaints/{people['ours']}/respond", {"body": long_text})
    assert too_long.status_code == 422 and long_text in too_long.get_data(as_text=True)
    post(client, f"/console/complaints/{people['ours']}/resolve", {"body": ""})
    again = post(client, f"/console/complaints/{people['ours']}/respond", {"body": "Late answer."})
    assert again.status_code == 409 and "Late answer." in again.get_data(as_text=True)
    assert post(client, f"/console/complaints/{people['ours']}/close", {}).status_code == 409  # officers don't close
    assert post(client, f"/console/complaints/{people['ours']}/explode", {}).status_code == 404


def test_supervisors_close(app, people):
    client = logged_in_client(app, "sami")
    post(client, f"/console/complaints/{people['ours']}/resolve", {"body": "Done."})
    assert post(client, f"/console/complaints/{people['ours']}/close", {}).status_code == 303
    assert fresh(app, people["ours"]).status is S.closed


def test_the_page_is_in_arabic_with_status_words(app, people):
    with app.app_context():
        db.session.get(User, people["officer"]).language = "ar"
        db.session.commit()
    page = logged_in_client(app, "olan").get(f"/console/complaints/{people['ours']}").get_data(as_text=True)
    from domain.complaints.notices import status_words

    with app.app_context():
        assert status_words(S.routed, "ar") in page


# --- attachments -------------------------------------------------------------------------------


def attach(app, complaint_id: int, data: bytes = b"%PDF-1.4 test", content_type: str = "application/pdf") -> int:
    with app.app_context():
        attachment = ComplaintAttachment(
            complaint_id=complaint_id,
            filename="report.pdf",
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
        )
        db.session.add(attachment)
        db.session.commit()
        return attachment.id


def test_an_attachment_downloads_through_the_app_with_safe_headers_and_an_audit(app, people):
    attachment_id = attach(app, people["ours"])
    client = logged_in_client(app, "olan")
    page = client.get(f"/console/complaints/{people['ours']}").get_data(as_text=True)
    url = f"/console/complaints/{people['ours']}/attachments/{attachment_id}"
    assert url in page
    response = client.get(url)
    assert response.status_code == 200 and response.data == b"%PDF-1.4 test"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"]
    assert audits(app, "download_attachment", people["ours"]) == 1


def test_attachments_stay_with_their_complaint_and_their_entity(app, people):
    theirs = attach(app, people["theirs"])
    client = logged_in_client(app, "olan")
    assert client.get(f"/console/complaints/{people['theirs']}/attachments/{theirs}").status_code == 404
    assert client.get(f"/console/complaints/{people['ours']}/attachments/{theirs}").status_code == 404
    anonymous = app.test_client().get(f"/console/complaints/{people['theirs']}/attachments/{theirs}")
    assert anonymous.status_code == 302
    assert audits(app, "download_attachment", people["theirs"]) == 0


# --- odd input on the forms --------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

odd_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["\x00", "a\x00b", "٣٤", "-1", "2147483648", str(2**63), "[" * 300, "\u202e", " "]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    action=st.sampled_from(["assign", "respond", "ask", "note", "resolve", "reject", "transfer", "close", "x"]),
    body=odd_text,
    officer=odd_text,
    entity=odd_text,
)
def test_odd_form_posts_never_give_a_server_error(app, officer_client, action, body, officer, entity):
    client, complaint_id, token = officer_client
    response = client.post(
        f"/console/complaints/{complaint_id}/{action}",
        data={"csrf_token": token, "body": body, "officer": officer, "entity": entity},
    )
    assert response.status_code < 500, response.get_data(as_text=True)[:300]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    query=st.dictionaries(
        st.sampled_from(["status", "category", "assigned", "overdue", "start", "end", "older", "newer"]),
        odd_text,
        max_size=4,
    ),
    code=odd_text,
)
def test_odd_filters_and_codes_never_give_a_server_error(app, officer_client, query, code):
    client, _complaint_id, token = officer_client
    assert client.get("/console/complaints", query_string=query).status_code < 500
    assert client.post("/console/complaints/find", data={"csrf_token": token, "code": code}).status_code < 500


@pytest.fixture
def officer_client(app, people):
    client = logged_in_client(app, "olan")
    return client, people["ours"], csrf_token(client, "/console/complaints")
