"""The call log and one call's timeline: what a supervisor sees, filters, pages, bad input, audit."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import event, select

import domain.calls.timeline
from domain.db.keyset import Cursor
from domain.reporting.call_log import CallFilters, call_log_page
from extensions import db
from models import AuditEntry, Outcome, Role
from tests.support.records import add_letter, add_user, logged_in_client, post_form
from tests.support.supervisor import add_call, add_step, local

ROW = re.compile(r'<tr id="call-(\d+)"')
OLDER = re.compile(r'href="([^"]*older=[^"]*)"')
NEWER = re.compile(r'href="([^"]*newer=[^"]*)"')


def row_ids(html: str) -> list[int]:
    return [int(n) for n in ROW.findall(html)]


def search(client, **filters):
    """Submit the filter form; follow the redirect to the first page of results."""
    response = post_form(client, "/console/calls", filters)
    if response.status_code == 303:
        return client.get(response.headers["Location"])
    return response


def link(pattern, html: str) -> str:
    return pattern.search(html).group(1).replace("&amp;", "&")


@pytest.fixture
def calls(app, staff):
    """A small day of calls with one of each thing a filter can pick."""
    with app.app_context():
        letter = add_letter("1234")
        dana = add_user("dana", Role.agent, display_name="Dana Karim")
        found = {
            "answered": add_call(
                "2025-03-10 09:20:00",
                language="ckb",
                caller="+9647501112222",
                outcome=Outcome.agent_answered,
                queued_after=40,
                answered_after=20,
                talk=150,
                wrap=30,
                agent=dana,
                survey=4,
                disposition="status_given",
                asked_number="1234",
                transaction_id=letter.id,
                found=True,
            ).id,
            "abandoned": add_call(
                "2025-03-10 11:00:00",
                language="ar",
                caller="+9647503334444",
                outcome=Outcome.abandoned_in_queue,
                queued_after=30,
                left_after=95,
            ).id,
            "self_served": add_call(
                "2025-03-11 08:00:00",
                language="en",
                caller="+9647501112222",
                asked_number="1234",
                transaction_id=letter.id,
                found=True,
            ).id,
            "withheld": add_call(
                "2025-03-12 10:00:00",
                language=None,
                caller=None,
                outcome=Outcome.hung_up_in_ivr,
                asked_number="999",
                found=False,
            ).id,
        }
        found["dana"] = dana.id
        return found


def test_the_log_shows_each_call_in_local_time_and_national_format(app, calls):
    html = logged_in_client(app, "sami").get("/console/calls").get_data(as_text=True)
    assert row_ids(html) == [calls["withheld"], calls["self_served"], calls["abandoned"], calls["answered"]]
    answered = html.split(f'id="call-{calls["answered"]}"')[1].split("</tr>")[0]
    assert "10/03/2025 09:20:00" in answered  # 06:20 UTC, shown on Baghdad's clock
    assert "0750 111 2222" in answered and "کوردی" in answered
    assert "Answered by an agent" in answered and "Dana Karim" in answered
    assert ">1234<" in answered and "0:20" in answered  # letter, then time in queue
    assert "3:00" in answered and "Status given" in answered and ">4<" in answered
    abandoned = html.split(f'id="call-{calls["abandoned"]}"')[1].split("</tr>")[0]
    assert "Abandoned in queue" in abandoned and "1:35" in abandoned
    withheld = html.split(f'id="call-{calls["withheld"]}"')[1].split("</tr>")[0]
    assert "Withheld" in withheld and "not found" in withheld


@pytest.mark.parametrize(
    "filters, expected",
    [
        ({"start": "2025-03-11"}, ["withheld", "self_served"]),
        ({"end": "10/03/2025"}, ["abandoned", "answered"]),
        ({"start": "2025-03-10", "end": "2025-03-11"}, ["self_served", "abandoned", "answered"]),
        ({"outcome": "abandoned_in_queue"}, ["abandoned"]),
        ({"language": "ckb"}, ["answered"]),
        ({"language": "none"}, ["withheld"]),
        ({"caller": "0750 111 2222"}, ["self_served", "answered"]),
        ({"caller": "+964 750 111 2222"}, ["self_served", "answered"]),
        ({"caller": "٠٧٥٠١١١٢٢٢٢"}, ["self_served", "answered"]),
        ({"number": "1234"}, ["self_served", "answered"]),
        ({"number": "1234", "language": "en"}, ["self_served"]),
        ({"start": "2025-03-13"}, []),
    ],
)
def test_each_filter_narrows_the_log(app, calls, filters, expected):
    page = search(logged_in_client(app, "sami"), **filters)
    assert page.status_code == 200
    assert row_ids(page.get_data(as_text=True)) == [calls[name] for name in expected]


def test_the_agent_filter(app, calls):
    page = search(logged_in_client(app, "sami"), agent=str(calls["dana"]))
    html = page.get_data(as_text=True)
    assert row_ids(html) == [calls["answered"]]
    assert f'<option value="{calls["dana"]}" selected>Dana Karim</option>' in html


def test_filters_stay_out_of_the_address_bar(app, calls):
    client = logged_in_client(app, "sami")
    response = post_form(client, "/console/calls", {"caller": "0750 111 2222", "number": "1234"})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "750" not in location and "1234" not in location and "q=" in location
    html = client.get(location).get_data(as_text=True)
    assert 'value="0750 111 2222"' in html  # the form shows the search again


def test_a_search_is_audited_with_its_filters(app, calls):
    search(logged_in_client(app, "sami"), caller="0750 111 2222", outcome="self_served")
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "search"))
        assert entry.target_type == "call"
        assert entry.detail == {"caller": "+9647501112222", "outcome": "self_served"}


@pytest.mark.parametrize(
    "filters, field, message",
    [
        ({"start": "31/02/2025"}, "start", "Write the day as DD/MM/YYYY"),
        ({"start": "yesterday"}, "start", "Write the day as DD/MM/YYYY"),
        ({"start": "2025-03-12", "end": "2025-03-10"}, "end", "The last day comes before the first day."),
        ({"outcome": "nonsense"}, "outcome", "Choose an outcome from the list."),
        ({"agent": "-3"}, "agent", "Choose an agent from the list."),
        ({"agent": "99999999999999999999"}, "agent", "Choose an agent from the list."),
        ({"language": "fr"}, "language", "Choose a language from the list."),
        ({"caller": "not a phone"}, "caller", "This is not a phone number."),
        ({"number": "12a4"}, "number", "A transaction number has digits only."),
        ({"number": "1" * 13}, "number", "at most 12 digits"),
    ],
)
def test_a_bad_filter_is_explained_by_its_field(app, calls, filters, field, message):
    page = search(logged_in_client(app, "sami"), **filters)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert message in html and f'id="{field}-error"' in html
    assert row_ids(html) == []  # no results that quietly ignore a filter


def test_an_unknown_search_or_page_link_shows_the_first_page(app, calls):
    client = logged_in_client(app, "sami")
    for url in [
        "/console/calls?q=gone-away",
        "/console/calls?q=%00%ff",
        "/console/calls?older=abc",
        "/console/calls?newer=1-2-3",
        "/console/calls?older=99999999999999999999999-1",
    ]:
        page = client.get(url)
        assert page.status_code == 200, url
        assert len(row_ids(page.get_data(as_text=True))) == 4, url


@pytest.fixture
def many_calls(app, staff):
    """125 calls a minute apart, the last four sharing one start time (their ids break the tie)."""
    with app.app_context():
        calls = []
        for n in range(125):
            minute = min(n, 121)
            calls.append(add_call(f"2025-03-10 {8 + minute // 60:02d}:{minute % 60:02d}:00", commit=False))
        db.session.commit()
        # Newest first; equal start times newest id first.
        return [c.id for c in sorted(calls, key=lambda c: (c.started_at, c.id), reverse=True)]


def test_keyset_pages_walk_every_call_once_both_ways(app, many_calls):
    client = logged_in_client(app, "sami")
    html = client.get("/console/calls").get_data(as_text=True)
    pages = [row_ids(html)]
    seen = list(pages[0])
    assert not NEWER.search(html)
    while OLDER.search(html):
        html = client.get(link(OLDER, html)).get_data(as_text=True)
        pages.append(row_ids(html))
        seen += pages[-1]
    assert [len(p) for p in pages] == [50, 50, 25]
    assert seen == many_calls
    html = client.get(link(NEWER, html)).get_data(as_text=True)
    assert row_ids(html) == pages[1]
    html = client.get(link(NEWER, html)).get_data(as_text=True)
    assert row_ids(html) == pages[0] and not NEWER.search(html)


def test_a_page_is_a_fixed_number_of_queries(app, many_calls):
    """No query per row: the agent and the letter come in the same SELECT (the page's other
    statements: the user, the audit entry, the supervisors' notices)."""
    client = logged_in_client(app, "sami")
    client.get("/console/calls")  # warm up (login, first compile)
    with counting(app) as statements:
        assert client.get("/console/calls").status_code == 200
    assert len(statements) <= 5, statements


@contextmanager
def counting(app):
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, *args):
        statements.append(statement.split()[0:6])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_cursor_reads_back_what_it_wrote():
    moment = local("2025-03-10 09:20:00.123456")
    assert Cursor.decode(Cursor(moment, 42).encode()) == Cursor(moment, 42)
    for bad in ["", "-", "1-", "-1", "a-1", "1-b", "1.5-2", "1-2-3", "9" * 30 + "-1"]:
        with pytest.raises(ValueError):
            Cursor.decode(bad)


def test_the_domain_query_pages_without_the_console(app, many_calls):
    with app.app_context():
        first = call_log_page(CallFilters(), tz_name="Asia/Baghdad", size=10)
        second = call_log_page(CallFilters(), tz_name="Asia/Baghdad", size=10, cursor=first.older)
        assert [r.id for r in first.rows + second.rows] == many_calls[:20]
        assert first.newer is None and second.newer == Cursor(second.rows[0].started_at, second.rows[0].id)
        empty = call_log_page(CallFilters(start=date(2030, 1, 1)), tz_name="Asia/Baghdad")
        assert empty.rows == [] and empty.older is None and empty.newer is None


FILTER_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.fixed_dictionaries(
        {},
        optional={name: FILTER_TEXT for name in ("start", "end", "outcome", "agent", "language", "caller", "number")},
    )
)
def test_no_filter_text_makes_a_server_error(app, staff, values):
    client = logged_in_client(app, "sami")
    response = search(client, **values)
    assert response.status_code in {200, 422}, (values, response.status_code)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=FILTER_TEXT, older=FILTER_TEXT, newer=FILTER_TEXT)
def test_no_page_link_makes_a_server_error(app, staff, q, older, newer):
    client = logged_in_client(app, "sami")
    response = client.get("/console/calls", query_string={"q": q, "older": older, "newer": newer})
    assert response.status_code == 200
    assert post_form(client, "/console/calls.csv", {"q": q}).status_code in {200, 303}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=FILTER_TEXT, agent=FILTER_TEXT, outcome=FILTER_TEXT, language=FILTER_TEXT, q=FILTER_TEXT)
def test_no_shared_link_makes_a_server_error(app, staff, start, agent, outcome, language, q):
    client = logged_in_client(app, "sami")
    values = {"start": start, "agent": agent, "outcome": outcome, "language": language, "q": q}
    assert client.get("/console/calls", query_string=values).status_code in {200, 422}
    assert post_form(client, "/console/calls.csv", values).status_code in {200, 303}


# --- one call's timeline ---------------------------------------------------------------------


@pytest.fixture
def walked_call(app, staff):
    with app.app_context():
        dana = add_user("dana", Role.agent, display_name="Dana Karim")
        call = add_call(
            "2025-03-10 09:20:00",
            language="en",
            outcome=Outcome.agent_answered,
            queued_after=40,
            answered_after=20,
            talk=150,
            wrap=30,
            agent=dana,
            survey=5,
            disposition="status_given",
            notes="Asked about the Finance reply.\nCall again Sunday.",
            queue_result="redirected",
            ended_after=240,
        )
        add_step(call, "incoming", result="greeted", spoken=["welcome", "language_option.ar"])
        add_step(call, "language", digits="3", result="en", spoken=["main_menu"], after=5)
        add_step(call, "number", digits="1234", result="readback", spoken=["readback_number"], after=15)
        add_step(call, "menu", digits="0", result="queued", spoken=["transfer"], after=39)
        return call.id


def test_the_timeline_shows_every_step_prompt_and_milestone(app, walked_call):
    page = logged_in_client(app, "sami").get(f"/console/calls/{walked_call}/timeline")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    order = [
        "Call answered",
        "Language chosen",
        "Letter number keyed",
        "Main menu",
        "Entered the agents&#39; queue",
        "Taken by an agent",
        "Left the queue",
        "Answered by the agent",
        "Agent&#39;s leg ended",
        "Wrapped up",
        "Call ended",
    ]
    positions = [html.index(words) for words in order]
    assert positions == sorted(positions)
    for once in ("Taken by an agent", "Left the queue", "Call ended"):  # each milestone once, not twice
        assert html.count(once) == 1, once
    assert "Welcome to 5599" in html and "For Arabic, press 1." in html  # the prompt as spoken
    assert "You entered …. If this is correct, press 1." in html  # the number is not kept: …
    assert '<span class="num keys" dir="ltr">1234</span>' in html
    assert "Dana Karim" in html and "Status given" in html and "Call again Sunday." in html
    assert "redirected" in html


def test_the_timeline_speaks_the_supervisors_language(app, walked_call):
    with app.app_context():
        add_user("rezan", Role.supervisor, language="ar")
    html = logged_in_client(app, "rezan").get(f"/console/calls/{walked_call}/timeline").get_data(as_text=True)
    assert "أهلاً" in html or "مرحب" in html


def test_secret_steps_show_no_keys(app, walked_call, monkeypatch):
    monkeypatch.setattr(domain.calls.timeline, "SECRET_STEPS", frozenset({"number"}))
    html = logged_in_client(app, "sami").get(f"/console/calls/{walked_call}/timeline").get_data(as_text=True)
    assert ">1234<" not in html and "••••" in html


def test_viewing_a_timeline_is_audited(app, walked_call):
    client = logged_in_client(app, "sami")
    client.get(f"/console/calls/{walked_call}/timeline")
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "view_call")).all()
        assert [(e.target_type, e.target_id) for e in entries] == [("call", str(walked_call))]


def test_an_unknown_call_has_no_timeline(app, staff):
    assert logged_in_client(app, "sami").get("/console/calls/999999/timeline").status_code == 404


def test_agents_may_not_open_the_log(app, calls):
    client = logged_in_client(app, "aya")
    assert client.get("/console/calls").status_code == 403
    assert client.get(f"/console/calls/{calls['answered']}/timeline").status_code == 403
    assert post_form(client, "/console/calls.csv").status_code == 403


def test_the_timeline_shows_the_sms_sent_and_the_subscription(app, walked_call):
    from models import Call, SmsKind, SmsMessage, SmsStatus, Subscription

    with app.app_context():
        call = db.session.get(Call, walked_call)
        letter = add_letter("1234")
        db.session.add_all(
            [
                SmsMessage(
                    idempotency_key="k1",
                    to_phone="+9647501234567",
                    body="private words",
                    language="en",
                    kind=SmsKind.status,
                    status=SmsStatus.delivered,
                    call_id=call.id,
                    created_at=call.started_at + timedelta(seconds=30),
                ),
                Subscription(
                    phone="+9647501234567",
                    transaction_id=letter.id,
                    language="en",
                    call_id=call.id,
                    created_at=call.started_at + timedelta(seconds=31),
                ),
            ]
        )
        db.session.commit()
    html = logged_in_client(app, "sami").get(f"/console/calls/{walked_call}/timeline").get_data(as_text=True)
    sms = html.split('data-kind="sms"')[1].split("</li>")[0]
    assert "the letter&#39;s status, asked for in the IVR" in sms and "delivered" in sms
    assert "0750 123 4567" in sms
    assert "private words" not in html  # the message's text stays in the outbox
    assert 'data-kind="subscribed"' in html
    assert html.index("Letter number keyed") < html.index('data-kind="sms"') < html.index("Main menu")


def test_a_moment_both_a_step_and_the_call_row_record_is_listed_once():
    from datetime import datetime, timezone

    from domain.calls.timeline import Entry, once_each

    at = datetime(2026, 1, 1, 9, tzinfo=timezone.utc)
    entries = [
        Entry(at, "step", step="agent_take", result="connected:agent:3"),
        Entry(at, "taken", detail={"agent": "Dana"}),
        Entry(at, "step", step="queue_left", result="redirected", prompts=("goodbye",)),
        Entry(at, "queue_left", result="redirected"),
        Entry(at, "step", step="agent_done", result="ended:completed"),
        Entry(at, "agent_ended"),
        Entry(at, "step", step="status", result="completed"),
        Entry(at, "ended", result="completed", detail={"duration_s": 42}),
        Entry(at, "step", step="agent_take", result="failed:agent:4"),  # a failed take has no milestone
    ]
    kept = [(entry.kind, entry.step) for entry in once_each(entries)]
    assert kept == [
        ("taken", None),
        ("step", "queue_left"),
        ("step", "agent_done"),
        ("ended", None),
        ("step", "agent_take"),
    ]


def test_the_timelines_sms_not_sent_says_the_real_reason(app, walked_call):
    from models import Call, SmsKind, SmsMessage, SmsStatus

    with app.app_context():
        call = db.session.get(Call, walked_call)
        db.session.add(
            SmsMessage(
                idempotency_key="k-demo",
                to_phone="+9647501234567",
                body="private words",
                language="en",
                kind=SmsKind.agent,
                status=SmsStatus.suppressed,
                error="demo letter",
                call_id=call.id,
                created_at=call.started_at + timedelta(seconds=30),
            )
        )
        db.session.commit()
    html = logged_in_client(app, "sami").get(f"/console/calls/{walked_call}/timeline").get_data(as_text=True)
    sms = html.split('data-kind="sms"')[1].split("</li>")[0]
    assert "not sent" in sms and "this is a demonstration letter" in sms
    assert "switched off" not in sms  # SMS is on: this letter is the demo's


def test_a_filtered_link_can_be_shared_with_another_supervisor(app, calls):
    response = post_form(
        logged_in_client(app, "sami"), "/console/calls", {"agent": str(calls["dana"]), "language": "ckb"}
    )
    location = response.headers["Location"]
    assert "q=" not in location  # nothing private: the filters are the link
    with app.app_context():
        add_user("sara", Role.supervisor)
    page = logged_in_client(app, "sara").get(location)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "not kept" not in html
    assert row_ids(html) == [calls["answered"]]
    # a caller's number stays out of the link: another session gets the rest of the filters, and is told
    private = post_form(
        logged_in_client(app, "sami"), "/console/calls", {"agent": str(calls["dana"]), "caller": "0750 111 2222"}
    )
    html = logged_in_client(app, "sara").get(private.headers["Location"]).get_data(as_text=True)
    assert "are not kept in links; the other filters apply" in html and row_ids(html) == [calls["answered"]]


@pytest.mark.parametrize("page", ["/console/calls", "/console/audit", "/console/kpis", "/console/complaint-report"])
def test_day_filters_are_typed_day_first_not_a_native_month_first_picker(app, calls, page):
    """A native date picker writes the browser's order (month first in en-US) beside the
    console's day/month/year: the filters are text, day first (ISO is still read)."""
    client = logged_in_client(app, "sami")
    html = client.get(page).get_data(as_text=True)
    assert 'type="date"' not in html
    assert re.search(r'inputmode="numeric" autocomplete="off" placeholder="[^"]+" name="start"', html)
