"""Supervisors on an agent's call from the Agents page: monitor, whisper, barge and leave as the
REST requests the Twilio stand-in received, the call_leg row, the timeline and the audit log;
a refusing Twilio leaving everything as it was; agents kept out."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException

from domain.live import InProcessBroker
from extensions import db
from models import AuditEntry, Call, CallLeg, LegRole, Role, User
from tests.support.conference import JSON, connected_call
from tests.support.console import Stream, agent_client, console_client, csrf_token, log_in
from tests.support.webhooks import PUBLIC_BASE_URL, Twilio


@pytest.fixture
def conferences(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALL_CONFERENCES", True)


def fresh_call(call_id: int) -> Call:
    db.session.rollback()
    return db.session.get(Call, call_id)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def supervise(supervisor, agent_id: int, mode: str, **headers):
    token = csrf_token(supervisor, "/console/agents")
    return supervisor.post(
        f"/console/agents/{agent_id}/supervise", data={"mode": mode, "csrf_token": token}, headers={**JSON, **headers}
    )


def supervisor_legs(call: Call) -> list[CallLeg]:
    db.session.rollback()
    return list(
        db.session.scalars(select(CallLeg).where(CallLeg.call_id == call.id, CallLeg.role == LegRole.supervisor))
    )


def test_monitor_whisper_barge_and_leave(app, app_context, client, twilio_api, conferences):
    _, call, _, _ = connected_call(app, client, twilio_api)
    agent = user("amira")
    boss = agent_client(app, "sara", role=Role.supervisor)
    page = boss.get("/console/agents").get_data(as_text=True)
    assert f'data-call-id="{call.id}"' in page and 'value="whisper"' in page

    answered = supervise(boss, agent.id, "monitor")
    assert answered.status_code == 200 and answered.get_json()["ok"] is True, answered.get_json()
    create = twilio_api.conference_requests()[-1]
    assert create.path.endswith(f"/Conferences/{call.conference_sid}/Participants.json")
    assert create.form["To"].startswith("client:sara?") and f"callId={call.id}" in create.form["To"]
    assert create.form["Muted"] == "true" and create.form["Coaching"] == "false"
    assert "CallSidToCoach" not in create.form
    assert create.form["Beep"] == "false"
    assert create.form["StartConferenceOnEnter"] == "false" and create.form["EndConferenceOnExit"] == "false"
    assert (
        create.form["StatusCallback"]
        == f"{PUBLIC_BASE_URL}/ivr/conference/leg?call={call.id}&supervise={user('sara').id}"
    )
    [leg] = supervisor_legs(call)
    assert leg.detail == "monitor" and leg.user_id == user("sara").id and leg.ended_at is None
    assert twilio_api.participant(leg.call_sid)["muted"] is True

    assert supervise(boss, agent.id, "whisper").get_json()["ok"] is True
    update = twilio_api.conference_requests()[-1]
    assert update.path.endswith(f"/Participants/{leg.call_sid}.json")
    assert update.form == {"Muted": "false", "Coaching": "true", "CallSidToCoach": call.agent_leg_sid}
    state = twilio_api.participant(leg.call_sid)
    assert state["coaching"] is True and state["call_sid_to_coach"] == call.agent_leg_sid

    assert supervise(boss, agent.id, "whisper").get_json()["reason"] == "unchanged"
    assert supervise(boss, agent.id, "barge").get_json()["ok"] is True
    assert twilio_api.conference_requests()[-1].form == {"Muted": "false", "Coaching": "false"}
    assert twilio_api.participant(leg.call_sid)["coaching"] is False

    page = boss.get("/console/agents").get_data(as_text=True)
    assert 'value="leave"' in page
    assert supervise(boss, agent.id, "leave").get_json()["ok"] is True
    removed = twilio_api.conference_requests()[-1]
    assert removed.method == "DELETE" and removed.path.endswith(f"/Participants/{leg.call_sid}.json")
    assert twilio_api.participant(leg.call_sid) is None
    [leg] = supervisor_legs(call)
    assert leg.ended_at is not None and leg.end_status == "removed"

    call = fresh_call(call.id)
    wanted = ["call_monitor", "call_whisper", "call_barge", "call_supervise_leave"]
    assert [e.step for e in call.events if e.step in wanted] == wanted
    audited = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.target_id == str(call.id)).order_by(AuditEntry.id)
    ).all()
    assert [a for a in audited if a in wanted] == wanted
    screen = boss.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert "Supervisor whispering to the agent" in screen and "Supervisor left the call" in screen


def test_the_supervisors_phone_status_closes_the_leg(app, app_context, client, twilio_api, conferences):
    _, call, _, _ = connected_call(app, client, twilio_api)
    boss = agent_client(app, "sara", role=Role.supervisor)
    assert supervise(boss, user("amira").id, "monitor").status_code == 200
    [leg] = supervisor_legs(call)
    url = f"/ivr/conference/leg?call={call.id}&supervise={user('sara').id}"
    assert Twilio(client, sid=leg.call_sid).post(url, CallStatus="in-progress").status_code == 204
    Twilio(client, sid=leg.call_sid).post(url, CallStatus="completed")
    [leg] = supervisor_legs(call)
    assert leg.answered_at is not None and leg.ended_at is not None and leg.end_status == "completed"
    assert fresh_call(call.id).agent_leg_sid is not None  # the agent's call goes on
    # Gone already at Twilio: leaving only catches the row up, nothing is asked.
    assert supervise(boss, user("amira").id, "leave").get_json()["reason"] == "not_live"


def test_a_refusing_twilio_leaves_everything_as_it_was(app, app_context, client, twilio_api, conferences):
    _, call, _, _ = connected_call(app, client, twilio_api)
    agent = user("amira")
    boss = agent_client(app, "sara", role=Role.supervisor, language="ar")
    twilio_api.fail("POST", r"/Participants\.json$", 500)
    answered = supervise(boss, agent.id, "monitor")
    assert answered.status_code == 502 and answered.get_json()["reason"] == "failed"
    assert answered.get_json()["message"] == "لم تستجب خدمة الهاتف. لم يتغير شيء في المكالمة؛ يرجى المحاولة مرة أخرى."
    assert supervisor_legs(call) == []
    assert not [e for e in fresh_call(call.id).events if e.step.startswith("call_monitor")]

    twilio_api.failing.clear()
    assert supervise(boss, agent.id, "monitor").status_code == 200
    [leg] = supervisor_legs(call)
    twilio_api.fail("POST", r"/Participants/CA", 500)
    assert supervise(boss, agent.id, "barge").status_code == 502
    [leg] = supervisor_legs(call)
    assert leg.detail == "monitor" and twilio_api.participant(leg.call_sid)["muted"] is True
    twilio_api.fail("DELETE", r"/Participants/CA", 500)
    assert supervise(boss, agent.id, "leave").status_code == 502
    [leg] = supervisor_legs(call)
    assert leg.ended_at is None and twilio_api.participant(leg.call_sid) is not None

    flashed = supervise(boss, agent.id, "leave", Accept="text/html")
    assert flashed.status_code == 303 and flashed.headers["Location"].endswith("/console/agents")


def test_the_stand_in_holds_coaching_to_twilios_rules(app, app_context, client, twilio_api, conferences):
    from telephony.rest import twilio_client

    _, call, _, _ = connected_call(app, client, twilio_api)
    participants = twilio_client().conferences(call.conference_sid).participants
    with pytest.raises(TwilioRestException) as refused:
        participants(call.sid).update(coaching=True)
    assert refused.value.status == 400
    with pytest.raises(TwilioRestException):
        participants(call.sid).update(coaching=True, call_sid_to_coach="CA" + "0" * 32)
    with pytest.raises(TwilioRestException):
        participants.create(from_="+1", to="client:x", beep="loud")


def test_agents_cannot_supervise_and_nobody_joins_an_idle_agent(app, app_context, client, twilio_api, conferences):
    _, call, _, _ = connected_call(app, client, twilio_api)
    colleague = agent_client(app, "omar")
    assert supervise(colleague, user("amira").id, "monitor").status_code == 403
    assert "data-call-id" not in colleague.get("/console/agents").get_data(as_text=True)
    boss = agent_client(app, "sara", role=Role.supervisor)
    assert supervise(boss, user("omar").id, "monitor").get_json()["reason"] == "not_live"
    assert supervise(boss, user("amira").id, "eavesdrop").get_json()["reason"] == "not_live"
    assert supervise(boss, 999999, "monitor").status_code == 404
    assert boss.post(f"/console/agents/{user('amira').id}/supervise", data={"mode": "monitor"}).status_code == 400
    requests_before = len(twilio_api.conference_requests())
    left = supervise(boss, user("amira").id, "leave").get_json()
    assert left["reason"] == "not_live" and left["message"] == "This agent is not on a call you can join now."
    assert len(twilio_api.conference_requests()) == requests_before
    assert supervisor_legs(call) == []


def test_leaving_a_participant_twilio_no_longer_has_closes_the_row(app, app_context, client, twilio_api, conferences):
    _, call, _, _ = connected_call(app, client, twilio_api)
    boss = agent_client(app, "sara", role=Role.supervisor)
    assert supervise(boss, user("amira").id, "monitor").status_code == 200
    [leg] = supervisor_legs(call)
    twilio_api.hang_up_participant(leg.call_sid)  # gone at Twilio, its status callback not here yet
    left = supervise(boss, user("amira").id, "leave")
    assert left.status_code == 200 and left.get_json()["ok"] is True
    [leg] = supervisor_legs(call)
    assert leg.ended_at is not None


def wallboard_rows(page: str) -> list[str]:
    """The agents listed under the wallboard's supervise controls, by their data-key."""
    return re.findall(r'class="supervise-row[^"]*" data-user-id="\d+"\s+data-key="([^"]+)"', page)


def test_the_wallboard_lists_agents_on_a_call_with_the_agents_page_controls(
    app, app_context, client, twilio_api, conferences
):
    _, call, _, _ = connected_call(app, client, twilio_api)
    agent = user("amira")
    agent_client(app, "omar")  # logged in, on no call: not listed
    boss = agent_client(app, "sara", role=Role.supervisor)
    board = boss.get("/console/wallboard").get_data(as_text=True)
    assert wallboard_rows(board) == [f"{agent.id}:{call.id}:"]
    assert f'action="/console/agents/{agent.id}/supervise"' in board and f'data-call-id="{call.id}"' in board
    assert 'name="back" value="wallboard"' in board and 'value="whisper"' in board and 'value="leave"' not in board
    assert 'data-fragment-url="/console/wallboard/supervise"' in board
    assert not re.search(r'id="supervise-panel" open', board)  # folded: the wall screen stays readable

    # The fragment the page reads as the board refreshes: the same rows, never cached.
    fragment = boss.get("/console/wallboard/supervise")
    assert fragment.status_code == 200 and fragment.headers["Cache-Control"] == "no-store"
    assert wallboard_rows(fragment.get_data(as_text=True)) == [f"{agent.id}:{call.id}:"]

    # Posted from the wallboard with fetch: the same route, the same JSON answer, audited.
    token = csrf_token(boss, "/console/wallboard")
    answered = boss.post(
        f"/console/agents/{agent.id}/supervise",
        data={"mode": "whisper", "back": "wallboard", "csrf_token": token},
        headers=JSON,
    )
    assert answered.status_code == 200 and answered.get_json()["message"] == "Only the agent hears you now."
    create = twilio_api.conference_requests()[-1]
    assert create.form["Coaching"] == "true" and create.form["CallSidToCoach"] == fresh_call(call.id).agent_leg_sid
    fragment = boss.get("/console/wallboard/supervise").get_data(as_text=True)
    assert wallboard_rows(fragment) == [f"{agent.id}:{call.id}:whisper"]
    assert 'value="leave"' in fragment and 'value="whisper"' not in fragment
    assert "call_whisper" in db.session.scalars(select(AuditEntry.action)).all()
    # On a call, the panel opens by itself so that Leave is in sight.
    assert re.search(r'id="supervise-panel" open', boss.get("/console/wallboard").get_data(as_text=True))

    # Without JavaScript the form posts and comes back to the wallboard, which says what happened.
    left = boss.post(
        f"/console/agents/{agent.id}/supervise", data={"mode": "leave", "back": "wallboard", "csrf_token": token}
    )
    assert left.status_code == 303 and left.headers["Location"].endswith("/console/wallboard")
    assert "You have left the call." in boss.get("/console/wallboard").get_data(as_text=True)
    # Any other `back` is the Agents page, as before.
    refused = boss.post(
        f"/console/agents/{agent.id}/supervise", data={"mode": "leave", "back": "//evil", "csrf_token": token}
    )
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/console/agents")


def test_the_wallboard_lists_nobody_when_no_call_can_be_joined(app, app_context, client, twilio_api, conferences):
    boss = agent_client(app, "sara", role=Role.supervisor, language="ckb")
    fragment = boss.get("/console/wallboard/supervise").get_data(as_text=True)
    assert wallboard_rows(fragment) == [] and 'data-count="0"' in fragment
    assert "ئێستا هیچ کارمەندێک لە پەیوەندیدا نییە." in fragment
    # The call's own agent, were they a supervisor, does not see themself to join.
    connected_call(app, client, twilio_api, username="rezan")
    rezan = user("rezan")
    rezan.role = Role.supervisor
    db.session.commit()
    assert wallboard_rows(boss.get("/console/wallboard/supervise").get_data(as_text=True)) != []
    own = console_client(app)
    log_in(own, "rezan")
    assert wallboard_rows(own.get("/console/wallboard/supervise").get_data(as_text=True)) == []


def test_agents_cannot_read_the_wallboards_supervise_list(app, app_context, client, twilio_api, conferences):
    connected_call(app, client, twilio_api)
    colleague = agent_client(app, "omar")
    assert colleague.get("/console/wallboard/supervise").status_code == 403


def test_the_agents_call_screen_says_when_a_supervisor_is_heard(app, app_context, client, twilio_api, conferences):
    """Whisper and barge are told to the call's agent (they hear a voice); listening in is not."""
    agent, call, _, _ = connected_call(app, client, twilio_api)
    amira = user("amira").id
    boss = agent_client(app, "sara", role=Role.supervisor)
    coached = "A supervisor is coaching you: only you can hear them, the caller cannot."
    barged = "A supervisor has joined the call: the caller hears them too."

    def told(who=agent) -> str:
        return who.get(f"/console/calls/{call.id}/state.json").get_json()["supervision"]

    app.extensions["hotline.broker"] = InProcessBroker()
    try:
        stream = Stream(agent, f"/console/calls/{call.id}/stream")
        assert stream.next_event("state")["supervision"] == ""
        assert supervise(boss, amira, "whisper").get_json()["ok"] is True
        assert told() == ""  # the supervisor's phone rings: nobody is heard yet
        [leg] = supervisor_legs(call)
        Twilio(client, sid=leg.call_sid).post(
            f"/ivr/conference/leg?call={call.id}&supervise={user('sara').id}", CallStatus="in-progress"
        )
        # The open call screen is told at once (the route and the leg's webhook publish the call).
        events = [stream.next_event("state")["supervision"] for _ in range(2)]
        assert events[-1] == coached, events
        assert told() == coached and told(boss) == ""  # the agent's own screen only

        assert supervise(boss, amira, "monitor").get_json()["ok"] is True
        assert stream.next_event("state")["supervision"] == "" and told() == ""
        assert supervise(boss, amira, "barge").get_json()["ok"] is True
        assert stream.next_event("state")["supervision"] == barged
        assert supervise(boss, amira, "leave").get_json()["ok"] is True
        assert stream.next_event("state")["supervision"] == "" and told() == ""
        stream.close()
    finally:
        app.extensions.pop("hotline.broker", None)

    # In the agent's language.
    other, second, _, _ = connected_call(app, client, twilio_api, username="rezan", n=2)
    rezan = user("rezan")
    rezan.language = "ckb"
    db.session.commit()
    supervise(boss, rezan.id, "barge")
    [leg] = supervisor_legs(second)
    Twilio(client, sid=leg.call_sid).post(
        f"/ivr/conference/leg?call={second.id}&supervise={user('sara').id}", CallStatus="in-progress"
    )
    screen = other.get(f"/console/calls/{second.id}").get_data(as_text=True)
    assert "سەرپەرشتیارێک بەشداری پەیوەندییەکە بوو: پەیوەندیکەریش گوێی لێیەتی." in screen
