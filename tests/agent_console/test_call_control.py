"""Call control on conferences: the REST requests the app sends for each action, the call's
rows and timeline after it, and a Twilio that fails leaving the call as it was."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from models import AuditEntry, Call, CallLeg, Presence, Role, User
from tests.support.conference import check_hold_twiml, connected_call, control, path_of
from tests.support.console import make_user
from tests.support.webhooks import PUBLIC_BASE_URL, Twilio


@pytest.fixture
def conferences(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALL_CONFERENCES", True)


def fresh_call(call_id: int) -> Call:
    db.session.rollback()  # a new transaction: what the requests committed meanwhile
    return db.session.get(Call, call_id)


def steps(call: Call) -> list[str]:
    return [event.step for event in fresh_call(call.id).events]


def test_taking_a_call_rings_the_agent_into_a_conference_named_for_the_call(
    app, app_context, client, twilio_api, conferences
):
    agent, call, _, body = connected_call(app, client, twilio_api)
    [create] = [r for r in twilio_api.conference_requests() if r.path.endswith("/Participants.json")]
    assert f"/Conferences/hotline-call-{call.id}/Participants.json" in create.path
    assert create.form["To"].startswith("client:amira?") and f"callId={call.id}" in create.form["To"]
    assert create.form["Label"] == "agent"
    assert create.form["StartConferenceOnEnter"] == "true" and create.form["EndConferenceOnExit"] == "true"
    assert create.form["StatusCallback"].startswith(f"{PUBLIC_BASE_URL}/ivr/conference/leg?call={call.id}")
    assert call.agent_leg_sid and call.conference_sid.startswith("CF")
    assert "<Conference" in body and f">hotline-call-{call.id}</Conference>" in body
    assert 'startConferenceOnEnter="false"' in body and 'endConferenceOnExit="true"' in body
    assert call.answered_at is not None


def test_the_wait_and_hold_urls_answer_only_what_twilio_plays_there(app, app_context, client, twilio):
    held = twilio.post("/ivr/conference/hold?lang=ar")
    root = check_hold_twiml(held.get_data(as_text=True))
    assert [verb.tag for verb in root] == ["Say", "Play"] and root[1].get("loop") == "0"
    waiting = twilio.post("/ivr/conference/hold?lang=ckb&wait=1")
    assert [verb.tag for verb in check_hold_twiml(waiting.get_data(as_text=True))] == ["Play"]
    assert twilio.post("/ivr/conference/hold?lang=en", signed=False).status_code == 403


def test_hold_and_resume_update_the_callers_participant(app, app_context, client, twilio_api, conferences):
    agent, call, _, _ = connected_call(app, client, twilio_api)
    response = control(agent, call, "hold")
    assert response.status_code == 200 and response.get_json()["ok"] is True
    update = twilio_api.conference_requests()[-1]
    assert update.path.endswith(f"/Conferences/{call.conference_sid}/Participants/{call.sid}.json")
    assert update.form["Hold"] == "true" and update.form["HoldMethod"] == "POST"
    assert path_of(update.form["HoldUrl"]) == "/ivr/conference/hold?lang=en"
    assert twilio_api.participant(call.sid)["hold"] is True
    assert fresh_call(call.id).held_at is not None

    assert control(agent, call, "resume").get_json()["ok"] is True
    assert twilio_api.conference_requests()[-1].form == {"Hold": "false"}
    assert twilio_api.participant(call.sid)["hold"] is False
    call = fresh_call(call.id)
    assert call.held_at is None and call.hold_s >= 0
    assert steps(call)[-2:] == ["call_hold", "call_resume"]
    audited = db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == str(call.id))).all()
    assert {"call_hold", "call_resume"} <= set(audited)


def test_mute_updates_the_agents_own_participant(app, app_context, client, twilio_api, conferences):
    agent, call, _, _ = connected_call(app, client, twilio_api)
    assert control(agent, call, "mute").status_code == 200
    update = twilio_api.conference_requests()[-1]
    assert update.path.endswith(f"/Participants/{call.agent_leg_sid}.json") and update.form == {"Muted": "true"}
    assert fresh_call(call.id).agent_muted is True
    assert control(agent, call, "unmute").status_code == 200
    assert twilio_api.participant(call.agent_leg_sid)["muted"] is False


def test_a_failing_twilio_leaves_the_call_as_it_was_and_tells_the_agent(
    app, app_context, client, twilio_api, conferences
):
    agent, call, _, _ = connected_call(app, client, twilio_api)
    events_before = steps(call)
    twilio_api.fail("POST", r"/Participants/", 500)
    response = control(agent, call, "hold")
    assert response.status_code == 502
    assert response.get_json()["message"].startswith("The telephone service did not answer. Nothing has changed")
    call = fresh_call(call.id)
    assert call.held_at is None and steps(call) == events_before
    # Without JavaScript: the same words on the call screen.
    plain = agent.post(f"/console/calls/{call.id}/control/mute", data={"csrf_token": _token(agent, call)})
    assert plain.status_code == 303
    assert "Nothing has changed on the call" in agent.get(plain.headers["Location"]).get_data(as_text=True)
    assert fresh_call(call.id).agent_muted is False


def _token(agent, call):
    from tests.support.console import csrf_token

    return csrf_token(agent, f"/console/calls/{call.id}")


def test_another_agent_cannot_control_the_call(app, app_context, client, twilio_api, conferences):
    _, call, _, _ = connected_call(app, client, twilio_api)
    from tests.support.console import agent_client

    other = agent_client(app, "bilal")
    assert control(other, call, "hold").status_code == 403
    assert control(other, call, "nonsense").status_code == 404


def test_warm_transfer_consult_join_and_hand_over(app, app_context, client, twilio_api, conferences):
    agent, call, caller, _ = connected_call(app, client, twilio_api)
    colleague = make_user("bilal")
    colleague.presence = Presence.available
    db.session.commit()

    assert control(agent, call, "consult", target=str(colleague.id)).get_json()["ok"] is True
    hold, create = twilio_api.conference_requests()[-2:]
    assert hold.form["Hold"] == "true"
    assert create.path.endswith(f"/Conferences/{call.conference_sid}/Participants.json")
    assert create.form["To"].startswith("client:bilal?") and create.form["EndConferenceOnExit"] == "false"
    leg = db.session.scalar(select(CallLeg).where(CallLeg.call_id == call.id))
    assert fresh_call(call.id).consults == 1

    # The colleague answers (Twilio's participant status callback).
    Twilio(client, sid=leg.call_sid).post(
        f"/ivr/conference/leg?call={call.id}&consult={colleague.id}", CallStatus="in-progress"
    )
    assert db.session.get(User, colleague.id).presence == Presence.on_call

    assert control(agent, call, "join").get_json()["ok"] is True
    assert twilio_api.conference_requests()[-1].form == {"Hold": "false"}

    response = control(agent, call, "hand_over")
    assert response.get_json() == {
        "ok": True,
        "reason": "done",
        "message": "The call is handed over to your colleague. You are available for the next caller.",
        "url": "/console/",
    }
    *updates, delete = twilio_api.conference_requests()[-3:]
    assert [u.form for u in updates] == [{"EndConferenceOnExit": "true"}, {"EndConferenceOnExit": "false"}]
    assert delete.method == "DELETE" and delete.path.endswith(f"/Participants/{call.agent_leg_sid}.json")
    call = fresh_call(call.id)
    assert call.agent_id == colleague.id and call.agent_leg_sid == leg.call_sid and call.transfers == 1
    assert db.session.scalar(select(User).where(User.username == "amira")).presence == Presence.available
    assert steps(call)[-1] == "call_transfer"
    assert twilio_api.participant(leg.call_sid)["end_conference_on_exit"] is True


def test_a_colleague_who_does_not_answer_brings_the_caller_back(app, app_context, client, twilio_api, conferences):
    agent, call, _, _ = connected_call(app, client, twilio_api)
    colleague = make_user("bilal")
    colleague.presence = Presence.available
    db.session.commit()
    control(agent, call, "consult", target=str(colleague.id))
    leg = db.session.scalar(select(CallLeg).where(CallLeg.call_id == call.id))
    assert twilio_api.participant(call.sid)["hold"] is True
    assert fresh_call(call.id).held_at is not None

    Twilio(client, sid=leg.call_sid).post(
        f"/ivr/conference/leg?call={call.id}&consult={colleague.id}", CallStatus="no-answer"
    )
    assert twilio_api.participant(call.sid)["hold"] is False
    call = fresh_call(call.id)
    assert call.held_at is None and call.events[-1].result == "consult_missed:resumed"
    assert db.session.get(CallLeg, leg.id).end_status == "no-answer"


def test_a_failed_hand_over_is_undone(app, app_context, client, twilio_api, conferences):
    agent, call, client_caller, _ = connected_call(app, client, twilio_api)
    colleague = make_user("bilal")
    colleague.presence = Presence.available
    db.session.commit()
    control(agent, call, "consult", target=str(colleague.id))
    leg = db.session.scalar(select(CallLeg).where(CallLeg.call_id == call.id))
    Twilio(client, sid=leg.call_sid).post(
        f"/ivr/conference/leg?call={call.id}&consult={colleague.id}", CallStatus="in-progress"
    )
    twilio_api.fail("DELETE", r"/Participants/", 500)
    assert control(agent, call, "hand_over").status_code == 502
    assert twilio_api.participant(leg.call_sid)["end_conference_on_exit"] is False
    assert twilio_api.participant(call.agent_leg_sid)["end_conference_on_exit"] is True
    call = fresh_call(call.id)
    assert call.agent_id != colleague.id and call.transfers == 0
    # The caller, taken off hold on the way, holds again for the consultation, as the rows say.
    assert call.held_at is not None and twilio_api.participant(call.sid)["hold"] is True


def test_an_agent_who_never_answers_sends_the_caller_back_to_the_queue(
    app, app_context, client, twilio_api, conferences
):
    _, call, _, _ = connected_call(app, client, twilio_api)
    agent_leg = call.agent_leg_sid
    Twilio(client, sid=agent_leg).post(
        f"/ivr/conference/leg?call={call.id}&agent={call.agent_id}", CallStatus="no-answer"
    )
    [redirect] = twilio_api.calls_updated(call.sid)[-1:]
    assert path_of(redirect.form["Url"]) == f"/ivr/agent/requeue?call={call.id}"
    call = fresh_call(call.id)
    assert call.agent_id is None and call.queue_left_at is None
    answer = Twilio(client, sid=call.sid).post(f"/ivr/agent/requeue?call={call.id}")
    assert "<Enqueue" in answer.get_data(as_text=True)


def test_twilio_refusing_to_ring_the_agent_puts_the_caller_back_in_the_queue(
    app, app_context, client, twilio_api, conferences
):
    from tests.support.console import agent_client, csrf_token, enqueue_caller

    call = enqueue_caller(client, 1)
    agent = agent_client(app, "amira")
    agent.post(
        f"/console/calls/{call.id}/take",
        headers={"Accept": "application/json", "X-CSRFToken": csrf_token(agent, "/console/")},
    )
    twilio_api.fail("POST", r"/Participants\.json$", 500)
    db.session.rollback()  # the take committed meanwhile
    answer = Twilio(client, sid=call.sid).post(f"/ivr/agent/connect?call={call.id}")
    assert "<Enqueue" in answer.get_data(as_text=True)
    call = fresh_call(call.id)
    assert call.agent_id is None and call.events[-1].result.startswith("conference_failed:HTTP 500")


def test_the_conference_sid_comes_with_its_events_and_the_end_ends_the_agents_part(
    app, app_context, client, twilio_api, conferences
):
    agent, call, caller, _ = connected_call(app, client, twilio_api)
    control(agent, call, "hold")
    caller.post(
        f"/ivr/conference/events?call={call.id}",
        StatusCallbackEvent="participant-hold",
        ConferenceSid=call.conference_sid,
        Timestamp="t1",
        SequenceNumber="3",
    )
    assert fresh_call(call.id).events[-1].result == "participant-hold:caller"
    answer = caller.post(f"/ivr/agent/done?call={call.id}&agent={call.agent_id}", DialCallStatus="completed")
    assert "<Hangup" in answer.get_data(as_text=True)
    call = fresh_call(call.id)
    assert call.agent_ended_at is not None and call.held_at is None and call.hold_s >= 0
    page = agent.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert "Caller put on hold" in page and 'id="call-controls"' in page


def test_the_call_log_and_its_csv_show_hold_time_transfers_and_consults(app, staff):
    import csv
    import io

    from tests.support.records import add_user, logged_in_client, post_form
    from tests.support.supervisor import add_call

    with app.app_context():
        rezan = add_user("rezan", Role.agent, display_name="Rezan")
        call = add_call("2025-03-10 09:20:00", queued_after=10, answered_after=5, talk=300, wrap=20, agent=rezan)
        call.hold_s, call.transfers, call.consults = 75, 1, 2
        db.session.commit()
    client = logged_in_client(app, "sami")
    page = client.get("/console/calls?from=2025-03-10&to=2025-03-10").get_data(as_text=True)
    assert "01:15 · 1" in page or "1:15 · 1" in page, page[page.find("<tbody") : page.find("</tbody>")][:600]
    body = post_form(client, "/console/calls.csv").get_data().decode("utf-8-sig")
    [row] = list(csv.DictReader(io.StringIO(body)))
    assert (row["hold_s"], row["transfers"], row["consults"]) == ("75", "1", "2")
