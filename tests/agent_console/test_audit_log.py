"""The audit log page: who viewed, searched or exported what, filtered and paged; never a 500."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from extensions import db
from models import AuditEntry, Role
from tests.support.records import add_user, logged_in_client, post_form
from tests.support.supervisor import add_call, local

ROW = re.compile(r'<tr id="audit-(\d+)"')
OLDER = re.compile(r'href="([^"]*older=[^"]*)"')


def row_ids(html: str) -> list[int]:
    return [int(n) for n in ROW.findall(html)]


def trail_rows(html: str, trail: dict) -> list[int]:
    """The fixture's entries on the page (logging in adds entries of its own)."""
    ids = {value for name, value in trail.items() if name != "dana"}
    return [i for i in row_ids(html) if i in ids]


def entry(user_id, action: str, when: str, target_type=None, target_id=None, detail=None) -> int:
    row = AuditEntry(
        user_id=user_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail,
        address="10.0.0.7",
        created_at=local(when),
    )
    db.session.add(row)
    db.session.commit()
    return row.id


@pytest.fixture
def trail(app, staff):
    with app.app_context():
        dana = add_user("dana", Role.agent, display_name="Dana Karim").id
        return {
            "dana": dana,
            "search": entry(
                dana,
                "search",
                "2025-03-10 09:00:00",
                "transaction",
                detail={"by": "phone", "phone": "+9647501112222", "matches": 1},
            ),
            "view": entry(dana, "view_transaction", "2025-03-10 09:01:00", "transaction", "42"),
            "export": entry(
                staff["supervisor"], "export", "2025-03-11 23:30:00", "call", detail={"outcome": "abandoned_in_queue"}
            ),
            "timeline": entry(staff["supervisor"], "view_call", "2025-03-12 00:10:00", "call", "7"),
        }


def test_the_log_names_who_did_what_to_which_record(app, trail):
    html = logged_in_client(app, "sami").get("/console/audit").get_data(as_text=True)
    assert trail_rows(html, trail) == [trail["timeline"], trail["export"], trail["view"], trail["search"]]
    view = html.split(f'id="audit-{trail["view"]}"')[1].split("</tr>")[0]
    assert "10/03/2025 09:01:00" in view and "Dana Karim" in view and "Viewed a letter" in view
    assert 'href="/console/transactions/42"' in view
    search = html.split(f'id="audit-{trail["search"]}"')[1].split("</tr>")[0]
    assert "Searched" in search and "+9647501112222" in search
    timeline = html.split(f'id="audit-{trail["timeline"]}"')[1].split("</tr>")[0]
    assert "Viewed a call&#39;s timeline" in timeline and 'href="/console/calls/7/timeline"' in timeline


@pytest.mark.parametrize(
    "query, expected",
    [
        ("action=export", ["export"]),
        ("target_type=transaction", ["view", "search"]),
        ("target_type=transaction&target_id=42", ["view"]),
        ("target_type=call&target_id=٧", ["timeline"]),
        ("start=2025-03-11&end=2025-03-11", ["export"]),  # 23:30 Baghdad on the 11th, not the 12th
        ("start=12/03/2025", ["timeline"]),
        ("end=2025-03-10", ["view", "search"]),
        ("action=never_done", []),
    ],
)
def test_filters(app, trail, query, expected):
    page = logged_in_client(app, "sami").get(f"/console/audit?{query}")
    assert page.status_code == 200
    assert trail_rows(page.get_data(as_text=True), trail) == [trail[name] for name in expected]


def test_the_user_filter(app, trail):
    html = logged_in_client(app, "sami").get(f"/console/audit?user={trail['dana']}").get_data(as_text=True)
    assert row_ids(html) == [trail["view"], trail["search"]]


@pytest.mark.parametrize(
    "query, message",
    [
        ("user=abc", "Choose a user from the list."),
        ("action=DROP%20TABLE", "Choose an action from the list."),
        ("start=2025-13-01", "Write the day as DD/MM/YYYY"),
        ("start=2025-03-12&end=2025-03-10", "The last day comes before the first day."),
        ("target_type=secret", "Choose what was looked at from the list."),
        ("target_id=%3Cscript%3E", "A record number has letters and digits only."),
    ],
)
def test_a_bad_filter_is_explained(app, trail, query, message):
    page = logged_in_client(app, "sami").get(f"/console/audit?{query}")
    assert page.status_code == 422 and message in page.get_data(as_text=True)
    assert row_ids(page.get_data(as_text=True)) == []


def test_pages_keep_the_filters(app, staff):
    with app.app_context():
        start = local("2025-03-10 08:00:00")
        db.session.add_all(
            AuditEntry(
                user_id=staff["agent"],
                action="view_transaction",
                target_type="transaction",
                target_id=str(n),
                created_at=start + timedelta(minutes=n),
            )
            for n in range(70)
        )
        db.session.add_all(
            AuditEntry(user_id=staff["agent"], action="search", created_at=start + timedelta(minutes=n))
            for n in range(5)
        )
        db.session.commit()
    client = logged_in_client(app, "sami")
    first = client.get("/console/audit?action=view_transaction").get_data(as_text=True)
    older = OLDER.search(first).group(1).replace("&amp;", "&")
    assert "action=view_transaction" in older
    second = client.get(older).get_data(as_text=True)
    assert len(row_ids(first)) == 50 and len(row_ids(second)) == 20
    assert not set(row_ids(first)) & set(row_ids(second))


def test_what_supervisors_do_lands_in_the_log(app, staff):
    with app.app_context():
        call_id = add_call("2025-03-10 09:00:00").id
    client = logged_in_client(app, "sami")
    client.get(f"/console/calls/{call_id}/timeline")
    post_form(client, "/console/calls.csv").get_data()
    html = client.get("/console/audit?user=%d" % staff["supervisor"]).get_data(as_text=True)
    assert "Viewed a call&#39;s timeline" in html and "Exported" in html and "Logged in" in html


FILTER_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.fixed_dictionaries(
        {},
        optional={
            name: FILTER_TEXT
            for name in ("user", "action", "start", "end", "target_type", "target_id", "older", "newer")
        },
    )
)
def test_no_filter_text_makes_a_server_error(app, staff, values):
    response = logged_in_client(app, "sami").get("/console/audit", query_string=values)
    assert response.status_code in {200, 422}, (values, response.status_code)


def test_agents_may_not_read_the_audit_log(app, staff):
    assert logged_in_client(app, "aya").get("/console/audit").status_code == 403


# --- words, not codes ------------------------------------------------------------------------


def audited_actions() -> set[str]:
    """Every action code the app writes to the audit trail: audit(...)'s literal actions, and
    the call-control steps that are audited under their own names."""
    root = Path(__file__).resolve().parents[2]
    codes: set[str] = set()
    for path in root.glob("[!.]*/**/*.py"):
        if "tests" in path.parts or "migrations" in path.parts or ".venv" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"\baudit\(\s*[^,()]+,\s*([^,]+?),", text):
            codes.update(re.findall(r'"([a-z_]+)"', call.group(1)))
        for pair in re.findall(r'\bstep\(call, agent, "([a-z_]+)"(?: if \w+ else "([a-z_]+)")?', text):
            codes.update(code for code in pair if code)
    return codes


def test_every_audited_action_has_words():
    from agent_console.audit_log import ACTIONS
    from domain.letters.alarm import ALARM_ACTION

    codes = audited_actions() | {ALARM_ACTION}
    assert {"login", "attach_letter", "presence_set", "prompt_take", "call_hold", "call_transfer"} <= codes
    assert codes - set(ACTIONS) == set()


def test_an_arabic_supervisor_reads_the_log_in_arabic(app, staff):
    with app.app_context():
        add_user("salma", Role.supervisor, language="ar")
        dana = add_user("dana", Role.agent).id
        search = entry(dana, "search", "2025-03-10 09:00:00", "transaction", detail={"by": "phone", "matches": 1})
        hold = entry(dana, "call_hold", "2025-03-10 09:02:00", "call", "7")
        state = entry(
            dana, "presence_set", "2025-03-10 09:03:00", "user", str(dana), {"presence": "away", "reason": "prayer"}
        )
    html = logged_in_client(app, "salma").get("/console/audit").get_data(as_text=True)
    row = html.split(f'id="audit-{search}"')[1].split("</tr>")[0]
    assert "بحث" in row and "<b>بحسب</b>: <bdi>رقم الهاتف</bdi>" in row and "phone" not in row
    row = html.split(f'id="audit-{hold}"')[1].split("</tr>")[0]
    assert "وضع متصلاً على الانتظار" in row and "call_hold" not in row
    row = html.split(f'id="audit-{state}"')[1].split("</tr>")[0]
    assert "away" not in row and "prayer" not in row and "presence" not in row
