"""The officers' Letters page: their entity's letters only, the filters, the marks of what
changed since the last visit, one letter's history, the CSV export; and officer accounts."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from extensions import db
from models import AuditEntry, Direction, Entity, Role, Status, Transaction, User
from tests.support.complaints import add_entity
from tests.support.ivr import add_letter
from tests.support.records import PASSWORD, add_user, csrf_token, logged_in_client


@pytest.fixture
def letters(app):
    """Letter 1 from Interior to Finance (held there), letter 2 the other way, returned."""
    with app.app_context():
        first = add_letter(number="1001", on=date(2024, 3, 15))
        second = add_letter(number="1002", on=date(2024, 5, 1), direction=Direction.to_region, status=Status.returned)
        interior = db.session.scalar(select(Entity).where(Entity.code == "krg-interior"))
        finance = db.session.scalar(select(Entity).where(Entity.code == "fed-finance"))
        second.sender_id, second.recipient_id, second.holder_id = finance.id, interior.id, interior.id
        db.session.commit()
        health = add_entity()
        db.session.commit()
        add_user("inas", Role.officer, entity_id=interior.id)
        add_user("fuad", Role.officer, entity_id=finance.id)
        add_user("hana", Role.officer, entity_id=health.id)
        add_user("aya", Role.agent)
        return {"first": first.id, "second": second.id}


def rows(client, query: str = "") -> set[str]:
    page = client.get("/console/letters" + query)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    return set(re.findall(r'id="letter-(\d+)"', page.get_data(as_text=True)))


def test_an_officer_sees_the_letters_their_entity_sent_received_or_holds(app, letters):
    both = {str(letters["first"]), str(letters["second"])}
    assert rows(logged_in_client(app, "inas")) == both
    assert rows(logged_in_client(app, "fuad")) == both
    assert rows(logged_in_client(app, "hana")) == set()


def test_the_filters(app, letters):
    client = logged_in_client(app, "inas")
    assert rows(client, "?part=sent") == {str(letters["first"])}
    assert rows(client, "?part=holds") == {str(letters["second"])}
    assert rows(client, "?part=received") == {str(letters["second"])}
    assert rows(client, "?status=returned") == {str(letters["second"])}
    assert rows(client, "?direction=to_federal") == {str(letters["first"])}
    assert rows(client, "?start=2024-04-01") == {str(letters["second"])}
    assert rows(client, "?start=01/01/2024&end=31/03/2024") == {str(letters["first"])}
    for bad in ("?part=stolen", "?status=x", "?direction=up", "?start=2024-13-45", "?start=2024-05-01&end=2024-01-01"):
        assert client.get("/console/letters" + bad).status_code == 422, bad


def test_letters_changed_since_the_last_visit_are_marked(app, letters):
    client = logged_in_client(app, "inas")
    first_visit = client.get("/console/letters").get_data(as_text=True)
    assert "data-changed" not in first_visit  # the first visit has nothing to compare with
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "inas"))
        assert user.letters_seen_at is not None
        user.letters_seen_at = datetime.now(timezone.utc) - timedelta(hours=1)
        old = db.session.get(Transaction, letters["first"])
        old.updated_at = datetime.now(timezone.utc) - timedelta(days=2)
        moved = db.session.get(Transaction, letters["second"])
        moved.status = Status.replied
        db.session.commit()
    page = client.get("/console/letters").get_data(as_text=True)
    changed = re.findall(r'<tr id="letter-(\d+)" class="changed"', page)
    assert changed == [str(letters["second"])]
    # The visit is recorded: nothing is new on the next one.
    assert "data-changed" not in client.get("/console/letters").get_data(as_text=True)


def test_one_letters_history_is_for_its_own_entitys_officers(app, letters):
    inas = logged_in_client(app, "inas")
    page = inas.get(f"/console/letters/{letters['first']}")
    assert page.status_code == 200 and "1001" in page.get_data(as_text=True)
    assert logged_in_client(app, "hana").get(f"/console/letters/{letters['first']}").status_code == 404
    assert inas.get("/console/letters/999999").status_code == 404
    with app.app_context():
        views = db.session.scalar(
            select(func.count()).where(
                AuditEntry.action == "view_transaction", AuditEntry.target_id == str(letters["first"])
            )
        )
    assert views == 1
    # An officer opens neither the agents' record page nor the search.
    assert inas.get(f"/console/transactions/{letters['first']}").status_code == 403


def test_agents_and_supervisors_have_no_letters_page(app, letters):
    assert logged_in_client(app, "aya").get("/console/letters").status_code == 403


def test_the_csv_export_is_a_post_audited_and_safe_in_a_spreadsheet(app, letters):
    with app.app_context():
        db.session.get(Transaction, letters["first"]).subject = '=HYPERLINK("http://evil")'
        db.session.commit()
    client = logged_in_client(app, "inas")
    assert client.get("/console/letters.csv").status_code == 405
    token = csrf_token(client, "/console/letters")
    assert client.post("/console/letters.csv", data={}).status_code == 400  # no CSRF token
    response = client.post("/console/letters.csv", data={"csrf_token": token, "part": "sent"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0][0] == "number" and len(table) == 2
    assert table[1][0] == "1001" and table[1][3].startswith("'=")
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
        assert entry.target_type == "transaction" and entry.detail == {"part": "sent"}
    assert client.post("/console/letters.csv", data={"csrf_token": token, "part": "x"}).status_code == 422


# --- officer accounts ----------------------------------------------------------------------------


def test_an_admin_creates_an_officer_with_their_entity_and_not_without(app, letters):
    from tests.support.records import post_form

    with app.app_context():
        add_user("adam", Role.admin)
        entity_id = db.session.scalar(select(Entity.id).where(Entity.code == "krg-interior"))
    client = logged_in_client(app, "adam")
    form = {
        "username": "shno",
        "display_name": "Shno",
        "role": "officer",
        "language": "ckb",
        "endpoint_kind": "client",
        "endpoint": "",
        "password": PASSWORD,
    }
    refused = post_form(client, "/console/agents/new", {**form, "entity_id": ""})
    assert refused.status_code == 422 and "needs their entity" in refused.get_data(as_text=True)
    assert post_form(client, "/console/agents/new", {**form, "entity_id": str(entity_id)}).status_code == 302
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.username == "shno"))
        assert officer.role is Role.officer and officer.entity_id == entity_id
    assert logged_in_client(app, "shno").get("/console/").headers["Location"].endswith("/console/complaints")


def test_the_cli_creates_officers_with_an_entity_only(app, runner, letters):
    password = "a long enough password\n"
    missing = runner.invoke(args=["users", "create", "zana", "--role", "officer"], input=password)
    assert missing.exit_code != 0 and "--entity" in missing.output
    unknown = runner.invoke(args=["users", "create", "zana", "--role", "officer", "--entity", "nope"], input=password)
    assert unknown.exit_code != 0 and "no entity" in unknown.output
    made = runner.invoke(
        args=["users", "create", "zana", "--role", "officer", "--entity", "fed-finance"], input=password
    )
    assert made.exit_code == 0, made.output
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.username == "zana"))
        assert officer.entity_id == db.session.scalar(select(Entity.id).where(Entity.code == "fed-finance"))
