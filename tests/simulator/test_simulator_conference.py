"""With CALL_CONFERENCES, the simulator plays the caller's conference: the agent taking the
call is rung in by REST at the development stand-in and answers (their leg's status callback
and the conference's join posted as Twilio would), and hold, resume, a supervisor whispering
and a transfer to the queue, done from the console, show in the simulator's transcript."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from models import Call, CallEvent, Role
from tests.support.conference import control
from tests.support.console import agent_client, csrf_token
from tests.support.simulator_page import SimulatorPage

pytestmark = pytest.mark.usefixtures("someone_on_duty")

ON_HOLD = "Please stay on the line. The agent will be with you again in a moment."


@pytest.fixture
def conferences(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALL_CONFERENCES", True)


@pytest.fixture
def page(client):
    return SimulatorPage(client)


def stored(sid: str) -> Call:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.sid == sid))


def follow_conference(page: SimulatorPage, after: int | None = None) -> dict:
    dial = page.turn["dial"]
    body = {
        **page.state_kept(),
        "after": page.last_conference if after is None else after,
        "dial": {k: dial[k] for k in ("action_url", "conference", "events_url", "since")},
    }
    answer = page.post("conference", body)
    page.last_conference = answer["last_id"]
    return answer


def titles(answer: dict) -> list[str]:
    return [note["title"] for note in answer["notes"]]


def taken_in_conference(app, page: SimulatorPage):
    page.call_to_the_queue()
    agent = agent_client(app, "amira")
    call = stored(page.sid)
    taken = agent.post(
        f"/console/calls/{call.id}/take",
        headers={"Accept": "application/json", "X-CSRFToken": csrf_token(agent, "/console/")},
    )
    assert taken.status_code == 200, taken.get_data(as_text=True)
    turn = page.follow(page.poll())
    assert turn["state"] == "connected"
    page.last_conference = 0
    return agent, stored(page.sid), turn


def test_the_caller_waits_in_the_conference_and_the_agent_rung_in_answers(
    app, app_context, page, conferences, dev_twilio
):
    _, call, turn = taken_in_conference(app, page)
    dial = turn["dial"]
    assert dial["conference"] == f"hotline-call-{call.id}"
    assert dial["events_url"].startswith("/ivr/conference/events?")
    assert dial["agent"] == {"address": "amira", "kind": "client"}

    answer = follow_conference(page)
    assert titles(answer) == ["Twilio rings agent “amira” into the conference"]
    call = stored(page.sid)
    results = [(e.step, e.result) for e in call.events if e.step in ("conference_leg", "conference")]
    assert results == [("conference_leg", "agent_in-progress"), ("conference", "participant-join:agent")]

    # Followed again from the same point (another tab, a retry): nothing new on the timeline.
    again = follow_conference(page, after=0)
    assert titles(again) == titles(answer)
    assert len(stored(page.sid).events) == len(call.events)
    assert follow_conference(page)["notes"] == []


def test_hold_resume_and_a_whispering_supervisor_show_in_the_transcript(
    app, app_context, page, conferences, dev_twilio
):
    agent, call, _ = taken_in_conference(app, page)
    follow_conference(page)

    assert control(agent, call, "hold").get_json()["ok"] is True
    answer = follow_conference(page)
    assert titles(answer) == [f"On hold: {ON_HOLD}"]
    assert [s["text"] for s in answer["notes"][0]["spoken"] if s["kind"] == "say"] == [ON_HOLD]
    assert control(agent, call, "resume").get_json()["ok"] is True
    assert titles(follow_conference(page)) == ["Off hold: you are back on the line"]

    supervisor = agent_client(app, "salma", role=Role.supervisor)
    whisper = supervisor.post(
        f"/console/agents/{call.agent_id}/supervise",
        data={"mode": "whisper", "csrf_token": csrf_token(supervisor, "/console/agents")},
    )
    assert whisper.status_code in (200, 302, 303), whisper.get_data(as_text=True)
    answer = follow_conference(page)
    assert titles(answer) == ["A supervisor joined, whispering to the agent (you don't hear them)"]
    steps = [e.result for e in stored(page.sid).events if e.step == "conference_leg"]
    assert steps[-1] == "supervisor_answered"


def test_after_a_transfer_to_the_queue_the_next_agents_conference_starts_afresh(
    app, app_context, page, conferences, dev_twilio
):
    agent, call, _ = taken_in_conference(app, page)
    follow_conference(page)
    first_since = page.turn["dial"]["since"]
    assert control(agent, call, "transfer", target="queue", note="wants a form").get_json()["ok"] is True
    turn = page.follow(page.poll())  # the caller's call is redirected out of the conference
    assert turn["state"] == "queued"

    # The same conference name (it is the call's) for the next agent: what ended the first one
    # (the agent's conference ended by REST) is not played again.
    bashir = agent_client(app, "bashir")
    taken = bashir.post(
        f"/console/calls/{call.id}/take",
        headers={"Accept": "application/json", "X-CSRFToken": csrf_token(bashir, "/console/")},
    )
    assert taken.status_code == 200, taken.get_data(as_text=True)
    turn = page.follow(page.poll())
    assert turn["state"] == "connected" and turn["dial"]["since"] > first_since
    assert turn["dial"]["agent"]["address"] == "bashir"
    answer = follow_conference(page, after=0)
    assert titles(answer) == ["Twilio rings agent “bashir” into the conference"]
    assert answer["turn"] is None
    done = db.session.scalars(select(CallEvent.step).where(CallEvent.call_id == call.id)).all()
    assert "call_transfer" in done


def test_the_conference_api_refuses_what_is_not_a_conference(app, app_context, page, conferences, dev_twilio):
    page.call_to_the_queue()
    for dial in (None, "x", {"conference": "a b"}, {"conference": "hotline-call-1", "events_url": "http://x/"}):
        answer = page.client.post("/dev/simulator/api/conference", json={"call_sid": page.sid, "dial": dial})
        assert answer.status_code == 400, dial


def test_tones_sent_to_an_outside_number_consulted_show_in_the_transcript(
    app, app_context, page, conferences, dev_twilio, monkeypatch
):
    monkeypatch.setitem(app.config, "TRANSFER_NUMBERS", (("Health office", "+9647700000002"),))
    agent, call, _ = taken_in_conference(app, page)
    follow_conference(page)
    assert control(agent, call, "consult", target="number:Health office").get_json()["ok"] is True
    answer = follow_conference(page)  # the number answers, as the simulator's legs do
    assert titles(answer)[-1] == "The agent consults “+9647700000002”"
    sent = control(agent, call, "tones", digits="12w3#")
    assert sent.status_code == 200, sent.get_json()

    answer = follow_conference(page)
    assert titles(answer) == ["The agent sent 4 tones to “+9647700000002”"]
    assert answer["notes"][0]["text"] == "You don't hear them; they are back in the conference."
    events = [e.result for e in stored(page.sid).events if e.step == "conference"]
    assert events[-2:] == ["participant-leave:consult-number", "participant-join:consult-number"]
    assert follow_conference(page)["notes"] == []

    refused = page.client.post(  # TwiML Twilio could not parse is refused as Twilio refuses it
        "/dev/twilio/2010-04-01/Accounts/" + app.config["TWILIO_ACCOUNT_SID"] + f"/Calls/{page.sid}.json",
        data={"Twiml": "<Response><Play"},
        auth=(app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"]),
    )
    assert refused.status_code == 400 and refused.get_json()["code"] == 12100
