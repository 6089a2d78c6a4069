"""Call control on callbacks: the citizen who answers a callback an agent placed is a call of its
own, and meets that agent in the call's conference (hold, transfer, supervisors, recording)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from domain.clock import utcnow
from domain.reporting.kpis import Period, overall
from domain.reporting.wallboard import calls_in_ivr
from extensions import db
from models import Call, CallbackRequest, CallbackStatus, Outcome, Presence, Role, User
from tests.support.conference import check_conference_dial, control, path_of
from tests.support.console import agent_client, csrf_token
from tests.support.records import add_letter
from tests.support.webhooks import Twilio

CITIZEN = "+9647501234567"
HOTLINE = "+9645599000"
PLACED_SID = "CA" + "7" * 32


@pytest.fixture
def conferences(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALL_CONFERENCES", True)
    monkeypatch.setitem(app.config, "HOTLINE_CALLER_ID", HOTLINE)


def taken_callback(agent_name: str = "amira") -> CallbackRequest:
    """A Kurdish caller asked the IVR about a letter, then for a callback; the agent took it."""
    letter = add_letter()
    origin = Call(
        sid="CA" + "5" * 32,
        caller=CITIZEN,
        language="ckb",
        transaction_id=letter.id,
        asked_number="1234",
        found=True,
        ended_at=utcnow(),
        outcome=Outcome.callback_requested,
    )
    db.session.add(origin)
    db.session.flush()
    agent = db.session.scalar(select(User).where(User.username == agent_name))
    callback = CallbackRequest(
        call_id=origin.id,
        phone=CITIZEN,
        language="ckb",
        transaction_id=letter.id,
        status=CallbackStatus.in_progress,
        agent_id=agent.id,
        placed_call_sid=PLACED_SID,
        placed_status="in-progress",
    )
    db.session.add(callback)
    db.session.commit()
    return callback


def citizen(client) -> Twilio:
    """The placed call, as Twilio posts its webhooks: from the hotline to the citizen."""
    return Twilio(client, sid=PLACED_SID, caller=HOTLINE)


def answered(client, callback: CallbackRequest):
    return citizen(client).post(f"/ivr/callback/connect?callback={callback.id}", To=CITIZEN, Direction="outbound-api")


def fresh(model, row_id: int):
    db.session.rollback()
    return db.session.get(model, row_id)


def the_call() -> Call:
    db.session.rollback()
    return db.session.scalar(select(Call).where(Call.sid == PLACED_SID))


def test_the_citizen_who_answers_meets_the_agent_in_a_conference_of_their_own_call(
    app, app_context, client, twilio_api, conferences
):
    agent_client(app, "amira")
    callback = taken_callback()
    response = answered(client, callback)
    body = response.get_data(as_text=True)
    noun = check_conference_dial(body)
    call = the_call()
    assert noun.text == f"hotline-call-{call.id}"
    assert path_of(body.split('action="', 1)[1].split('"', 1)[0]).startswith(f"/ivr/agent/done?call={call.id}")
    assert call.callback_id == callback.id and call.caller == CITIZEN and call.called == HOTLINE
    assert call.language == "ckb" and call.asked_number == "1234" and call.transaction_id == callback.transaction_id
    assert call.agent.username == "amira" and call.answered_at is not None and call.outcome == Outcome.agent_answered
    assert call.agent.presence == Presence.on_call
    [create] = [r for r in twilio_api.conference_requests() if r.path.endswith("/Participants.json")]
    assert f"/Conferences/hotline-call-{call.id}/Participants.json" in create.path
    assert "kind=callback" in create.form["To"] and f"callId={call.id}" in create.form["To"]
    assert call.agent_leg_sid and [event.step for event in call.events] == ["callback_connect"]

    # Twilio fetching the answer URL again rings nobody twice and writes nothing twice.
    again = answered(client, callback)
    assert check_conference_dial(again.get_data(as_text=True)).text == noun.text
    assert len([r for r in twilio_api.conference_requests() if r.path.endswith("/Participants.json")]) == 1
    assert db.session.scalar(select(db.func.count(Call.id)).where(Call.callback_id == callback.id)) == 1


def test_the_agent_holds_the_citizen_of_a_callback_like_any_caller(app, app_context, client, twilio_api, conferences):
    agent = agent_client(app, "amira")
    callback = taken_callback()
    noun = check_conference_dial(answered(client, callback).get_data(as_text=True))
    twilio_api.join_caller(noun.text, PLACED_SID)
    call = the_call()
    assert control(agent, call, "hold").get_json()["ok"] is True
    assert twilio_api.participant(PLACED_SID)["hold"] is True
    assert path_of(twilio_api.conference_requests()[-1].form["HoldUrl"]) == "/ivr/conference/hold?lang=ckb"
    assert control(agent, call, "resume").get_json()["ok"] is True


def test_an_agent_who_does_not_answer_leaves_the_citizen_an_apology_not_the_queue(
    app, app_context, client, twilio_api, conferences
):
    agent_client(app, "amira")
    callback = taken_callback()
    answered(client, callback)
    call = the_call()
    Twilio(client, sid=call.agent_leg_sid).post(
        f"/ivr/conference/leg?call={call.id}&agent={call.agent_id}", CallStatus="no-answer"
    )
    [redirect] = twilio_api.calls_updated(PLACED_SID)
    assert path_of(redirect.form["Url"]) == f"/ivr/agent/requeue?call={call.id}"
    call = the_call()
    assert call.events[-1].result == "agent_no-answer:apology" and call.outcome == Outcome.error
    assert call.agent_id is None and call.queued_at is None

    twiml = citizen(client).post(path_of(redirect.form["Url"])).get_data(as_text=True)
    assert "<Enqueue" not in twiml and twiml.count("<Say") == 2 and twiml.rstrip().endswith("<Hangup /></Response>")
    assert fresh(CallbackRequest, callback.id).status == CallbackStatus.in_progress  # theirs to try again


def test_twilio_refusing_to_ring_the_agent_ends_with_an_apology(app, app_context, client, twilio_api, conferences):
    agent_client(app, "amira")
    callback = taken_callback()
    twilio_api.fail("POST", r"/Participants\.json$", 500)
    twiml = answered(client, callback).get_data(as_text=True)
    assert "<Conference" not in twiml and "<Enqueue" not in twiml and "<Hangup" in twiml
    call = the_call()
    assert call.outcome == Outcome.error and call.agent_id is None
    assert call.events[-1].result.startswith("conference_failed:HTTP 500")


def test_the_end_of_the_placed_call_ends_the_agents_part(app, app_context, client, twilio_api, conferences):
    agent_client(app, "amira")
    callback = taken_callback()
    answered(client, callback)
    status = citizen(client).post(
        f"/ivr/callback/status?callback={callback.id}", CallStatus="completed", CallDuration="95", To=CITIZEN
    )
    assert status.status_code == 200
    call = the_call()
    assert call.ended_at is not None and call.duration_s == 95 and call.agent_ended_at is not None
    assert call.agent.presence == Presence.wrap_up
    assert fresh(CallbackRequest, callback.id).placed_status == "completed"


def test_a_callbacks_call_is_answered_in_the_kpis_but_never_offered_nor_in_the_ivr(
    app, app_context, client, twilio_api, conferences
):
    agent_client(app, "amira")
    callback = taken_callback()
    answered(client, callback)
    assert calls_in_ivr() == 0
    today = the_call().started_at.date()
    kpis = overall(Period(today, today), tz_name="UTC", service_level_s=20)
    assert kpis.answered == 1 and kpis.offered == 1  # the IVR caller who asked for the callback, not its call


def test_with_recording_the_citizen_hears_the_notice_first(
    app, app_context, client, twilio_api, conferences, monkeypatch
):
    monkeypatch.setitem(app.config, "RECORDING_ENABLED", True)
    agent_client(app, "amira")
    callback = taken_callback()
    answered(client, callback)
    assert "recording_notice" in the_call().events[0].spoken
    [create] = [r for r in twilio_api.conference_requests() if r.path.endswith("/Participants.json")]
    assert create.form.get("Record") == "true"


def test_the_call_screen_and_the_call_log_say_it_is_a_callback(app, app_context, client, twilio_api, conferences):
    agent = agent_client(app, "amira")
    callback = taken_callback()
    answered(client, callback)
    call = the_call()
    screen = agent.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert "Callback placed by an agent" in screen and "Ringing the agent into the call&#39;s conference" in screen
    assert "This call answers the callback request below" in screen
    supervisor = agent_client(app, "sara", role=Role.supervisor)
    log = supervisor.get("/console/calls").get_data(as_text=True)
    assert log.count("Callback placed by an agent") == 1  # its call, not the IVR call it came from
    timeline = supervisor.get(f"/console/calls/{call.id}/timeline").get_data(as_text=True)
    assert "Callback answered: ringing the agent" in timeline and 'data-kind="queue_left"' not in timeline


def wrap_up_form(agent, call: Call, **fields):
    token = csrf_token(agent, f"/console/calls/{call.id}")
    form = {"csrf_token": token, "notes": "Told the citizen where the letter is.", "disposition": "status_given"}
    return agent.post(f"/console/calls/{call.id}/notes", data={**form, "wrap_up": "1", **fields})


def test_wrapping_up_a_callbacks_call_closes_the_request_unless_unticked(
    app, app_context, client, twilio_api, conferences
):
    agent = agent_client(app, "amira")
    callback = taken_callback()
    answered(client, callback)
    call = the_call()
    page = agent.get(f"/console/calls/{call.id}").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="close_callback"[^>]*>', page)
    assert box is not None and "checked" in box.group(0)  # ticked unless the agent unticks it
    response = wrap_up_form(agent, call, close_callback="y")
    assert response.status_code == 303
    assert "its callback request is done" in agent.get("/console/").get_data(as_text=True)
    closed = fresh(CallbackRequest, callback.id)
    assert closed.status == CallbackStatus.done and closed.done_at is not None
    assert the_call().wrapped_up_at is not None


def test_unticked_the_request_stays_with_the_agent(app, app_context, client, twilio_api, conferences):
    agent = agent_client(app, "amira")
    callback = taken_callback()
    answered(client, callback)
    call = the_call()
    assert wrap_up_form(agent, call).status_code == 303  # an unticked box is not sent
    assert fresh(CallbackRequest, callback.id).status == CallbackStatus.in_progress
    assert the_call().wrapped_up_at is not None
    assert 'name="close_callback"' not in agent.get(f"/console/calls/{call.id}").get_data(as_text=True)
