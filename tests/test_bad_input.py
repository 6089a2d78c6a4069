"""Bad input the outside review sent, each answered with a clear 4xx (or the IVR's normal answer).

`tests/test_every_route.py` throws generated input at every route; these are the cases found.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from domain.staff.api_tokens import create_token
from extensions import db
from models import Call, CallbackRequest, CallbackStatus, Outcome, Role, User
from tests.support.console import PASSWORD, console_client, csrf_token, log_in, make_user
from tests.support.supervisor import add_call, add_callback
from tests.support.webhooks import PUBLIC_BASE_URL, Twilio, sign


@pytest.fixture
def admin(app):
    with app.app_context():
        make_user("walker", Role.admin)
        db.session.remove()
    client = console_client(app)
    log_in(client, "walker")
    return client


def test_a_nul_byte_in_the_login_username_is_a_400(app):
    client = console_client(app)
    response = client.post(
        "/console/login", data={"username": "ad\x00min", "password": "x", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 400


def test_cr_lf_in_next_after_a_good_login_leads_home(app):
    with app.app_context():
        make_user("walker", Role.admin)
    client = console_client(app)
    response = client.post(
        "/console/login",
        query_string={"next": "/console/search\r\nSet-Cookie: x=1"},
        data={"username": "walker", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/console/"


@pytest.mark.parametrize(
    "path, form",
    [
        ("/console/calls/{call}/notes", {"notes": "called\x00back", "disposition": "", "save": "Save"}),
        ("/console/callbacks/new", {"phone": "07501234567", "language": "ar", "note": "a\x00b"}),
        ("/console/callbacks/{callback}/close", {"status": "done", "note": "a\x00b"}),
        (
            "/console/agents/new",
            {
                "username": "sara",
                "display_name": "Sa\x00ra",
                "role": "agent",
                "language": "ar",
                "endpoint_kind": "client",
                "endpoint": "",
                "password": PASSWORD,
            },
        ),
        (
            "/console/agents/new",
            {
                "username": "sara",
                "display_name": "Sara",
                "role": "agent",
                "language": "ar",
                "endpoint_kind": "sip",
                "endpoint": "sip:sara\x00@pbx.example",
                "password": PASSWORD,
            },
        ),
    ],
)
def test_a_nul_byte_in_a_console_form_is_a_field_error_and_stores_nothing(app, admin, path, form):
    with app.app_context():
        call = add_call("2025-03-10 09:00:00")
        callback = add_callback("2025-03-10 09:05:00")
        ids = {"call": call.id, "callback": callback.id}
    response = admin.post(path.format(**ids), data={**form, "csrf_token": csrf_token(admin, "/console/")})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CallbackRequest)) == 1
        assert db.session.scalar(select(CallbackRequest.status)) == CallbackStatus.pending
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
        assert db.session.scalar(select(Call.notes)) is None


@pytest.mark.parametrize(
    "path",
    [
        "/console/calls/2147483648",
        "/console/transactions/99999999999999999999",
        "/console/calls/9223372036854775808/timeline",
        "/api/v1/imports/2147483648",
        "/console/studio/takes/2147483648.mp3",
        "/ivr/audio/ckb/welcome.mp3?v=99999999999999999999",
        "/ivr/audio/ckb/welcome.mp3?v=²",
    ],
)
def test_ids_past_the_id_columns_range_are_not_found(admin, path):
    assert admin.get(path).status_code in {401, 404}


def test_ten_kilobytes_of_brackets_are_bad_json(app, client):
    with app.app_context():
        token = create_token("records")
    response = client.post(
        "/api/v1/transactions",
        data="[" * 10_000,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400 and response.json["error"] == "bad_json"


def test_a_nul_byte_in_a_letter_is_named_as_its_fault(app, client):
    with app.app_context():
        token = create_token("records")
    letter = {
        "number": "5501",
        "date": "2024-03-15",
        "direction": "to_federal",
        "subject": "a\x00b",
        "sender": "وزارة المالية الاتحادية",
        "recipient": "وزارة المالية الاتحادية",
        "holder": "وزارة المالية الاتحادية",
        "status": "forwarded",
        "status_date": "2024-04-02",
    }
    response = client.post("/api/v1/transactions", json=letter, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 422 and response.json["field"] == "subject"


@pytest.mark.parametrize(
    "query, form",
    [
        ("m=%C2%B2", {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}),
        ("m=1", {"MessageSid": "SM\x00", "MessageStatus": "delivered"}),
        ("m=99999999999999999999", {"MessageStatus": "delivered"}),
    ],
)
def test_an_sms_status_callback_with_no_message_in_it_is_a_400(client, query, form):
    path = f"/sms/status?{query}"
    response = client.post(path, data=form, headers={"X-Twilio-Signature": sign(PUBLIC_BASE_URL + path, form)})
    assert response.status_code == 400


def test_an_out_of_range_letter_id_in_an_ivr_url_is_the_normal_answer(app, client):
    response = Twilio(client).post(f"/ivr/result?lang=en&s=8&tx={2**40}", Digits="1")
    assert response.status_code == 200 and b"<Gather" in response.data  # the result menu again
    with app.app_context():
        assert db.session.scalar(select(Call.outcome)) != Outcome.error
