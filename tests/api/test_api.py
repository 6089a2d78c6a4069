"""Does the records office's API accept good letters once, refuse bad ones clearly, and guard its door?"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from domain.sms import subscribe
from domain.staff.api_tokens import create_token, token_hash
from extensions import db
from models import ApiToken, SmsKind, SmsMessage, Status, Subscription, Transaction, TransactionEvent
from tests.support.api import letter


def post(client, body, headers, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post("/api/v1/transactions", data=data, headers=headers, content_type=content_type)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


# --- the door ------------------------------------------------------------------------


def test_no_token_bad_token_and_revoked_token_get_401(client, runner, app_context):
    assert client.get("/api/v1/transactions?number=1&date=2024-01-01").status_code == 401
    bad = {"Authorization": "Bearer h5599_not-a-token"}
    assert client.get("/api/v1/transactions?number=1&date=2024-01-01", headers=bad).status_code == 401
    assert post(client, letter(), {"Authorization": "Basic Zm9vOmJhcg=="}).status_code == 401

    made = runner.invoke(args=["api-tokens", "create", "dms"])
    assert made.exit_code == 0
    secret = made.stdout.strip().splitlines()[0]
    headers = {"Authorization": f"Bearer {secret}"}
    assert post(client, letter(), headers).status_code == 200
    assert "dms" in runner.invoke(args=["api-tokens", "list"]).output
    assert runner.invoke(args=["api-tokens", "revoke", "dms"]).exit_code == 0
    refused = post(client, letter(status="replied"), headers)
    assert refused.status_code == 401 and refused.json["error"] == "unauthorized"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert runner.invoke(args=["api-tokens", "revoke", "dms"]).exit_code == 1


def test_tokens_are_stored_hashed_and_names_are_unique(runner, app_context):
    secret = create_token("office-a")
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.token_hash == token_hash(secret) and secret not in (stored.token_hash, stored.prefix)
    again = runner.invoke(args=["api-tokens", "create", "office-a"])
    assert again.exit_code == 1 and "exists" in again.output


# --- letters in ----------------------------------------------------------------------


def test_one_letter_is_created_then_unchanged_then_updated(client, auth):
    first = post(client, letter(), auth)
    assert first.status_code == 200 and first.json == {"added": 1, "updated": 0, "unchanged": 0, "notifications": 0}
    assert post(client, letter(), auth).json["unchanged"] == 1  # the same request again changes nothing
    changed = post(client, letter(status="replied", status_date="2024-05-01"), auth)
    assert changed.json["updated"] == 1
    assert count(Transaction) == 1 and count(TransactionEvent) == 2
    stored = db.session.scalars(select(Transaction)).one()
    assert stored.status == Status.replied and stored.citizen_phone == "+9647501234567"


def test_a_batch_is_all_or_nothing_and_names_index_and_field(client, auth):
    batch = [letter(number="1"), letter(number="2", status="lost"), letter(number="3", date="2024-02-30")]
    refused = post(client, batch, auth)
    assert refused.status_code == 422
    assert refused.json["index"] == 1 and refused.json["field"] == "status"
    assert {(e["index"], e["field"]) for e in refused.json["errors"]} == {(1, "status"), (2, "date")}
    assert count(Transaction) == 0
    accepted = post(client, [letter(number="1"), letter(number="2")], auth)
    assert accepted.json["added"] == 2


def test_errors_name_the_field_of_a_single_letter(client, auth):
    for bad, field in [
        ({"holder": "Ministry of Finance"}, "holder"),
        ({"number": "12a"}, "number"),
        ({"status_date": "2024-01-01"}, "status_date"),
        ({"phone": "call me"}, "phone"),
        ({"colour": "red"}, "colour"),
        ({"subject": ["a"]}, "subject"),
    ]:
        answer = post(client, letter(**bad), auth)
        assert answer.status_code == 422, bad
        assert answer.json["field"] == field and "index" not in answer.json
        assert field in answer.json["message"]
    missing = {k: v for k, v in letter().items() if k != "status"}
    assert post(client, missing, auth).json["field"] == "status"


def test_the_same_letter_twice_in_a_batch_is_refused(client, auth):
    answer = post(client, [letter(), letter(status="replied")], auth)
    assert answer.status_code == 422 and answer.json["index"] == 1


def test_bodies_that_are_not_letters(client, auth, app):
    assert post(client, "{not json", auth).status_code == 400
    assert post(client, "42", auth).json["error"] == "bad_body"
    assert post(client, "[]", auth).json["error"] == "empty_batch"
    assert post(client, "number=1", auth, content_type="application/x-www-form-urlencoded").status_code == 415
    too_many = [letter(number=str(n)) for n in range(app.config["API_BATCH_MAX"] + 1)]
    answer = post(client, too_many, auth)
    assert answer.status_code == 413 and answer.json["error"] == "batch_too_large"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
fields = st.sampled_from(
    [
        "number",
        "date",
        "direction",
        "subject",
        "sender",
        "recipient",
        "holder",
        "status",
        "status_date",
        "phone",
        "other",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=json_values
    | st.dictionaries(fields, json_values | st.text(), max_size=10)
    | st.builds(lambda changes: letter(**changes), st.dictionaries(fields, st.text(max_size=40), max_size=3))
)
def test_no_body_gets_a_500(client, auth, body):
    answer = post(client, body, auth)
    assert answer.status_code in {200, 400, 413, 422}, answer.data
    assert answer.is_json and ("error" in answer.json) == (answer.status_code != 200)
    db.session.rollback()


# --- one letter out ------------------------------------------------------------------


def test_get_reads_one_letter_or_both_directions(client, auth):
    post(client, [letter(), letter(direction="to_region", status="received")], auth)
    both = client.get("/api/v1/transactions?number=5501&date=2024-03-15", headers=auth)
    assert both.status_code == 200
    assert [t["direction"] for t in both.json["transactions"]] == ["to_federal", "to_region"]
    assert both.json["transactions"][0]["holder"] == "وزارة المالية الاتحادية"
    assert client.get("/api/v1/transactions?number=5501&date=2024-03-16", headers=auth).status_code == 404
    missing = client.get("/api/v1/transactions?number=5501", headers=auth)
    assert missing.status_code == 400 and missing.json["field"] == "date"
    assert client.get("/api/v1/transactions?number=x&date=2024-03-15", headers=auth).json["field"] == "number"
    assert client.get("/api/v1/transactions?number=1&date=15-03-2024", headers=auth).json["field"] == "date"


# --- subscribers hear of changes -----------------------------------------------------


def subscribed(phone="+9647501234567", language="ar") -> Subscription:
    found = db.session.scalars(select(Transaction)).one()
    subscription = subscribe(phone=phone, transaction=found, language=language)
    db.session.commit()
    return subscription


def test_a_status_change_notifies_each_subscriber_once(client, auth, sms_api):
    post(client, letter(), auth)
    subscribed("+9647501234567", "ar")
    subscribed("+9647701234567", "en")
    answer = post(client, letter(status="replied", status_date="2024-05-01"), auth)
    assert answer.json["notifications"] == 2
    post(client, letter(status="replied", status_date="2024-05-01"), auth)  # resent: no change
    assert count(SmsMessage) == 2
    messages = db.session.scalars(select(SmsMessage).order_by(SmsMessage.to_phone)).all()
    assert all(m.kind == SmsKind.notification for m in messages)
    assert "تم الرد عليه" in messages[0].body and "answered" in messages[1].body
    assert len(sms_api.messages_sent()) == 2  # inline here; a worker in production


def test_a_holder_change_notifies_but_a_subject_change_does_not(client, auth, sms_api):
    post(client, letter(), auth)
    subscribed()
    assert post(client, letter(subject="موضوع آخر"), auth).json["notifications"] == 0
    assert post(client, letter(holder="وزارة التخطيط الاتحادية"), auth).json["notifications"] == 1


def test_an_inactive_subscription_gets_nothing(client, auth, sms_api):
    post(client, letter(), auth)
    subscribed().active = False
    db.session.commit()
    assert post(client, letter(status="returned"), auth).json["notifications"] == 0
