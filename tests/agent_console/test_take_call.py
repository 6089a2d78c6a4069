"""Taking a waiting call: one agent wins, Twilio moves the call, and the agent's phone rings."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from domain.calls.agent import Take, claim, take_call
from domain.calls.queue import waiting_calls
from extensions import db
from models import AuditEntry, Call, CallEvent, EndpointKind, Outcome, Presence, User
from tests.support.console import agent_client, console_client, csrf_token, enqueue_caller, letter, make_user
from tests.support.webhooks import PUBLIC_BASE_URL, Twilio

JSON = {"Accept": "application/json"}


def take(client, call: Call | int, token: str | None = None):
    call_id = call if isinstance(call, int) else call.id
    token = token or csrf_token(client, "/console/")
    return client.post(f"/console/calls/{call_id}/take", headers={**JSON, "X-CSRFToken": token})


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


# --- winning -------------------------------------------------------------------------------


def test_taking_a_call_redirects_it_to_the_agent_and_opens_the_call_screen(app, app_context, client, twilio_api):
    letter()
    call = enqueue_caller(client, 1)
    agent = agent_client(app, "amira")
    response = take(agent, call)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"ok": True, "url": f"/console/calls/{call.id}"}

    [redirect] = twilio_api.calls_updated(call.sid)
    assert redirect.path == f"/2010-04-01/Accounts/{app.config['TWILIO_ACCOUNT_SID']}/Calls/{call.sid}.json"
    assert redirect.form["Url"] == f"{PUBLIC_BASE_URL}/ivr/agent/connect?call={call.id}"
    assert redirect.form["Method"] == "POST"

    call = fresh(Call, call.id)
    assert call.agent_id == user("amira").id and call.taken_at is not None
    assert waiting_calls() == []
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "take_call")).target_id == str(call.id)
    steps = [event.step for event in call.events]
    assert steps[-1] == "agent_take" and call.events[-1].result.startswith("connected:agent:")


def test_a_plain_form_post_is_redirected_to_the_call_screen(app, app_context, client, twilio_api):
    call = enqueue_caller(client, 1)
    agent = agent_client(app, "amira")
    response = agent.post(f"/console/calls/{call.id}/take", data={"csrf_token": csrf_token(agent, "/console/")})
    assert response.status_code == 303 and response.headers["Location"] == f"/console/calls/{call.id}"


def test_a_second_click_by_the_same_agent_is_harmless(app, app_context, client, twilio_api):
    call = enqueue_caller(client, 1)
    agent = agent_client(app, "amira")
    assert take(agent, call).status_code == 200
    assert take(agent, call).status_code == 200
    assert len(twilio_api.calls_updated(call.sid)) == 1


# --- two agents, one call -----------------------------------------------------------------


def test_when_two_agents_click_at_once_exactly_one_wins(app, app_context, client, twilio_api):
    call = enqueue_caller(client, 1)
    call_id, sid = call.id, call.sid  # the threads must not touch this session's objects
    agents = [agent_client(app, name) for name in ("amira", "bilal")]
    tokens = [csrf_token(agent, "/console/") for agent in agents]
    start = threading.Barrier(2)
    results = [None, None]

    def click(index):
        with app.app_context():
            start.wait()
            response = take(agents[index], call_id, tokens[index])
            results[index] = (response.status_code, response.get_json())
            db.session.remove()

    threads = [threading.Thread(target=click, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409], results
    loser = next(body for status, body in results if status == 409)
    assert loser["reason"] == "taken" and loser["message"] == "Another agent took this call."
    assert len(twilio_api.calls_updated(sid)) == 1  # only the winner moved the call


def test_claims_one_after_the_other_only_the_first_wins(app_context, client):
    call = enqueue_caller(client, 1)
    first, second = make_user("amira"), make_user("bilal")
    assert claim(call.id, first) is True
    db.session.commit()  # claim() leaves the commit to its caller
    assert claim(call.id, second) is False
    assert fresh(Call, call.id).agent_id == first.id


def test_among_many_simultaneous_claims_exactly_one_wins(app, app_context, client):
    call_id = enqueue_caller(client, 1).id
    agent_ids = [make_user(f"agent{i}").id for i in range(8)]
    start = threading.Barrier(len(agent_ids))
    won = []

    def race(agent_id):
        with app.app_context():
            agent = db.session.get(User, agent_id)
            start.wait()
            if claim(call_id, agent):
                won.append(agent_id)
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=race, args=(agent_id,)) for agent_id in agent_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(won) == 1
    assert fresh(Call, call_id).agent_id == won[0]


def test_an_agent_with_a_call_in_hand_cannot_take_another(app, app_context, client, twilio_api):
    first, second = enqueue_caller(client, 1), enqueue_caller(client, 2, caller="+9647700000002")
    agent = agent_client(app, "amira")
    assert take(agent, first).status_code == 200
    refused = take(agent, second)
    assert refused.status_code == 409 and refused.get_json()["reason"] == "busy"
    assert fresh(Call, second.id).agent_id is None


# --- the caller is gone --------------------------------------------------------------------


def test_a_caller_who_hung_up_before_the_click_cannot_be_taken(app, app_context, client, twilio_api):
    call = enqueue_caller(client, 1)
    Twilio(client, sid=call.sid).post("/ivr/status", CallStatus="completed", CallDuration="20")
    agent = agent_client(app, "amira")
    response = take(agent, call)
    assert response.status_code == 410
    assert response.get_json() == {"ok": False, "reason": "gone", "message": "The caller hung up."}
    assert twilio_api.calls_updated() == []
    assert fresh(Call, call.id).agent_id is None


def test_when_twilio_says_the_call_is_over_the_claim_is_undone(app, app_context, client, twilio_api):
    call = enqueue_caller(client, 1)
    twilio_api.end_call(call.sid)  # hung up a moment ago; the status callback has not come yet
    agent = agent_client(app, "amira")
    response = take(agent, call)
    assert response.status_code == 410
    assert response.get_json()["message"] == "The caller hung up before the call could be connected."
    [redirect] = twilio_api.calls_updated(call.sid)
    assert redirect.form["Url"] == f"{PUBLIC_BASE_URL}/ivr/agent/connect?call={call.id}"

    call = fresh(Call, call.id)
    assert call.agent_id is None and call.taken_at is None and call.answered_at is None
    assert call.queue_result == "hangup" and call.outcome == Outcome.abandoned_in_queue
    assert waiting_calls() == []
    assert call.events[-1].step == "agent_take" and call.events[-1].result.startswith("caller_gone")
    # The agent is free for the next caller.
    other = enqueue_caller(client, 2, caller="+9647700000002")
    assert take(agent, other).status_code == 200


def test_when_twilio_cannot_be_reached_the_call_goes_back_to_the_queue(app, app_context, client, twilio_api):
    call = enqueue_caller(client, 1)
    twilio_api.fail_with = 500
    agent = agent_client(app, "amira")
    response = take(agent, call)
    assert response.status_code == 502 and response.get_json()["reason"] == "failed"
    assert [c.id for c in waiting_calls()] == [call.id]


def test_taking_needs_the_csrf_token(app, app_context, client, twilio_api):
    call = enqueue_caller(client, 1)
    agent = agent_client(app, "amira")
    response = agent.post(f"/console/calls/{call.id}/take", headers=JSON)
    assert response.status_code == 400
    response = agent.post(f"/console/calls/{call.id}/take", headers={**JSON, "X-CSRFToken": "forged"})
    assert response.status_code == 400
    assert fresh(Call, call.id).agent_id is None and twilio_api.calls_updated() == []


def test_taking_needs_a_login(app, app_context, client, twilio_api):
    call = enqueue_caller(client, 1)
    browser = console_client(app)
    token = csrf_token(browser)
    response = browser.post(f"/console/calls/{call.id}/take", headers={"X-CSRFToken": token})
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_a_call_that_never_queued_cannot_be_taken(app, app_context, client, twilio_api):
    Twilio(client, sid="CA" + "9" * 32).post("/ivr/voice")
    call = db.session.scalar(select(Call))
    agent = agent_client(app, "amira")
    assert take(agent, call).status_code == 404


# --- the use case itself: one outcome each ---------------------------------------------------


@pytest.fixture
def request_context(app):
    with app.test_request_context():  # url_for() of the agent-connect URL
        yield


def audited_takes() -> int:
    return len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "take_call")).all())


def test_take_call_taken_then_taken_again_moves_the_call_once(app_context, client, twilio_api, request_context):
    call = enqueue_caller(client, 1)
    agent = make_user("amira")
    assert take_call(call.id, agent, address="198.51.100.1") is Take.taken
    assert take_call(call.id, agent) is Take.taken
    assert len(twilio_api.calls_updated(call.sid)) == 1 and audited_takes() == 1
    db.session.rollback()  # committed, not just flushed
    assert fresh(Call, call.id).agent_id == agent.id


def test_take_call_not_queued(app_context, client, twilio_api, request_context):
    assert take_call(12345, make_user("amira")) is Take.not_queued


def test_take_call_busy(app_context, client, twilio_api, request_context):
    first, second = enqueue_caller(client, 1), enqueue_caller(client, 2, caller="+9647700000002")
    agent = make_user("amira")
    assert take_call(first.id, agent) is Take.taken
    assert take_call(second.id, agent) is Take.busy
    assert fresh(Call, second.id).agent_id is None


def test_take_call_other_agent(app_context, client, twilio_api, request_context):
    call = enqueue_caller(client, 1)
    assert take_call(call.id, make_user("amira")) is Take.taken
    assert take_call(call.id, make_user("bilal")) is Take.other_agent


def test_take_call_caller_left(app_context, client, twilio_api, request_context):
    call = enqueue_caller(client, 1)
    Twilio(client, sid=call.sid).post("/ivr/status", CallStatus="completed", CallDuration="20")
    assert take_call(call.id, make_user("amira")) is Take.caller_left
    assert twilio_api.calls_updated() == []


def test_take_call_caller_gone_while_moving(app_context, client, twilio_api, request_context):
    call = enqueue_caller(client, 1)
    twilio_api.end_call(call.sid)
    assert take_call(call.id, make_user("amira")) is Take.caller_gone
    db.session.rollback()
    call = fresh(Call, call.id)
    assert call.agent_id is None and call.outcome == Outcome.abandoned_in_queue and audited_takes() == 0


def test_take_call_failed_puts_the_call_back(app_context, client, twilio_api, request_context):
    call = enqueue_caller(client, 1)
    twilio_api.fail_with = 500
    assert take_call(call.id, make_user("amira")) is Take.failed
    db.session.rollback()
    assert [c.id for c in waiting_calls()] == [call.id] and audited_takes() == 0
    assert fresh(Call, call.id).events[-1].result.startswith("failed:agent:")


# --- the voice side: ringing the agent -------------------------------------------------------


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.data)


def taken_by(client, username: str, **user_options) -> Call:
    call = enqueue_caller(client, 1)
    agent = make_user(username, **user_options)
    assert claim(call.id, agent)
    db.session.commit()  # claim() leaves the commit to its caller
    return fresh(Call, call.id)


@pytest.mark.parametrize(
    "kind, endpoint, tag",
    [
        (EndpointKind.client, "amira-browser", "Client"),
        (EndpointKind.sip, "sip:amira@pbx.hotline.example.test", "Sip"),
        (EndpointKind.phone, "+9647507654321", "Number"),
    ],
)
def test_the_connect_webhook_dials_the_agent_by_endpoint_kind(app_context, client, kind, endpoint, tag):
    call = taken_by(client, "amira", endpoint_kind=kind, endpoint=endpoint)
    root = twiml(Twilio(client, sid=call.sid).post(f"/ivr/agent/connect?call={call.id}"))
    dial = root.find("Dial")
    assert dial is not None and root.find("Enqueue") is None
    target = dial.find(tag)
    assert target is not None
    # A browser is named in <Identity>, next to the <Parameter>s its phone shows while ringing.
    assert (target.findtext("Identity") if tag == "Client" else target.text) == endpoint
    action = urlsplit(dial.get("action"))
    assert action.path == "/ivr/agent/done"
    assert parse_qs(action.query) == {"call": [str(call.id)], "agent": [str(call.agent_id)]}
    assert dial.get("answerOnBridge") == "true"

    call = fresh(Call, call.id)
    assert call.answered_at is not None and call.outcome == Outcome.agent_answered
    assert call.agent.presence == Presence.on_call
    assert call.queue_left_at is not None and call.queue_result == "redirected"


def test_a_browser_agents_phone_is_told_which_call_rings_and_who_is_calling(app_context, client):
    call = taken_by(client, "amira", endpoint_kind=EndpointKind.client, endpoint="amira-browser")
    root = twiml(Twilio(client, sid=call.sid).post(f"/ivr/agent/connect?call={call.id}"))
    browser = root.find("Dial/Client")
    assert browser.findtext("Identity") == "amira-browser"
    assert {p.get("name"): p.get("value") for p in browser.findall("Parameter")} == {
        "kind": "queue",
        "callId": str(call.id),
        "caller": "0750 123 4567",
    }


def test_the_connect_webhook_needs_twilios_signature(app_context, client):
    call = taken_by(client, "amira")
    response = Twilio(client, sid=call.sid).post(f"/ivr/agent/connect?call={call.id}", signed=False)
    assert response.status_code == 403
    assert fresh(Call, call.id).answered_at is None


def test_a_connect_for_an_undone_claim_puts_the_caller_back_in_the_queue(app_context, client):
    call = enqueue_caller(client, 1)
    root = twiml(Twilio(client, sid=call.sid).post(f"/ivr/agent/connect?call={call.id}"))
    assert root.find("Dial") is None and root.find("Enqueue").text == "agents"
    assert [c.id for c in waiting_calls()] == [call.id]


def test_when_the_agent_hangs_up_the_caller_hears_goodbye_and_the_agent_wraps_up(app_context, client):
    call = taken_by(client, "amira")
    caller = Twilio(client, sid=call.sid)
    dial = twiml(caller.post(f"/ivr/agent/connect?call={call.id}")).find("Dial")
    root = twiml(caller.post(dial.get("action"), DialCallStatus="completed", DialCallDuration="95"))
    assert root.find("Hangup") is not None
    assert "Thank you for calling 5599" in " ".join(el.text or "" for el in root.iter("Say"))
    call = fresh(Call, call.id)
    assert call.agent_ended_at is not None and call.agent.presence == Presence.wrap_up
    assert call.outcome == Outcome.agent_answered


def test_when_the_agent_does_not_answer_the_caller_waits_again(app_context, client):
    call = taken_by(client, "amira")
    caller = Twilio(client, sid=call.sid)
    dial = twiml(caller.post(f"/ivr/agent/connect?call={call.id}")).find("Dial")
    root = twiml(caller.post(dial.get("action"), DialCallStatus="no-answer"))
    assert root.find("Enqueue") is not None and root.find("Hangup") is None
    call = fresh(Call, call.id)
    assert call.agent_id is None and call.answered_at is None and call.outcome != Outcome.agent_answered
    assert [c.id for c in waiting_calls()] == [call.id]
    assert user("amira").presence == Presence.away  # not offered the next caller on a dead phone


def test_a_caller_hanging_up_on_the_agent_ends_the_agents_leg_too(app_context, client):
    call = taken_by(client, "amira")
    caller = Twilio(client, sid=call.sid)
    caller.post(f"/ivr/agent/connect?call={call.id}")
    caller.post("/ivr/status", CallStatus="completed", CallDuration="200")
    call = fresh(Call, call.id)
    assert call.ended_at is not None and call.agent_ended_at is not None
    assert call.agent.presence == Presence.wrap_up and call.outcome == Outcome.agent_answered
    assert db.session.scalar(select(CallEvent).where(CallEvent.step == "agent_connect")).result == "dial:client"
