"""Does the app's development Twilio stand-in answer the app's real twilio client as Twilio would,
record what it was asked in the database, and exist nowhere but in development and testing?"""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException

from config import Config
from extensions import db
from factory import create_app
from models import DevTwilioCall, DevTwilioRequest
from simulator.engine import FlaskTransport, SimulatedCall
from telephony.rest import twilio_client

# An agent is on duty: a caller who presses 0 is queued (with nobody, the IVR offers a callback).
pytestmark = pytest.mark.usefixtures("someone_on_duty")


ACCOUNT = "AC" + "0" * 32


def enqueued_call(app) -> SimulatedCall:
    """A simulated caller who asked for an agent and waits in the queue (a live call)."""
    call = SimulatedCall(FlaskTransport(app))
    call.start()
    call.press("3")
    turn = call.press("0")
    assert turn.enqueued
    return call


def recorded() -> list[DevTwilioRequest]:
    db.session.expire_all()
    return list(db.session.scalars(select(DevTwilioRequest).order_by(DevTwilioRequest.id)))


def calls_url(base: str, sid: str | None = None) -> str:
    return f"{base}/2010-04-01/Accounts/{ACCOUNT}/Calls" + (f"/{sid}.json" if sid else ".json")


# --- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, (ACCOUNT, "wrong-token"), ("AC" + "1" * 32, "test-auth-token")])
def test_a_request_without_the_account_sid_and_auth_token_is_refused_like_twilio(app, app_context, dev_twilio, auth):
    response = requests.post(
        calls_url(dev_twilio, "CA" + "1" * 32), data={"Url": "https://x.test/"}, auth=auth, timeout=5
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.json()["code"] == 20003
    [entry] = recorded()
    assert (entry.status_code, entry.error_code, entry.operation) == (401, 20003, "calls.update")
    assert entry.form is None  # what an unauthenticated client sent is not kept


def test_the_twilio_client_with_the_apps_credentials_gets_in(app, app_context, dev_twilio):
    call = enqueued_call(app)
    updated = (
        twilio_client()
        .calls(call.sid)
        .update(url="https://hotline.example.test/ivr/agent/connect?call=1", method="POST")
    )
    assert updated.sid == call.sid and updated.status == "in-progress"
    assert updated.account_sid == ACCOUNT and updated.direction == "inbound"


# --- calls(sid).update ---------------------------------------------------------------------


def test_a_redirect_of_a_live_call_is_answered_and_recorded(app, app_context, dev_twilio):
    call = enqueued_call(app)
    url = "https://hotline.example.test/ivr/agent/connect?call=7"
    twilio_client().calls(call.sid).update(url=url, method="POST")

    [entry] = recorded()
    assert entry.method == "POST" and entry.operation == "calls.update" and entry.action == "redirect"
    assert entry.path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{call.sid}.json"
    assert entry.call_sid == call.sid and entry.status_code == 200
    assert entry.form == {"Url": url, "Method": "POST"}


def test_an_unknown_call_is_not_found_20404(app, app_context, dev_twilio):
    with pytest.raises(TwilioRestException) as refused:
        twilio_client().calls("CA" + "9" * 32).update(url="https://hotline.example.test/ivr/voice")
    assert (refused.value.status, refused.value.code) == (404, 20404)
    assert recorded()[-1].error_code == 20404


def test_a_call_that_has_ended_cannot_be_redirected_21220(app, app_context, dev_twilio):
    call = enqueued_call(app)
    call.hang_up()  # the status callback marks the call ended, as Twilio knows it is
    with pytest.raises(TwilioRestException) as refused:
        twilio_client().calls(call.sid).update(url="https://hotline.example.test/ivr/agent/connect?call=1")
    assert (refused.value.status, refused.value.code) == (400, 21220)
    assert "not in-progress" in refused.value.msg
    entry = recorded()[-1]
    assert (entry.status_code, entry.error_code, entry.call_sid) == (400, 21220, call.sid)


def test_status_completed_hangs_up_and_then_the_call_is_gone_for_redirects(app, app_context, dev_twilio):
    call = enqueued_call(app)
    ended = twilio_client().calls(call.sid).update(status="completed")
    assert ended.status == "completed"
    assert recorded()[-1].action == "hangup"
    with pytest.raises(TwilioRestException) as refused:
        twilio_client().calls(call.sid).update(twiml="<Response><Hangup/></Response>")
    assert refused.value.code == 21220


def test_inline_twiml_is_accepted_and_a_bad_url_or_status_is_refused(app, app_context, dev_twilio):
    call = enqueued_call(app)
    twilio_client().calls(call.sid).update(twiml="<Response><Say>Hello</Say></Response>")
    assert recorded()[-1].action == "twiml"
    with pytest.raises(TwilioRestException) as bad_url:
        twilio_client().calls(call.sid).update(url="not a url")
    assert bad_url.value.code == 21205
    with pytest.raises(TwilioRestException) as bad_status:
        twilio_client().calls(call.sid).update(status="ringing")
    assert bad_status.value.status == 400


def test_a_call_can_be_fetched(app, app_context, dev_twilio):
    call = enqueued_call(app)
    fetched = twilio_client().calls(call.sid).fetch()
    assert fetched.status == "in-progress" and fetched._from == call.caller


# --- calls.create ----------------------------------------------------------------------------


def test_a_placed_call_is_queued_and_rings_until_answered(app, app_context, dev_twilio):
    placed = twilio_client().calls.create(
        to="+9647701112233",
        from_="+9645599",
        method="POST",
        url="https://hotline.example.test/ivr/callback/connect?callback=3",
    )
    assert placed.status == "queued" and placed.direction == "outbound-api"
    assert placed.sid.startswith("CA") and len(placed.sid) == 34

    row = db.session.scalar(select(DevTwilioCall).where(DevTwilioCall.sid == placed.sid))
    assert (row.to_phone, row.from_phone, row.status) == ("+9647701112233", "+9645599", "queued")
    assert row.url.endswith("/ivr/callback/connect?callback=3")
    [entry] = recorded()
    assert (entry.operation, entry.status_code, entry.resource_sid) == ("calls.create", 201, placed.sid)
    assert twilio_client().calls(placed.sid).fetch().status == "queued"


@pytest.mark.parametrize("missing, code", [("to", 21201), ("from_", 21213), ("url", 21205)])
def test_a_call_without_to_from_or_url_is_refused(app, app_context, dev_twilio, missing, code):
    options = {"to": "+9647701112233", "from_": "+9645599", "url": "https://hotline.example.test/ivr/voice"}
    options[missing] = ""
    with pytest.raises(TwilioRestException) as refused:
        twilio_client().calls.create(**options)
    assert (refused.value.status, refused.value.code) == (400, code)


# --- messages ----------------------------------------------------------------------------------


def test_a_message_is_queued_recorded_and_listed(app, app_context, dev_twilio):
    sent = twilio_client().messages.create(
        to="+9647701112233",
        from_="5599",
        body="Letter 1234: forwarded",
        status_callback="https://hotline.example.test/sms/status?m=1",
    )
    assert sent.sid.startswith("SM") and sent.status == "queued" and sent.body == "Letter 1234: forwarded"
    twilio_client().messages.create(to="+9647709998877", from_="5599", body="Another")

    [entry, _] = recorded()
    assert (entry.operation, entry.status_code, entry.resource_sid) == ("messages.create", 201, sent.sid)
    listed = twilio_client().messages.list(to="+9647701112233", limit=50)
    assert [m.sid for m in listed] == [sent.sid]
    assert listed[0].body == "Letter 1234: forwarded" and listed[0].date_created is not None


@pytest.mark.parametrize(
    "options, code",
    [
        ({"to": "", "from_": "5599", "body": "x"}, 21604),
        ({"to": "+9647701112233", "body": "x"}, 21603),
        ({"to": "+9647701112233", "from_": "5599", "body": ""}, 21602),
    ],
)
def test_a_message_without_to_from_or_body_is_refused(app, app_context, dev_twilio, options, code):
    with pytest.raises(TwilioRestException) as refused:
        twilio_client().messages.create(**options)
    assert refused.value.code == code


def test_another_account_or_an_unknown_resource_is_not_found(app, app_context, dev_twilio):
    auth = (ACCOUNT, app.config["TWILIO_AUTH_TOKEN"])
    other = requests.post(
        f"{dev_twilio}/2010-04-01/Accounts/AC{'1' * 32}/Calls.json",
        auth=auth,
        timeout=5,
        data={"To": "+1", "From": "+2", "Url": "https://x.test/"},
    )
    assert other.status_code == 404 and other.json()["code"] == 20404
    unknown = requests.get(f"{dev_twilio}/2010-04-01/Accounts/{ACCOUNT}/Recordings.json", auth=auth, timeout=5)
    assert unknown.status_code == 404 and unknown.json()["code"] == 20404


def test_the_records_are_in_the_database_for_every_worker(app, app_context, dev_twilio):
    """Another process (a second gunicorn worker) reads what this one recorded."""
    call = enqueued_call(app)
    twilio_client().calls(call.sid).update(url="https://hotline.example.test/ivr/agent/connect?call=1")
    from sqlalchemy import create_engine, text

    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM dev_twilio_request WHERE call_sid = :sid"), {"sid": call.sid}
        ).scalar()
    engine.dispose()
    assert count == 1


# --- production ---------------------------------------------------------------------------------


def production_settings(**overrides) -> dict:
    return {
        "APP_ENV": "production",
        "SECRET_KEY": "s" * 32,
        "TWILIO_AUTH_TOKEN": "t" * 32,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        **overrides,
    }


def test_production_has_no_twilio_stand_in():
    app = create_app(production_settings())
    assert not [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/dev/")]
    response = app.test_client().post(
        f"/dev/twilio/2010-04-01/Accounts/{ACCOUNT}/Calls.json", auth=(ACCOUNT, "t" * 32), data={"To": "+1"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:5599/dev/twilio", "https://hotline.example/dev/twilio/"])
def test_production_refuses_to_start_pointed_at_the_stand_in(base_url):
    with pytest.raises(RuntimeError, match="TWILIO_API_BASE_URL"):
        create_app(production_settings(TWILIO_API_BASE_URL=base_url))


def test_production_refuses_it_from_the_environment_too(monkeypatch):
    for name, value in production_settings(TWILIO_API_BASE_URL="http://127.0.0.1:5599/dev/twilio").items():
        monkeypatch.setenv("DATABASE_URL" if name == "SQLALCHEMY_DATABASE_URI" else name, value)
    with pytest.raises(RuntimeError, match="development Twilio stand-in"):
        create_app(Config())


def test_a_stand_in_left_registered_answers_404_outside_development(app, dev_twilio):
    """The second lock: even registered, the routes refuse when the app is not in development."""
    app.config["APP_ENV"] = "production"
    try:
        response = requests.post(
            calls_url(dev_twilio),
            auth=(ACCOUNT, app.config["TWILIO_AUTH_TOKEN"]),
            data={"To": "+1", "From": "+2", "Url": "https://x.test/"},
            timeout=5,
        )
    finally:
        app.config["APP_ENV"] = "testing"
    assert response.status_code == 404 and response.json()["code"] == 20404
    with app.app_context():
        assert recorded() == []


def test_a_placed_call_nobody_answers_stops_ringing_after_its_timeout(app, app_context, dev_twilio):
    from datetime import timedelta

    from simulator.twilio_api import ringing_calls

    placed = twilio_client().calls.create(
        to="+9647701112233",
        from_="+9645599",
        timeout=5,
        url="https://hotline.example.test/ivr/callback/connect?callback=3",
    )
    assert [row.sid for row in ringing_calls()] == [placed.sid]
    row = db.session.scalar(select(DevTwilioCall).where(DevTwilioCall.sid == placed.sid))
    row.created_at -= timedelta(seconds=6)
    db.session.commit()
    assert ringing_calls() == []
    assert twilio_client().calls(placed.sid).fetch().status == "no-answer"


def test_deleting_a_call_is_not_allowed(app, app_context, dev_twilio):
    call = enqueued_call(app)
    response = requests.delete(
        calls_url(dev_twilio, call.sid), auth=(ACCOUNT, app.config["TWILIO_AUTH_TOKEN"]), timeout=5
    )
    assert response.status_code == 405 and response.json()["code"] == 20004


# --- conferences and participants (call control) ---------------------------------------------


def test_participants_are_added_held_muted_and_removed_and_each_request_is_recorded(app, app_context, dev_twilio):
    call = enqueued_call(app)
    client = twilio_client()
    added = client.conferences("hotline-call-1").participants.create(
        from_="+9645599", to="client:amira?callId=1", label="agent", end_conference_on_exit=True
    )
    assert added.conference_sid.startswith("CF") and added.call_sid.startswith("CA") and added.label == "agent"
    again = client.conferences("hotline-call-1").participants.create(from_="+9645599", to="client:bilal")
    assert again.conference_sid == added.conference_sid  # one conference per name

    conference = client.conferences(added.conference_sid)
    held = conference.participants(call.sid).update(hold=True, hold_url="https://hotline.example.test/ivr/h")
    assert held.hold is True
    assert conference.participants(added.call_sid).update(muted=True).muted is True
    assert conference.participants(again.call_sid).delete() is True
    with pytest.raises(TwilioRestException) as refused:
        conference.participants(again.call_sid).update(hold=True)  # gone: as Twilio, 404
    assert refused.value.status == 404

    entries = recorded()
    assert [(e.operation, e.action, e.status_code) for e in entries] == [
        ("participants.create", "add", 201),
        ("participants.create", "add", 201),
        ("participants.update", "hold", 200),
        ("participants.update", "muted", 200),
        ("participants.delete", "remove", 204),
        ("participants.update", None, 404),
    ]
    assert entries[2].call_sid == call.sid and entries[2].form["Hold"] == "true"
    placed = db.session.scalar(select(DevTwilioCall).where(DevTwilioCall.sid == again.call_sid))
    assert placed.status == "completed"


def test_a_recording_is_served_as_a_small_mp3_with_byte_ranges_until_deleted(app, app_context, dev_twilio):
    sid = "RE" + "a" * 32
    url = f"{dev_twilio}/2010-04-01/Accounts/{ACCOUNT}/Recordings/{sid}"
    auth = (ACCOUNT, "test-auth-token")
    whole = requests.get(url + ".mp3", auth=auth, timeout=5)
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "audio/mpeg"
    assert whole.content[:2] == b"\xff\xfb" and 1000 < len(whole.content) < 100_000
    part = requests.get(url + ".mp3", auth=auth, headers={"Range": "bytes=0-99"}, timeout=5)
    assert part.status_code == 206 and part.content == whole.content[:100]
    assert requests.get(url + ".mp3", timeout=5).status_code == 401
    twilio_client().recordings(sid).delete()
    assert requests.get(url + ".mp3", auth=auth, timeout=5).status_code == 404
    assert [(e.operation, e.status_code) for e in recorded() if e.resource_sid == sid] == [
        ("recordings.media", 200),
        ("recordings.media", 200),  # served (a range of it)
        ("recordings.delete", 204),
        ("recordings.media", 404),
    ]
