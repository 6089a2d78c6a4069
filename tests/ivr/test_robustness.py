"""Does a voice route always answer valid TwiML, whatever arrives and whatever breaks?"""

from __future__ import annotations

import logging
import re
import time
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import event

from config import Hours
from extensions import db
from factory import create_app
from tests.support.ivr import Answer, table_locked
from tests.support.webhooks import AUTH_TOKEN, PUBLIC_BASE_URL, Twilio

ACTION_URLS = [
    "/ivr/voice",
    "/ivr/language?lang=ar&s=1",
    "/ivr/menu?lang=en&s=2",
    "/ivr/number?lang=ckb&s=3&t=2",
    "/ivr/number/confirm?lang=en&s=4&n=1234",
    "/ivr/date?lang=ar&s=5&n=1234",
    "/ivr/date/confirm?lang=en&s=6&n=1234&d=2024-03-15",
    "/ivr/direction?lang=en&s=7&n=1234&d=2024-03-15",
    "/ivr/result?lang=en&s=8&tx=1",
    "/ivr/not-found?lang=en&s=8",
    "/ivr/callback?lang=ar&s=9",
    "/ivr/queue/left?lang=en&s=9",
    "/ivr/queue/wait?lang=en",
    "/ivr/status",
    "/ivr/fallback",
]
# Query strings Twilio would never send but a broken proxy or a hand-made URL might.
ODD_URLS = [
    "/ivr/number/confirm?lang=xx&s=-4&n=abc",
    "/ivr/date?n=",
    "/ivr/date/confirm?n=1234&d=2024-02-30",
    "/ivr/result?tx=99999999999999999999999",
    "/ivr/menu?t=9999999999&s=nan",
    "/ivr/direction?n=1234&d=not-a-date",
    "/ivr/language?lang=%00",
]
digits = st.one_of(
    st.text(alphabet="0123456789*#", max_size=40),
    st.text(max_size=20),
    st.sampled_from(["", "1", "0", "9", "#", "*", "00000000", "31122099", "29022023", "1" * 13]),
)


def assert_valid_twiml(response):
    assert response.status_code == 200, response.data
    root = ET.fromstring(response.data)
    assert root.tag == "Response"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    url=st.sampled_from(ACTION_URLS + ODD_URLS),
    keys=digits,
    extra=st.dictionaries(
        st.sampled_from(["QueuePosition", "QueueResult", "CallDuration", "CallStatus"]),
        st.text(max_size=12),
        max_size=3,
    ),
)
def test_any_digits_on_any_action_url_give_valid_twiml(client, url, keys, extra):
    response = Twilio(client).post(url, Digits=keys, **extra)
    assert_valid_twiml(response)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(caller=st.text(max_size=25), sid=st.text(min_size=0, max_size=80))
def test_any_caller_id_and_call_sid_give_valid_twiml(client, caller, sid):
    assert_valid_twiml(Twilio(client, sid=sid, caller=caller).post("/ivr/voice"))


def broken_app(database_url: str, **extra):
    return create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "AGENT_HOURS": Hours.parse("00:00-24:00"),
            **extra,
        }
    )


@pytest.mark.parametrize(
    "broken_url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
        "sqlite:////nonexistent-folder/hotline.sqlite3",
    ],
)
def test_database_down_means_an_apology_and_an_agent(broken_url):
    app = broken_app(broken_url)
    started = time.monotonic()
    answer = Answer.of(Twilio(app.test_client()).post("/ivr/menu?lang=en&s=2", Digits="1"))
    assert time.monotonic() - started < 5
    assert "We are sorry, we cannot complete your request right now." in answer.text
    assert answer.enqueued is not None


def test_database_down_after_agent_hours_ends_politely():
    app = broken_app("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", AGENT_HOURS=Hours.parse("00:00-00:00"))
    answer = Answer.of(Twilio(app.test_client()).post("/ivr/voice"))
    assert answer.hung_up and "نعتذر" in answer.text


def test_fallback_answers_with_the_database_down():
    app = broken_app("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    answer = Answer.of(Twilio(app.test_client()).post("/ivr/fallback"))
    assert answer.hung_up


def test_a_stalled_database_is_cut_off_by_the_statement_timeout(database_url):
    """A table lock held elsewhere stalls the call's writes; the caller still hears TwiML in time."""
    if not database_url.startswith("postgresql"):
        pytest.skip("statement timeouts are a PostgreSQL setting; this runs in the PostgreSQL pass")
    app = broken_app(database_url, DB_STATEMENT_TIMEOUT_MS=500)
    with table_locked(database_url, "call", hold_s=10):
        started = time.monotonic()
        answer = Answer.of(Twilio(app.test_client(), sid="CA" + "8" * 32).post("/ivr/voice"))
        assert time.monotonic() - started < 3
        assert "نعتذر" in answer.text and answer.enqueued is not None


@pytest.mark.parametrize("failing_sql", [r'FROM "?transaction"? ', r"INSERT INTO call "])
def test_a_failed_statement_logs_no_caller_number_or_letter_number(app, client, caplog, monkeypatch, failing_sql):
    """A stall once logged the caller's number and the letter asked for: SQL errors hide their parameters."""
    with app.app_context():
        engine = db.engine
    dbapi_error = engine.dialect.loaded_dbapi.OperationalError

    def stall(conn, cursor, statement, parameters, context, executemany):
        if re.search(failing_sql, statement):
            raise dbapi_error("canceling statement due to statement timeout")

    monkeypatch.setattr(logging.getLogger("ivr.steps"), "disabled", False)  # Alembic's fileConfig turned it off
    event.listen(engine, "before_cursor_execute", stall)
    try:
        with caplog.at_level(logging.INFO):
            answer = Answer.of(
                Twilio(client, caller="+9647701112233").post(
                    "/ivr/date/confirm?lang=en&s=6&n=86420&d=2024-03-15", Digits="1"
                )
            )
    finally:
        event.remove(engine, "before_cursor_execute", stall)
    assert "We are sorry" in answer.text
    assert re.search(failing_sql, caplog.text)  # the statement is logged, to know what failed
    assert "86420" not in caplog.text and "7701112233" not in caplog.text
