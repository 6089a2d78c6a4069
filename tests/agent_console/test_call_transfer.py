"""Cold transfers on a call's conference: to the queue with a note, to a named agent, to an
outside number from TRANSFER_NUMBERS; the REST requests sent, the rows and timeline after,
and a failing Twilio leaving the call as it was."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from config import parse_transfer_numbers
from extensions import db
from models import AuditEntry, Call, CallLeg, LegRole, Presence, User
from tests.support.conference import connected_call, control, path_of
from tests.support.console import agent_client, csrf_token
from tests.support.webhooks import Twilio


@pytest.fixture
def conferences(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALL_CONFERENCES", True)
    monkeypatch.setitem(app.config, "TRANSFER_NUMBERS", (("Police", "+9647700000001"),))


def fresh_call(call_id: int) -> Call:
    db.session.rollback()
    return db.session.get(Call, call_id)


def user(username: str) -> User:
    db.session.rollback()
    return db.session.scalar(select(User).where(User.username == username))


def audited(call: Call) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == str(call.id))))


def test_transfer_numbers_are_label_and_e164_pairs():
    assert parse_transfer_numbers("Police=+9647700000001, Health office=+9647700000002") == (
        ("Police", "+9647700000001"),
        ("Health office", "+9647700000002"),
    )
    assert parse_transfer_numbers("") == ()
    for bad in ("Police=07700000001", "=+9647700000001", "A=+9647700000001,A=+9647700000002"):
        with pytest.raises(ValueError):
            parse_transfer_numbers(bad)


def test_to_the_queue_with_a_note_the_next_agent_sees(app, app_context, client, twilio_api, conferences):
    agent, call, caller, _ = connected_call(app, client, twilio_api)
    response = control(agent, call, "transfer", target="queue", note="Wants the water office, not us")
    assert response.get_json()["ok"] is True and response.get_json()["url"] == "/console/"
    redirect = twilio_api.calls_updated(call.sid)[-1]
    assert path_of(redirect.form["Url"]).startswith(f"/ivr/agent/requeue?call={call.id}&transfer=1&s=")
    end = twilio_api.conference_requests()[-1]
    assert end.path.endswith(f"/Conferences/{call.conference_sid}.json") and end.form == {"Status": "completed"}
    call = fresh_call(call.id)
    assert call.agent_id is None and call.conference_sid is None and call.transfers == 1
    assert call.transfer_note == "Wants the water office, not us"
    assert user("amira").presence == Presence.available
    assert call.events[-1].step == "call_transfer" and call.events[-1].result == "queue"
    assert "call_transfer" in audited(call)
    answer = caller.post(path_of(redirect.form["Url"]))
    assert "<Enqueue" in answer.get_data(as_text=True)

    # The next agent takes the caller: the note is on their call screen, not on others'.
    other = agent_client(app, "bilal")
    taken = other.post(
        f"/console/calls/{call.id}/take",
        headers={"Accept": "application/json", "X-CSRFToken": csrf_token(other, "/console/")},
    )
    assert taken.status_code == 200, taken.get_data(as_text=True)
    db.session.expire_all()  # the take committed in this test's session's back
    connect_url = path_of(twilio_api.calls_updated(call.sid)[-1].form["Url"])
    connected = caller.post(connect_url).get_data(as_text=True)
    assert "<Conference" in connected, [(e.step, e.result) for e in fresh_call(call.id).events][-4:]
    page = other.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert "Note from the agent who transferred this call" in page and "Wants the water office" in page
    call = fresh_call(call.id)
    assert call.conference_sid and call.agent_id == user("bilal").id


def test_to_a_named_agent_rings_them_and_the_agent_leaves(app, app_context, client, twilio_api, conferences):
    agent, call, caller, _ = connected_call(app, client, twilio_api)
    bilal = agent_client(app, "bilal")  # logged in: made and known
    colleague = user("bilal")
    colleague.presence = Presence.available
    db.session.commit()
    old_leg = call.agent_leg_sid
    response = control(agent, call, "transfer", target=f"agent:{colleague.id}")
    assert response.get_json()["ok"] is True
    hold, create, flag, leave = twilio_api.conference_requests()[-4:]
    assert hold.form["Hold"] == "true"
    assert create.form["To"].startswith("client:bilal?") and create.form["Label"] == "agent"
    assert create.form["EndConferenceOnExit"] == "true"
    assert "transfer=1" in create.form["StatusCallback"] and f"agent={colleague.id}" in create.form["StatusCallback"]
    assert flag.form == {"EndConferenceOnExit": "false"} and flag.path.endswith(f"/Participants/{old_leg}.json")
    assert leave.method == "DELETE" and leave.path.endswith(f"/Participants/{old_leg}.json")
    call = fresh_call(call.id)
    assert call.agent_id == colleague.id and call.agent_leg_sid != old_leg and call.transfers == 1
    assert call.held_at is not None
    assert user("amira").presence == Presence.available and user("bilal").presence == Presence.on_call

    # The colleague answers: the caller comes off hold, and the colleague has the controls.
    Twilio(client, sid=call.agent_leg_sid).post(
        f"/ivr/conference/leg?call={call.id}&agent={colleague.id}&transfer=1", CallStatus="in-progress"
    )
    assert twilio_api.participant(call.sid)["hold"] is False
    call = fresh_call(call.id)
    assert call.held_at is None and call.events[-1].result == "transfer_answered"
    assert 'data-action="hold"' in bilal.get(f"/console/calls/{call.id}").get_data(as_text=True)


def test_a_named_agent_who_does_not_answer_sends_the_caller_to_the_queue(
    app, app_context, client, twilio_api, conferences
):
    agent, call, caller, _ = connected_call(app, client, twilio_api)
    agent_client(app, "bilal")
    colleague = user("bilal")
    colleague.presence = Presence.available
    db.session.commit()
    control(agent, call, "transfer", target=f"agent:{colleague.id}")
    call = fresh_call(call.id)
    Twilio(client, sid=call.agent_leg_sid).post(
        f"/ivr/conference/leg?call={call.id}&agent={colleague.id}&transfer=1", CallStatus="no-answer"
    )
    assert path_of(twilio_api.calls_updated(call.sid)[-1].form["Url"]).startswith(f"/ivr/agent/requeue?call={call.id}")
    call = fresh_call(call.id)
    assert call.agent_id is None and call.events[-1].result == "agent_no-answer:requeued"


def test_to_an_outside_number_from_the_list(app, app_context, client, twilio_api, conferences):
    agent, call, caller, _ = connected_call(app, client, twilio_api)
    page = agent.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert 'value="number:Police"' in page and "+9647700000001" not in page
    response = control(agent, call, "transfer", target="number:Police")
    assert response.get_json()["ok"] is True and response.get_json()["url"] == f"/console/calls/{call.id}"
    create = [r for r in twilio_api.conference_requests() if r.path.endswith("/Participants.json")][-1]
    assert create.form["To"] == "+9647700000001" and create.form["Label"] == "transfer"
    assert create.form["EndConferenceOnExit"] == "true"
    leg = db.session.scalar(select(CallLeg).where(CallLeg.call_id == call.id))
    assert leg.role == LegRole.transfer and leg.detail == "Police"
    call = fresh_call(call.id)
    assert call.agent_ended_at is not None and call.transfers == 1 and call.events[-1].result == "number:Police"
    assert user("amira").presence == Presence.wrap_up
    Twilio(client, sid=leg.call_sid).post(f"/ivr/conference/leg?call={call.id}&transfer=1", CallStatus="in-progress")
    assert twilio_api.participant(call.sid)["hold"] is False
    assert fresh_call(call.id).events[-1].result == "transfer_answered"


def test_an_outside_number_that_does_not_answer_sends_the_caller_to_the_queue(
    app, app_context, client, twilio_api, conferences
):
    agent, call, caller, _ = connected_call(app, client, twilio_api)
    control(agent, call, "transfer", target="number:Police")
    call = fresh_call(call.id)  # the transfer committed in this test's session's back
    leg = db.session.scalar(select(CallLeg).where(CallLeg.call_id == call.id))
    Twilio(client, sid=leg.call_sid).post(f"/ivr/conference/leg?call={call.id}&transfer=1", CallStatus="busy")
    call = fresh_call(call.id)
    assert call.events[-1].result == "transfer_missed:requeued", [(e.step, e.result) for e in call.events][-3:]
    assert (
        call.agent_id is None and call.agent_ended_at is None and call.events[-1].result == "transfer_missed:requeued"
    )
    assert user("amira").presence == Presence.available


def test_unknown_targets_are_refused_without_asking_twilio(app, app_context, client, twilio_api, conferences):
    agent, call, _, _ = connected_call(app, client, twilio_api)
    before = len(twilio_api.conference_requests())
    for target in ("number:Fire", "agent:999999", "agent:x", "nonsense", ""):
        response = control(agent, call, "transfer", target=target)
        assert response.status_code == 409, target
    assert len(twilio_api.conference_requests()) == before
    assert fresh_call(call.id).transfers == 0


@pytest.mark.parametrize(
    ("target", "method", "path"),
    [
        ("queue", "POST", r"/Calls/CA[0-9a-f]+\.json$"),
        ("number:Police", "POST", r"/Participants\.json$"),
        ("number:Police", "DELETE", r"/Participants/"),
    ],
)
def test_a_failing_twilio_leaves_the_call_as_it_was(
    app, app_context, client, twilio_api, conferences, target, method, path
):
    agent, call, _, _ = connected_call(app, client, twilio_api)
    steps_before = [event.step for event in call.events]
    twilio_api.fail(method, path, 500)
    response = control(agent, call, "transfer", target=target)
    assert response.status_code == 502 and "Nothing has changed" in response.get_json()["message"]
    call = fresh_call(call.id)
    assert call.agent_id == user("amira").id and call.transfers == 0 and call.agent_ended_at is None
    assert call.held_at is None and [event.step for event in call.events] == steps_before
    assert not twilio_api.participant(call.sid).get("hold")
    assert twilio_api.participant(call.agent_leg_sid)["end_conference_on_exit"] is True
    assert db.session.scalar(select(CallLeg).where(CallLeg.call_id == call.id)) is None
