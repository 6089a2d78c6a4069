"""The call screen: does the agent see the caller's letter, its history and the IVR steps,
and can they note, dispose, promise a callback and wrap up, with every view audited?"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from domain.calls.agent import claim, handle_seconds
from domain.live import InProcessBroker
from extensions import db
from models import AuditEntry, Call, CallbackRequest, Direction, Outcome, Presence, Role, Status, TransactionEvent, User
from tests.support.console import Stream, agent_client, call_sid, csrf_token, enqueue_caller, letter, make_user
from tests.support.ivr import Caller, agent_on_duty
from tests.support.webhooks import Twilio


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def views_of(transaction_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "view_transaction", AuditEntry.target_id == str(transaction_id)
            )
        )
    )


@pytest.fixture
def taken_call(app, app_context, client):
    """Letter 1234 looked up by an English caller who then asked for an agent; amira took it."""
    record = letter()
    db.session.add(
        TransactionEvent(
            transaction_id=record.id,
            status=Status.received,
            holder_id=record.sender_id,
            status_date=date(2024, 3, 16),
            source="import",
        )
    )
    db.session.add(
        TransactionEvent(
            transaction_id=record.id,
            status=Status.forwarded,
            holder_id=record.holder_id,
            status_date=date(2024, 4, 2),
            previous_status=Status.received,
            previous_holder_id=record.sender_id,
            source="import",
        )
    )
    db.session.commit()
    call = enqueue_caller(client, 1, caller="+9647501234567")
    browser = agent_client(app, "amira")
    agent = db.session.scalar(select(User).where(User.username == "amira"))
    assert claim(call.id, agent)
    db.session.commit()  # claim() leaves the commit to its caller
    Twilio(client, sid=call.sid).post(f"/ivr/agent/connect?call={call.id}")
    return browser, fresh(Call, call.id), record


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_call_screen_shows_the_letter_the_ivr_read_and_its_history(taken_call):
    browser, call, record = taken_call
    page = browser.get(f"/console/calls/{call.id}")
    assert page.status_code == 200
    html = text_of(page)
    assert "0750 123 4567" in html and "English" in html
    assert ">1234<" in html and "15/03/2024" in html  # the letter's number and date
    assert "Forwarded" in html and "Federal Ministry of Finance" in html  # status and holder
    assert "طلب تعيين" in html  # the subject: an agent may read it, the IVR never speaks it
    assert "Received" in html and "16/03/2024" in html and "02/04/2024" in html  # its history
    assert "The IVR did not read" not in html


def test_the_call_screen_lists_the_ivr_steps_of_this_call(taken_call):
    browser, call, _ = taken_call
    html = text_of(browser.get(f"/console/calls/{call.id}"))
    for step in ("Call answered", "Language chosen", "Letter number keyed", "Letter date keyed", "Ringing the agent"):
        assert step in html, step
    assert "15032024" in html  # the keys the caller pressed
    # what the caller heard, in words (placeholders as "…"), and the result in words, not codes
    assert "This letter …. It is now held by …." in html and "Letter found: Forwarded" in html
    assert "found:forwarded" not in html and ">status_found<" not in html


def test_every_view_of_the_call_screen_is_audited(taken_call):
    browser, call, record = taken_call
    browser.get(f"/console/calls/{call.id}")
    browser.get(f"/console/calls/{call.id}")
    entries = views_of(record.id)
    assert len(entries) == 2
    assert {entry.user.username for entry in entries} == {"amira"}
    assert all(entry.target_type == "transaction" and entry.address for entry in entries)


def test_record_content_stays_out_of_the_logs(taken_call, caplog):
    browser, call, _ = taken_call
    with caplog.at_level("DEBUG"):
        browser.get(f"/console/calls/{call.id}")
    assert "طلب تعيين" not in caplog.text and "+9647701112233" not in caplog.text


def test_another_agent_may_not_open_the_call_but_a_supervisor_may(app, taken_call):
    _, call, record = taken_call
    other = agent_client(app, "bilal")
    assert other.get(f"/console/calls/{call.id}").status_code == 403
    assert views_of(record.id) == []
    supervisor = agent_client(app, "sara", role=Role.supervisor)
    assert supervisor.get(f"/console/calls/{call.id}").status_code == 200
    assert len(views_of(record.id)) == 1


def test_when_the_ivr_read_nothing_the_letters_keyed_in_are_shown(app, app_context, client):
    to_federal = letter(direction=Direction.to_federal)
    to_region = letter(direction=Direction.to_region, status=Status.replied)
    # Two letters match; the caller never picks a direction and ends up with an agent.
    agent_on_duty()
    walker = Caller(Twilio(client, sid=call_sid(1)))
    assert walker.walk("3", "1", "1234", "1", "15032024", "1", "7", "7", "7").enqueued is not None
    call = db.session.scalar(select(Call).where(Call.sid == call_sid(1)))
    assert call.transaction_id is None and call.found is True
    browser = agent_client(app, "amira")
    assert claim(call.id, db.session.scalar(select(User).where(User.username == "amira")))
    db.session.commit()  # claim() leaves the commit to its caller
    html = text_of(browser.get(f"/console/calls/{call.id}"))
    assert "Two letters share the number and date" in html
    assert "Forwarded" in html and "Replied" in html
    assert len(views_of(to_federal.id)) == 1 and len(views_of(to_region.id)) == 1


def test_a_caller_who_asked_for_nothing_gets_a_prompt_to_ask(app, app_context, client):
    call = enqueue_caller(client, 1, ask_letter=False)
    browser = agent_client(app, "amira")
    claim(call.id, db.session.scalar(select(User).where(User.username == "amira")))
    db.session.commit()  # claim() leaves the commit to its caller
    html = text_of(browser.get(f"/console/calls/{call.id}"))
    assert "did not key in a letter" in html
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "view_transaction")) is None


# --- notes, disposition, wrap-up ------------------------------------------------------------


def post_notes(browser, call, **fields):
    token = csrf_token(browser, f"/console/calls/{call.id}")
    return browser.post(f"/console/calls/{call.id}/notes", data={"csrf_token": token, **fields})


def test_notes_and_disposition_are_saved(taken_call):
    browser, call, _ = taken_call
    response = post_notes(browser, call, notes="Caller will bring a copy.", disposition="status_given", save="1")
    assert response.status_code == 303 and response.headers["Location"] == f"/console/calls/{call.id}"
    call = fresh(Call, call.id)
    assert call.notes == "Caller will bring a copy." and call.disposition == "status_given"
    assert call.wrapped_up_at is None
    html = text_of(browser.get(f"/console/calls/{call.id}"))
    assert "Caller will bring a copy." in html and "Notes saved." in html


def test_notes_are_limited_in_length_and_dispositions_to_the_configured_ones(taken_call):
    browser, call, _ = taken_call
    too_long = post_notes(browser, call, notes="x" * 4001, disposition="", save="1")
    assert too_long.status_code == 422 and "4000" in too_long.get_data(as_text=True)
    unknown = post_notes(browser, call, notes="ok", disposition="made_up", save="1")
    assert unknown.status_code == 422
    assert fresh(Call, call.id).notes is None


def test_the_notes_form_needs_its_csrf_token(taken_call):
    browser, call, _ = taken_call
    response = browser.post(f"/console/calls/{call.id}/notes", data={"notes": "x", "save": "1"})
    assert response.status_code == 400 and fresh(Call, call.id).notes is None


def test_wrapping_up_needs_a_disposition(taken_call):
    browser, call, _ = taken_call
    response = post_notes(browser, call, notes="", disposition="", wrap_up="1")
    assert response.status_code == 422 and "Choose a disposition" in response.get_data(as_text=True)
    assert fresh(Call, call.id).wrapped_up_at is None


def test_wrapping_up_frees_the_agent_and_completes_the_call_record(taken_call, client):
    browser, call, _ = taken_call
    dial = f"/ivr/agent/done?call={call.id}&agent={call.agent_id}"
    Twilio(client, sid=call.sid).post(dial, DialCallStatus="completed", DialCallDuration="80")
    assert fresh(Call, call.id).agent.presence == Presence.wrap_up

    response = post_notes(browser, call, notes="Explained the delay.", disposition="status_explained", wrap_up="1")
    assert response.status_code == 303 and response.headers["Location"] == "/console/"
    call = fresh(Call, call.id)
    assert call.wrapped_up_at is not None and call.disposition == "status_explained"
    assert call.outcome == Outcome.agent_answered
    assert call.agent.presence == Presence.available
    assert handle_seconds(call) == int((call.wrapped_up_at - call.answered_at).total_seconds())
    # The agent may take the next caller.
    home = text_of(browser.get("/console/"))
    assert "None. Take a caller from the queue." in home


def test_handle_time_falls_back_to_the_hang_up_before_wrap_up():
    answered = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)
    call = Call(sid="CA1", answered_at=answered, agent_ended_at=answered + timedelta(seconds=95))
    assert handle_seconds(call) == 95
    call.wrapped_up_at = answered + timedelta(seconds=140)
    assert handle_seconds(call) == 140
    assert handle_seconds(Call(sid="CA2")) is None


# --- callbacks promised on the call ---------------------------------------------------------


def post_callback(browser, call, **fields):
    token = csrf_token(browser, f"/console/calls/{call.id}")
    data = {"csrf_token": token, **{f"callback-{name}": value for name, value in fields.items()}}
    return browser.post(f"/console/calls/{call.id}/callback", data=data)


def test_scheduling_a_callback_creates_an_agent_request(app, taken_call):
    browser, call, record = taken_call
    baghdad = datetime.now(ZoneInfo("Asia/Baghdad")).replace(second=0, microsecond=0) + timedelta(days=1)
    response = post_callback(
        browser,
        call,
        phone="0750 123 4567",
        language="en",
        when="at",
        due_at=baghdad.strftime("%d/%m/%Y %H:%M"),
        note="After the ministry replies",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
    callback = db.session.scalar(select(CallbackRequest))
    assert callback.source == "agent" and callback.phone == "+9647501234567"
    assert callback.call_id == call.id and callback.transaction_id == record.id
    assert callback.due_at == baghdad.astimezone(timezone.utc)
    assert callback.note == "After the ministry replies" and callback.requested_by_id == call.agent_id


def test_a_number_with_a_callback_waiting_gets_no_second_one(app, taken_call):
    browser, call, _ = taken_call
    first = post_callback(browser, call, phone="0750 123 4567", language="en", when="soon", due_at="", note="first")
    assert first.status_code == 303
    again = post_callback(browser, call, phone="0750 123 4567", language="en", when="soon", due_at="", note="second")
    assert again.status_code == 303
    page = browser.get(again.headers["Location"]).get_data(as_text=True)
    assert "A callback for this number is already waiting; no second one was added." in page
    # the screen says so plainly, instead of offering a form that cannot add one
    assert "a second one cannot be added" in page and 'name="callback-phone"' not in page
    db.session.expire_all()
    assert [c.note for c in db.session.scalars(select(CallbackRequest))] == ["first"]


def test_a_callback_needs_a_number_that_can_be_called(taken_call):
    browser, call, _ = taken_call
    response = post_callback(browser, call, phone="12", language="ar", when="soon", due_at="", note="")
    assert response.status_code == 422
    assert "not a phone number" in response.get_data(as_text=True)
    assert db.session.scalar(select(CallbackRequest)) is None


def test_the_callback_form_offers_the_callers_number(taken_call):
    browser, call, _ = taken_call
    html = browser.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert 'name="callback-phone"' in html and 'value="0750 123 4567"' in html


def test_unknown_calls_are_not_found(app, app_context):
    browser = agent_client(app, "amira")
    assert browser.get("/console/calls/999999").status_code == 404


def test_an_agent_who_did_not_take_the_call_cannot_change_it(app, taken_call):
    _, call, _ = taken_call
    other = agent_client(app, "bilal")
    token = csrf_token(other, "/console/")
    response = other.post(f"/console/calls/{call.id}/notes", data={"csrf_token": token, "notes": "x", "save": "1"})
    assert response.status_code == 403 and fresh(Call, call.id).notes is None


def test_supervisors_see_the_agent_and_times(app, taken_call):
    _, call, _ = taken_call
    make_user("sara", Role.supervisor)
    from tests.support.console import console_client, log_in

    supervisor = console_client(app)
    log_in(supervisor, "sara")
    html = text_of(supervisor.get(f"/console/calls/{call.id}"))
    assert "Amira" in html and "Connected" in html


# --- the live call screen: state as the IVR reports it -------------------------------------


def live_state(browser, call_id: int) -> dict:
    response = browser.get(f"/console/calls/{call_id}/state.json")
    assert response.status_code == 200, response.status_code
    return response.get_json()


def test_the_call_screen_state_follows_the_call_to_the_hang_up(app, taken_call, client):
    browser, call, _ = taken_call
    state = live_state(browser, call.id)
    assert state["state"] == "connected" and state["answered_at"] and state["ended_at"] is None
    assert 'id="talk-timer"' in browser.get(f"/console/calls/{call.id}").get_data(as_text=True)
    published = []
    app.extensions["hotline.broker"] = recorder = type(
        "Recorder", (), {"publish": lambda self, message: published.append(message), "healthy": lambda self: True}
    )()
    try:
        Twilio(client, sid=call.sid).post("/ivr/status", CallStatus="completed", CallDuration="42")
    finally:
        app.extensions.pop("hotline.broker", None)
    assert recorder and any(f'"call_id": {call.id}' in message and '"type": "call"' in message for message in published)
    state = live_state(browser, call.id)
    assert state["state"] == "ended" and state["ended_at"]
    assert state["message"].startswith("The call has ended.")


def test_an_agent_whose_phone_did_not_answer_is_told_what_happened(app, taken_call, client):
    browser, call, _ = taken_call
    agent_id = call.agent_id
    missed = Twilio(client, sid=call.sid).post(
        f"/ivr/agent/done?call={call.id}&agent={agent_id}", DialCallStatus="no-answer"
    )
    assert missed.status_code == 200
    page = browser.get(f"/console/calls/{call.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200  # not "not allowed for your role"
    assert "Your phone did not answer" in html and "you were set to Away" in html
    assert live_state(browser, call.id)["state"] == "missed"
    assert fresh(User, agent_id).presence == Presence.away
    token = csrf_token(browser, "/console/")  # seeing is not changing: the call is no longer theirs
    response = browser.post(f"/console/calls/{call.id}/notes", data={"csrf_token": token, "notes": "x", "save": "1"})
    assert response.status_code == 403
    assert agent_client(app, "bilal").get(f"/console/calls/{call.id}/state.json").status_code == 403


def test_the_call_stream_sends_the_state_then_the_hang_up(app, taken_call, client):
    browser, call, _ = taken_call
    app.extensions["hotline.broker"] = InProcessBroker()
    try:
        stream = Stream(browser, f"/console/calls/{call.id}/stream")
        assert stream.next_event("state")["state"] == "connected"
        enqueue_caller(client, 2, caller="+9647709999999")  # another call's news is not this screen's
        Twilio(client, sid=call.sid).post("/ivr/status", CallStatus="completed", CallDuration="42")
        event = stream.next_event("state")
        assert event["state"] == "ended" and event["call_id"] == call.id
        stream.close()
    finally:
        app.extensions.pop("hotline.broker", None)
    assert agent_client(app, "bilal").get(f"/console/calls/{call.id}/stream").status_code == 403
