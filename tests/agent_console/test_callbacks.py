"""Callbacks: the list, requests by hand, taking one (once), placing the call, closing it."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from domain.calls.callbacks import Placing, place_callback, take_callback
from extensions import db
from models import AuditEntry, Call, CallbackRequest, CallbackStatus, EndpointKind, Role, User
from tests.support.records import add_letter, add_user, logged_in_client, post_form
from tests.support.webhooks import PUBLIC_BASE_URL, Twilio

CALLER_ID = "+9645599000"


def add_callback(**fields) -> int:
    fields.setdefault("phone", "+9647501234567")
    fields.setdefault("language", "ckb")
    callback = CallbackRequest(**fields)
    db.session.add(callback)
    db.session.commit()
    return callback.id


def load(app, callback_id: int) -> CallbackRequest:
    with app.app_context():
        callback = db.session.get(CallbackRequest, callback_id)
        db.session.expunge(callback)
        return callback


@pytest.fixture
def ivr_callback(app):
    """A request the IVR made: a Kurdish caller who asked for letter 1234 and then for a callback."""
    with app.app_context():
        letter = add_letter()
        call = Call(sid="CA" + "5" * 32, caller="+9647501234567", language="ckb", transaction_id=letter.id)
        db.session.add(call)
        db.session.flush()
        return add_callback(call_id=call.id, transaction_id=letter.id, source="ivr")


@pytest.fixture
def caller_id(app, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE_CALLER_ID", CALLER_ID)
    return CALLER_ID


# --- the list ---------------------------------------------------------------------


def test_the_list_shows_what_the_caller_asked_for(app, staff, ivr_callback):
    html = logged_in_client(app, "aya").get("/console/callbacks").get_data(as_text=True)
    assert "0750 123 4567" in html  # national format
    assert "کوردی" in html and "IVR" in html
    assert "/console/transactions/" in html and "15/03/2024" in html
    assert "As soon as possible" in html
    assert f"/console/callbacks/{ivr_callback}/take" in html


def test_the_list_filters_by_status(app, staff):
    with app.app_context():
        add_callback(phone="+9647501111111")
        add_callback(phone="+9647502222222", status=CallbackStatus.done)
    client = logged_in_client(app, "aya")
    pending = client.get("/console/callbacks").get_data(as_text=True)
    done = client.get("/console/callbacks?status=done").get_data(as_text=True)
    assert "0750 111 1111" in pending and "0750 222 2222" not in pending
    assert "0750 222 2222" in done and "0750 111 1111" not in done
    assert client.get("/console/callbacks?status=nonsense").status_code == 200


# --- a request made by hand -----------------------------------------------------------


def test_an_agent_adds_a_request_by_hand(app, staff):
    due = (datetime.now(ZoneInfo("Asia/Baghdad")) + timedelta(hours=2)).replace(second=0, microsecond=0)
    response = post_form(
        logged_in_client(app, "aya"),
        "/console/callbacks/new",
        {
            "phone": "0770 123 4567",
            "language": "en",
            "note": "Wants the Finance reply",
            "when": "at",
            "due_at": due.strftime("%d/%m/%Y %H:%M"),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        callback = db.session.scalar(select(CallbackRequest))
        assert callback.phone == "+9647701234567" and callback.language == "en"
        assert callback.source == "agent" and callback.requested_by_id == staff["agent"]
        assert callback.due_at == due.astimezone(timezone.utc)
        assert callback.status == CallbackStatus.pending and callback.note == "Wants the Finance reply"


def test_a_request_by_hand_for_a_number_already_waiting_adds_none(app, staff, ivr_callback):
    client = logged_in_client(app, "aya")
    data = {"phone": "0750 123 4567", "language": "en", "note": "again", "when": "soon", "due_at": ""}
    response = post_form(client, "/console/callbacks/new", data)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "A callback for this number is already waiting; no second one was added." in page
    with app.app_context():
        assert db.session.scalars(select(CallbackRequest.id)).all() == [ivr_callback]
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "callback_create")) is None
    with app.app_context():  # taken, it is still open: still no second request
        assert take_callback(ivr_callback, db.session.scalar(select(User).where(User.username == "aya")))
    post_form(client, "/console/callbacks/new", data)
    with app.app_context():
        assert db.session.scalars(select(CallbackRequest.id)).all() == [ivr_callback]


@pytest.mark.parametrize(
    "form, message",
    [
        ({"phone": "12"}, "This is not a phone number that can be called."),
        ({"phone": ""}, "This field is required."),
        ({"language": "fr"}, "Not a valid choice."),
        ({"due_at": "01/01/2020 10:00"}, "This time has already passed."),
        ({"due_at": "tomorrow"}, "Write the date and time as day/month/year hours:minutes"),
        ({"due_at": "2026-12-25T10:00"}, "Write the date and time as day/month/year hours:minutes"),
        ({"due_at": ""}, "Write the date and time of the callback."),
        ({"when": ""}, "Choose when to call back: as soon as possible, or at a set time."),
        ({"note": "x" * 1001}, "Field cannot be longer than 1000 characters."),
    ],
)
def test_a_bad_request_by_hand_is_explained_and_not_saved(app, staff, form, message):
    data = {
        "phone": "0770 123 4567",
        "language": "ar",
        "note": "",
        "when": "at" if "due_at" in form else "soon",
        **form,
    }
    response = post_form(logged_in_client(app, "aya"), "/console/callbacks/new", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert '<details class="card" open' in html  # the form stays open with what was typed
    with app.app_context():
        assert db.session.scalar(select(CallbackRequest)) is None


# --- taking ----------------------------------------------------------------------------


def test_taking_a_request_makes_it_yours_and_a_second_agent_is_told(app, staff, ivr_callback):
    with app.app_context():
        add_user("bilal", Role.agent)
    first, second = logged_in_client(app, "aya"), logged_in_client(app, "bilal")
    assert post_form(first, f"/console/callbacks/{ivr_callback}/take").status_code == 302
    late = post_form(second, f"/console/callbacks/{ivr_callback}/take")
    assert late.status_code == 409
    assert "Another agent has already taken this callback." in late.get_data(as_text=True)
    callback = load(app, ivr_callback)
    assert callback.status == CallbackStatus.in_progress and callback.agent_id == staff["agent"]
    assert callback.taken_at is not None
    assert post_form(first, "/console/callbacks/424242/take").status_code == 404


def test_only_one_of_many_agents_taking_at_once_wins(app, staff):
    with app.app_context():
        callback_id = add_callback()
        agents = [add_user(f"racer{n}", Role.agent).id for n in range(6)]
    start = threading.Barrier(len(agents))
    wins: list[bool] = []

    def take(agent_id: int) -> None:
        with app.app_context():
            agent = db.session.get(User, agent_id)
            start.wait()
            wins.append(take_callback(callback_id, agent))
            db.session.remove()

    threads = [threading.Thread(target=take, args=(agent_id,)) for agent_id in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(wins) == [False] * (len(agents) - 1) + [True]
    assert load(app, callback_id).agent_id in agents
    with app.app_context():  # the winner's take is audited once
        assert len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "callback_take")).all()) == 1


# --- placing the call ---------------------------------------------------------------


def test_placing_the_call_asks_twilio_to_ring_the_citizen(app, staff, ivr_callback, twilio_api, caller_id):
    client = logged_in_client(app, "aya")
    post_form(client, f"/console/callbacks/{ivr_callback}/take")
    response = post_form(client, f"/console/callbacks/{ivr_callback}/place")
    assert response.status_code == 302
    created = [r for r in twilio_api.requests if r.method == "POST" and r.path.endswith("/Calls.json")]
    assert len(created) == 1
    form = created[0].form
    assert form["To"] == "+9647501234567" and form["From"] == CALLER_ID
    url = urlsplit(form["Url"])
    assert f"{url.scheme}://{url.netloc}" == PUBLIC_BASE_URL
    assert url.path == "/ivr/callback/connect" and parse_qs(url.query) == {"callback": [str(ivr_callback)]}
    status_url = urlsplit(form["StatusCallback"])
    assert status_url.path == "/ivr/callback/status" and parse_qs(status_url.query) == {"callback": [str(ivr_callback)]}
    assert form["StatusCallbackEvent"]  # ringing and answered too, not only the end
    callback = load(app, ivr_callback)
    assert callback.attempts == 1 and callback.placed_call_sid.startswith("CA")


def placed_status(app, callback_id: int, status: str, sid: str | None = None):
    with app.test_client() as webhook:
        sid = sid or load(app, callback_id).placed_call_sid
        return Twilio(webhook, sid=sid).post(f"/ivr/callback/status?callback={callback_id}", CallStatus=status)


def test_a_second_click_rings_nobody_twice_until_the_first_call_ends(app, staff, ivr_callback, twilio_api, caller_id):
    client = logged_in_client(app, "aya")
    post_form(client, f"/console/callbacks/{ivr_callback}/take")
    assert post_form(client, f"/console/callbacks/{ivr_callback}/place").status_code == 302
    again = post_form(client, f"/console/callbacks/{ivr_callback}/place")  # 1.2 s later, the call still ringing
    assert again.status_code == 303
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "A call to this citizen is already ringing or under way; no second call was placed." in page
    assert calls_placed(twilio_api) == 1 and load(app, ivr_callback).attempts == 1
    assert placed_status(app, ivr_callback, "ringing").status_code == 200
    page = client.get("/console/callbacks?status=in_progress&part=list").get_data(as_text=True)
    assert 'data-status="ringing"' in page and "Ringing" in page and "Calling…" in page
    assert placed_status(app, ivr_callback, "no-answer").status_code == 200
    page = client.get("/console/callbacks?status=in_progress&part=list").get_data(as_text=True)
    assert "No answer" in page and "Place the call" in page
    assert placed_status(app, ivr_callback, "ringing").status_code == 200  # late: the end stays
    assert load(app, ivr_callback).placed_status == "no-answer"
    assert post_form(client, f"/console/callbacks/{ivr_callback}/place").status_code == 302  # ended: may try again
    assert calls_placed(twilio_api) == 2 and load(app, ivr_callback).attempts == 2


def test_an_old_calls_late_status_changes_nothing(app, staff, ivr_callback, twilio_api, caller_id):
    client = logged_in_client(app, "aya")
    post_form(client, f"/console/callbacks/{ivr_callback}/take")
    post_form(client, f"/console/callbacks/{ivr_callback}/place")
    placed_status(app, ivr_callback, "completed", sid="CA" + "e" * 32)
    callback = load(app, ivr_callback)
    assert callback.placed_status == "queued" and callback.placing_at is not None
    assert placed_status(app, ivr_callback, "in-progress").status_code == 200
    assert load(app, ivr_callback).placed_status == "in-progress"
    with app.test_client() as webhook:  # unsigned, unknown or nonsense: answered, nothing stored
        assert Twilio(webhook).post(f"/ivr/callback/status?callback={ivr_callback}", signed=False).status_code == 403
        assert Twilio(webhook).post("/ivr/callback/status?callback=x", CallStatus="ringing").status_code == 200
        assert Twilio(webhook).post("/ivr/callback/status?callback=7", CallStatus="\x00").status_code == 200


def test_two_clicks_at_once_place_one_call(app, staff, ivr_callback, twilio_api):
    with app.app_context():
        agent_id = staff["agent"]
        assert take_callback(ivr_callback, db.session.get(User, agent_id))
    start = threading.Barrier(4)
    outcomes: list[Placing] = []

    def click() -> None:
        with app.test_request_context():
            agent = db.session.get(User, agent_id)
            start.wait()
            outcomes.append(place_callback(ivr_callback, agent, caller_id=CALLER_ID).outcome)
            db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == sorted([Placing.placed] + [Placing.already_placing] * 3)
    assert calls_placed(twilio_api) == 1


@pytest.mark.parametrize("status", [400, 401, 500])
def test_twilio_refusing_the_call_loses_nothing(app, staff, ivr_callback, twilio_api, caller_id, status):
    client = logged_in_client(app, "aya")
    post_form(client, f"/console/callbacks/{ivr_callback}/take")
    twilio_api.fail_with = status
    response = post_form(client, f"/console/callbacks/{ivr_callback}/place")
    assert response.status_code == 502
    assert f"Twilio did not place the call (HTTP {status}" in response.get_data(as_text=True)
    callback = load(app, ivr_callback)
    assert callback.status == CallbackStatus.in_progress and callback.agent_id == staff["agent"]
    assert callback.attempts == 0 and callback.placed_call_sid is None
    twilio_api.fail_with = None
    assert post_form(client, f"/console/callbacks/{ivr_callback}/place").status_code == 302


def test_twilio_unreachable_loses_nothing(app, staff, ivr_callback, caller_id, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_API_BASE_URL", "http://127.0.0.1:9")  # nothing listens
    app.extensions.pop("hotline.twilio", None)
    try:
        client = logged_in_client(app, "aya")
        post_form(client, f"/console/callbacks/{ivr_callback}/take")
        response = post_form(client, f"/console/callbacks/{ivr_callback}/place")
    finally:
        app.extensions.pop("hotline.twilio", None)
    assert response.status_code == 502
    assert "Twilio did not place the call" in response.get_data(as_text=True)
    assert load(app, ivr_callback).status == CallbackStatus.in_progress


def test_no_call_is_placed_without_a_caller_number(app, staff, ivr_callback, twilio_api, monkeypatch):
    monkeypatch.setitem(app.config, "HOTLINE_CALLER_ID", "")
    client = logged_in_client(app, "aya")
    post_form(client, f"/console/callbacks/{ivr_callback}/take")
    response = post_form(client, f"/console/callbacks/{ivr_callback}/place")
    assert response.status_code == 503
    assert "caller number is not configured" in response.get_data(as_text=True)
    assert twilio_api.requests == []


# --- placing the call, the use case itself: one outcome each ------------------------


@pytest.fixture
def taken_callback(app, staff, ivr_callback):
    """The IVR's request, taken by the agent; yields (callback id, agent) in a request context."""
    with app.test_request_context():  # url_for() of the connect URL
        agent = db.session.get(User, staff["agent"])
        assert take_callback(ivr_callback, agent)
        yield ivr_callback, agent


def calls_placed(twilio_api) -> int:
    return len([r for r in twilio_api.requests if r.method == "POST" and r.path.endswith("/Calls.json")])


def test_place_callback_placed(app, taken_callback, twilio_api):
    callback_id, agent = taken_callback
    assert place_callback(callback_id, agent, caller_id=CALLER_ID, address="198.51.100.1").outcome is Placing.placed
    assert calls_placed(twilio_api) == 1
    callback = load(app, callback_id)  # committed: another session sees it
    assert callback.attempts == 1 and callback.placed_call_sid.startswith("CA")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "callback_call"))
    assert entry.target_id == str(callback_id)


def test_place_callback_unknown(taken_callback, twilio_api):
    _, agent = taken_callback
    assert place_callback(424242, agent, caller_id=CALLER_ID).outcome is Placing.unknown


def test_place_callback_not_taken_by_this_agent(app, taken_callback, twilio_api):
    callback_id, _ = taken_callback
    other = db.session.get(User, add_user("bilal", Role.agent).id)
    assert place_callback(callback_id, other, caller_id=CALLER_ID).outcome is Placing.not_taken
    assert calls_placed(twilio_api) == 0


def test_place_callback_without_a_caller_number(taken_callback, twilio_api):
    callback_id, agent = taken_callback
    assert place_callback(callback_id, agent, caller_id="").outcome is Placing.no_caller_id
    assert calls_placed(twilio_api) == 0


def test_place_callback_twilio_failed(app, taken_callback, twilio_api):
    callback_id, agent = taken_callback
    twilio_api.fail_with = 500
    placed = place_callback(callback_id, agent, caller_id=CALLER_ID)
    assert placed.outcome is Placing.twilio_failed and placed.reason.startswith("HTTP 500")
    callback = load(app, callback_id)
    assert callback.status == CallbackStatus.in_progress and callback.attempts == 0
    assert callback.placing_at is None  # the claim released: the agent may try again
    twilio_api.fail_with = None
    assert place_callback(callback_id, agent, caller_id=CALLER_ID).outcome is Placing.placed


def test_only_the_agent_who_took_it_places_the_call(app, staff, ivr_callback, twilio_api, caller_id):
    with app.app_context():
        add_user("bilal", Role.agent)
    untaken = post_form(logged_in_client(app, "aya"), f"/console/callbacks/{ivr_callback}/place")
    assert untaken.status_code == 409
    post_form(logged_in_client(app, "aya"), f"/console/callbacks/{ivr_callback}/take")
    assert post_form(logged_in_client(app, "bilal"), f"/console/callbacks/{ivr_callback}/place").status_code == 409
    assert twilio_api.requests == []


# --- closing and giving back ---------------------------------------------------------


def test_marking_done_keeps_both_notes(app, staff):
    with app.app_context():
        callback_id = add_callback(note="Asked about the Finance reply")
    client = logged_in_client(app, "aya")
    post_form(client, f"/console/callbacks/{callback_id}/take")
    response = post_form(
        client, f"/console/callbacks/{callback_id}/close", {"status": "done", "note": "Told her it was forwarded"}
    )
    assert response.status_code == 302
    callback = load(app, callback_id)
    assert callback.status == CallbackStatus.done and callback.done_at is not None
    assert callback.note == "Asked about the Finance reply\nTold her it was forwarded"
    again = post_form(client, f"/console/callbacks/{callback_id}/close", {"status": "cancelled"})
    assert again.status_code == 409
    assert load(app, callback_id).status == CallbackStatus.done


def test_another_agent_cannot_close_or_give_back_a_taken_request(app, staff):
    with app.app_context():
        callback_id = add_callback()
        add_user("bilal", Role.agent)
    post_form(logged_in_client(app, "aya"), f"/console/callbacks/{callback_id}/take")
    other = logged_in_client(app, "bilal")
    assert post_form(other, f"/console/callbacks/{callback_id}/close", {"status": "cancelled"}).status_code == 409
    assert post_form(other, f"/console/callbacks/{callback_id}/release").status_code == 409
    # A supervisor may: e.g. the agent went home with it.
    supervisor = logged_in_client(app, "sami")
    assert post_form(supervisor, f"/console/callbacks/{callback_id}/release").status_code == 302
    callback = load(app, callback_id)
    assert callback.status == CallbackStatus.pending and callback.agent_id is None


def test_a_pending_request_can_be_cancelled_with_a_reason(app, staff):
    with app.app_context():
        callback_id = add_callback()
    response = post_form(
        logged_in_client(app, "aya"),
        f"/console/callbacks/{callback_id}/close",
        {"status": "cancelled", "note": "Duplicate of an earlier request"},
    )
    assert response.status_code == 302
    callback = load(app, callback_id)
    assert callback.status == CallbackStatus.cancelled and callback.agent_id == staff["agent"]
    assert (
        post_form(
            logged_in_client(app, "aya"), f"/console/callbacks/{callback_id}/close", {"status": "reopened"}
        ).status_code
        == 400
    )


def test_callback_actions_are_audited(app, staff, ivr_callback, twilio_api, caller_id):
    client = logged_in_client(app, "aya")
    post_form(client, f"/console/callbacks/{ivr_callback}/take")
    post_form(client, f"/console/callbacks/{ivr_callback}/place")
    post_form(client, f"/console/callbacks/{ivr_callback}/close", {"status": "done"})
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_type == "callback").order_by(AuditEntry.id)
        ).all()
    assert actions == ["callback_take", "callback_call", "callback_close"]


# --- the IVR side: Twilio asks what to do when the citizen answers ----------------------


def answer(response) -> ET.Element:
    assert response.status_code == 200 and response.mimetype == "text/xml"
    return ET.fromstring(response.data)


@pytest.mark.parametrize(
    "kind, endpoint, verb",
    [
        (EndpointKind.client, "aya-browser", "Client"),
        (EndpointKind.sip, "sip:aya@pbx.example.org", "Sip"),
        (EndpointKind.phone, "+9647709876543", "Number"),
    ],
)
def test_the_citizen_who_answers_is_put_through_to_the_agent(app, client, kind, endpoint, verb):
    with app.app_context():
        agent = add_user("aya", Role.agent, endpoint_kind=kind, endpoint=endpoint)
        callback_id = add_callback(language="en", status=CallbackStatus.in_progress, agent_id=agent.id)
    twiml = answer(Twilio(client, sid="CA" + "9" * 32).post(f"/ivr/callback/connect?callback={callback_id}"))
    assert [el.tag for el in twiml] == ["Say", "Say", "Dial"]
    assert "5599" in twiml[0].text
    dial = twiml.find("Dial")
    target = dial.find(verb)
    assert (target.findtext("Identity") if verb == "Client" else target.text).strip() == endpoint
    assert urlsplit(dial.get("action")).path == "/ivr/callback/ended"


def test_a_browser_agents_phone_is_told_it_is_their_callback_ringing(app, client):
    with app.app_context():
        agent = add_user("aya", Role.agent, endpoint_kind=EndpointKind.client, endpoint="aya-browser")
        callback_id = add_callback(language="en", status=CallbackStatus.in_progress, agent_id=agent.id)
    twiml = answer(Twilio(client, sid="CA" + "9" * 32).post(f"/ivr/callback/connect?callback={callback_id}"))
    browser = twiml.find("Dial/Client")
    assert {p.get("name"): p.get("value") for p in browser.findall("Parameter")} == {
        "kind": "callback",
        "callbackId": str(callback_id),
        "caller": "0750 123 4567",
    }


def test_a_callback_no_longer_taken_ends_politely(app, client):
    with app.app_context():
        callback_id = add_callback(language="en", status=CallbackStatus.done)
    twiml = answer(Twilio(client).post(f"/ivr/callback/connect?callback={callback_id}"))
    assert twiml.find("Dial") is None and twiml[-1].tag == "Hangup"
    twiml = answer(Twilio(client).post("/ivr/callback/connect?callback=nonsense"))
    assert twiml[-1].tag == "Hangup"


def test_the_connect_webhook_needs_twilios_signature(app, client):
    with app.app_context():
        agent = add_user("aya", Role.agent)
        callback_id = add_callback(status=CallbackStatus.in_progress, agent_id=agent.id)
    assert Twilio(client).post(f"/ivr/callback/connect?callback={callback_id}", signed=False).status_code == 403
    assert Twilio(client).post("/ivr/callback/ended", signed=False).status_code == 403


def test_when_the_agent_does_not_pick_up_the_citizen_hears_an_apology(app, client):
    missed = answer(Twilio(client).post("/ivr/callback/ended?lang=en", DialCallStatus="no-answer"))
    talked = answer(Twilio(client).post("/ivr/callback/ended?lang=en", DialCallStatus="completed"))
    assert len(missed.findall("Say")) == 2 and len(talked.findall("Say")) == 1
    assert missed[-1].tag == talked[-1].tag == "Hangup"
