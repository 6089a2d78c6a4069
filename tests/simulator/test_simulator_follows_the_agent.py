"""When the console moves a simulated call (Twilio REST through the app's development stand-in),
does the simulator follow it to the agent, and play the agent's side: hang-up, no answer?
And does a callback placed from the console ring on the simulator, and reach the agent?"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from models import Call, CallbackRequest, CallbackStatus, CallEvent, DevTwilioCall, Outcome, Presence, User
from telephony.rest import twilio_client
from tests.support.console import agent_client, csrf_token
from tests.support.simulator_page import SimulatorPage

# An agent is on duty: a caller who presses 0 is queued (with nobody, the IVR offers a callback).
pytestmark = pytest.mark.usefixtures("someone_on_duty")

TRANSFER = "Please hold while we connect you to an agent."
ANSWERING = "An agent is answering your call now."
GOODBYE = "Thank you for calling 5599. Goodbye."


@pytest.fixture
def page(client):
    return SimulatorPage(client)


@pytest.fixture
def agent(app, app_context):
    return agent_client(app, "amira")


def take(agent, sid: str):
    """The agent clicks Take on the call's row, as console.js does."""
    call_id = db.session.scalar(select(Call.id).where(Call.sid == sid))
    response = agent.post(
        f"/console/calls/{call_id}/take",
        headers={"Accept": "application/json", "X-CSRFToken": csrf_token(agent, "/console/")},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return call_id


def stored(sid: str) -> Call:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.sid == sid))


def presence(username: str) -> Presence:
    db.session.expire_all()
    return db.session.scalar(select(User.presence).where(User.username == username))


def taken_and_followed(page: SimulatorPage, agent) -> int:
    page.call_to_the_queue()
    call_id = take(agent, page.sid)
    page.follow(page.poll())
    assert page.state == "connected"
    return call_id


# --- following the redirect ----------------------------------------------------------------


def test_the_poll_is_empty_until_an_agent_takes_the_call(app, page, agent, dev_twilio):
    page.call_to_the_queue()
    assert page.poll() is None
    call_id = take(agent, page.sid)

    update = page.poll()
    assert update["action"] == "redirect" and update["method"] == "POST"
    assert update["url"] == f"{app.config['PUBLIC_BASE_URL']}/ivr/agent/connect?call={call_id}"


def test_the_caller_is_redirected_out_of_the_queue_and_connected_to_that_agent(app, page, agent, dev_twilio):
    page.call_to_the_queue()
    take(agent, page.sid)
    turn = page.follow(page.poll())

    assert turn["state"] == "connected"
    assert page.texts() == [ANSWERING]  # "please hold" was said once, on entering the queue
    assert turn["dial"]["targets"] == [{"kind": "client", "address": "amira"}]
    assert turn["dial"]["action_url"].startswith("/ivr/agent/done?")
    assert page.poll() is None  # nothing new since the redirect followed
    call = stored(page.sid)
    assert call.queue_result == "redirected" and call.answered_at is not None
    steps = [event.step for event in call.events]
    assert steps[-2:] == ["queue_left", "agent_connect"]
    assert presence("amira") == Presence.on_call


def test_when_the_agent_hangs_up_the_caller_hears_goodbye_and_the_call_is_answered(app, page, agent, dev_twilio):
    taken_and_followed(page, agent)
    turn = page.agent_hangs_up(duration=42)
    assert turn["state"] == "ended" and page.texts() == [GOODBYE]
    page.hang_up(duration=75)

    call = stored(page.sid)
    assert call.outcome == Outcome.agent_answered
    assert call.answered_at is not None and call.agent_ended_at is not None and call.ended_at is not None
    assert call.duration_s == 75
    done = db.session.scalar(select(CallEvent).where(CallEvent.call_id == call.id, CallEvent.step == "agent_done"))
    assert done.result == "ended:completed"
    assert presence("amira") == Presence.wrap_up


def test_when_the_caller_hangs_up_on_the_agent_the_status_callback_ends_the_agents_leg(app, page, agent, dev_twilio):
    taken_and_followed(page, agent)
    page.hang_up(duration=30)
    call = stored(page.sid)
    assert call.outcome == Outcome.agent_answered and call.agent_ended_at is not None
    assert presence("amira") == Presence.wrap_up


def test_when_the_agent_does_not_answer_the_caller_waits_again_for_anyone(app, page, agent, dev_twilio):
    taken_and_followed(page, agent)
    turn = page.agent_does_not_answer()
    assert turn["state"] == "queued" and TRANSFER in page.texts()
    call = stored(page.sid)
    assert call.agent_id is None and call.queue_left_at is None
    assert presence("amira") == Presence.away

    second = agent_client(app, "bilal")
    take(second, page.sid)  # a later redirect of the same call is followed too
    assert page.follow(page.poll())["dial"]["targets"] == [{"kind": "client", "address": "bilal"}]


def test_the_app_hanging_up_the_call_ends_it_on_the_page(app, page, dev_twilio, app_context):
    page.call_to_the_queue()
    twilio_client().calls(page.sid).update(status="completed")
    update = page.poll()
    assert update["action"] == "hangup"
    assert page.follow(update)["state"] == "ended"
    call = stored(page.sid)
    assert call.ended_at is not None and call.outcome == Outcome.abandoned_in_queue


def test_follow_only_does_what_the_app_asked_of_that_call(app, client, agent, dev_twilio):
    first, second = SimulatorPage(client), SimulatorPage(client)
    first.call_to_the_queue()
    second.call_to_the_queue()
    take(agent, first.sid)
    update = first.poll()
    assert second.poll() is None
    refused = second.post("follow", {**second.state_kept(), "update_id": update["id"]}, expect=400)
    assert "update_id" in refused["error"]
    second.post("follow", {**second.state_kept(), "update_id": "many"}, expect=400)


@pytest.mark.parametrize("query", [{}, {"call_sid": "CA123"}, {"call_sid": "CA" + "a" * 32, "after": "-1"}])
def test_a_bad_poll_is_a_400(client, query):
    response = client.get("/dev/simulator/api/poll", query_string=query)
    assert response.status_code == 400 and "error" in response.get_json()


# --- callbacks placed from the console --------------------------------------------------------


@pytest.fixture
def placed_callback(app, app_context, agent, dev_twilio, monkeypatch):
    """An agent took a callback request and clicked Place call: Twilio (the stand-in) rings."""
    monkeypatch.setitem(app.config, "HOTLINE_CALLER_ID", "+9645599")
    callback = CallbackRequest(phone="+9647701112233", language="en", source="manual")
    db.session.add(callback)
    db.session.commit()
    for action in ("take", "place"):
        response = agent.post(
            f"/console/callbacks/{callback.id}/{action}", data={"csrf_token": csrf_token(agent, "/console/callbacks")}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    return db.session.get(CallbackRequest, callback.id)


def test_a_placed_callback_rings_on_the_page_and_puts_the_citizen_through_to_the_agent(page, placed_callback):
    [ringing] = page.incoming()
    assert ringing["call_sid"] == placed_callback.placed_call_sid
    assert (ringing["to"], ringing["from"]) == ("+9647701112233", "+9645599")

    turn = page.answer(ringing["call_sid"])
    assert turn["direction"] == "outbound-api" and turn["state"] == "connected"
    assert turn["dial"]["targets"] == [{"kind": "client", "address": "amira"}]
    assert page.texts()[-1] == TRANSFER
    assert page.incoming() == []  # answered: it rings no more

    assert page.agent_hangs_up(duration=20)["state"] == "ended"
    assert page.texts() == [GOODBYE]
    page.hang_up()
    db.session.expire_all()
    placed = db.session.scalar(select(DevTwilioCall).where(DevTwilioCall.sid == ringing["call_sid"]))
    assert placed.status == "completed" and placed.answered_at is not None and placed.ended_at is not None
    assert db.session.get(CallbackRequest, placed_callback.id).status == CallbackStatus.in_progress


def test_a_declined_callback_stops_ringing_and_cannot_be_answered(page, placed_callback):
    [ringing] = page.incoming()
    assert page.post("decline", {"call_sid": ringing["call_sid"]})["state"] == "ended"
    assert page.incoming() == []
    assert "no longer ringing" in page.post("answer", {"call_sid": ringing["call_sid"]}, expect=409)["error"]
    db.session.expire_all()
    assert db.session.scalar(select(DevTwilioCall.status)) == "busy"


def test_with_the_survey_on_the_caller_rates_the_agent_after_they_hang_up(app, page, agent, dev_twilio, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_ENABLED", True)
    taken_and_followed(page, agent)
    turn = page.agent_hangs_up(duration=42)
    assert turn["state"] == "waiting" and turn["gather"]["num_digits"] == 1
    page.press("5")
    assert page.state == "ended"
    page.hang_up()
    assert stored(page.sid).survey_score == 5


# --- routing by offer: the page shows whom the waiting caller is offered to -------------------


def poll_offer(client, sid: str):
    response = client.get("/dev/simulator/api/poll", query_string={"call_sid": sid})
    assert response.status_code == 200
    return response.get_json()["offer"]


def test_with_routing_by_offer_the_poll_says_which_agent_the_caller_is_offered_to(
    app, client, page, agent, dev_twilio, monkeypatch
):
    monkeypatch.setitem(app.config, "ROUTING_MODE", "offer")
    db.session.execute(db.update(User).where(User.username != "amira").values(presence=Presence.away))
    db.session.commit()
    heartbeat = agent.post("/console/heartbeat", headers={"X-CSRFToken": csrf_token(agent, "/console/")})
    assert heartbeat.status_code == 200
    page.call_to_the_queue()

    offer = poll_offer(client, page.sid)
    assert offer["agent"] == "Amira" and 0 < offer["expires_in_s"] <= app.config["OFFER_TIMEOUT_S"]
    take(agent, page.sid)  # Accept
    assert poll_offer(client, page.sid) is None
    assert page.follow(page.poll())["state"] == "connected"


def test_with_routing_from_the_list_the_poll_has_no_offer(app, client, page, agent, dev_twilio):
    page.call_to_the_queue()
    assert poll_offer(client, page.sid) is None
