"""Drill: Twilio's REST API answers 500 while agents transfer calls, on a real gunicorn with
calls in conferences (CALL_CONFERENCES on) and the Twilio REST stand-in.

Four callers, each taken by agent A over HTTP and connected to their call's conference. On
each, the stand-in answers 500 to the requests a transfer makes, in the ways a failing
Twilio can: every participant and call-update request at once; only the participant being
created (or the caller's redirect), after the caller was put on hold; only the agent's
leaving, after the rest was done (and is undone: a Twilio that also refuses the undoing
leaves what it refused logged, which no drill can make right). The transfers: a warm one (consulting agent C, then
handing over), and cold ones to the queue, to agent B and to an outside number. Asserted
for every click:
- the agent is answered 502 with the clear sentence that nothing changed (never 500, never
  an empty answer), as JSON for the console's script and as a page for a plain form post;
- the call's rows are as before (its agent, conference, legs, hold, counters, timeline),
  and so are the conference's participants at the stand-in: the caller is not left on hold,
  agent A is still in the conference and still ends it on leaving, nobody added stays;
- with Twilio answering again, the same click transfers the call.
PostgreSQL pass only (like the other gunicorn drills).
"""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import select

from extensions import db
from models import Call, CallLeg, Presence, User
from tests.support.conference import check_conference_dial, path_of
from tests.support.console import make_user
from tests.support.drills import HttpTwilio, logged_in, sid
from tests.support.ivr import Caller, agent_on_duty
from tests.support.webhooks import AUTH_TOKEN

pytestmark = [pytest.mark.gunicorn, pytest.mark.usefixtures("postgres_pass")]
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
FAILED = "The telephone service did not answer. Nothing has changed on the call; please try again."
POLICE = "+9647700000001"

# How Twilio fails, as (method, path) patterns the stand-in answers 500 to.
CALL_UPDATE = ("POST", r"/Calls/CA[0-9a-zA-Z]+\.json$")
EVERYTHING = [("POST", r"/Participants"), ("DELETE", r"/Participants/"), CALL_UPDATE]
CREATING = [("POST", r"/Participants\.json$"), CALL_UPDATE]  # the caller's hold goes through first
# Only agent A's leaving: the steps before it done, then undone (their undoing gets through).
LEAVING = [("DELETE", r"/Participants/{agent_leg}\.json$")]


class Agent:
    """An agent's console over HTTP: a logged-in session and its CSRF token."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.session = logged_in(base, username)
        page = self.session.get(base + "/console/", timeout=10)
        self.token = CSRF_META.search(page.text).group(1)

    def post(self, path: str, json: bool = True, **form) -> requests.Response:
        headers = {"X-CSRFToken": self.token, "Accept": "application/json" if json else "text/html"}
        return self.session.post(
            self.base + path,
            data={**form, "csrf_token": self.token},
            headers=headers,
            timeout=15,
            allow_redirects=False,
        )


def user_id(username: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(User.id).where(User.username == username))


def connected(server, twilio_api, agent: Agent, n: int) -> Call:
    """Caller n walks to the queue, agent A takes the call, its conference is joined."""
    agent_on_duty()
    caller = Caller(HttpTwilio(server.base, AUTH_TOKEN, sid(n), caller=f"+96475011100{n:02d}"))
    assert caller.walk("3", "0").enqueued is not None
    db.session.rollback()
    call = db.session.scalar(select(Call).where(Call.sid == sid(n)))
    taken = agent.post(f"/console/calls/{call.id}/take")
    assert taken.status_code == 200, taken.text[:300]
    answer = HttpTwilio(server.base, AUTH_TOKEN, sid(n)).post(f"/ivr/agent/connect?call={call.id}")
    twilio_api.join_caller(check_conference_dial(answer.data.decode()).text, call.sid)
    db.session.rollback()
    call = db.session.get(Call, call.id)
    assert call.conference_sid and call.agent_leg_sid and call.answered_at, [e.step for e in call.events]
    return call


def as_it_is(twilio_api, call_id: int) -> dict:
    """Everything a failed transfer must leave as it was: the rows and the conference at Twilio."""
    db.session.rollback()
    call = db.session.get(Call, call_id)
    legs = db.session.scalars(select(CallLeg).where(CallLeg.call_id == call_id).order_by(CallLeg.id))
    presence = {name: state for name, state in db.session.execute(select(User.username, User.presence))}
    with twilio_api._lock:
        participants = {
            call_sid: (state.get("label"), bool(state.get("hold")), state.get("end_conference_on_exit"))
            for (conference, call_sid), state in twilio_api.participants.items()
            if conference == call.conference_sid
        }
    return {
        "call": (
            call.agent_id,
            call.agent_leg_sid,
            call.conference_sid,
            call.held_at,
            call.hold_s,
            call.agent_muted,
            call.transfers,
            call.consults,
            call.transfer_note,
            call.queued_at,
            call.agent_ended_at,
        ),
        "legs": [(leg.id, leg.role, leg.call_sid, leg.answered_at, leg.ended_at) for leg in legs],
        "timeline": [(event.step, event.result) for event in call.events],
        "presence": presence,
        "participants": participants,
    }


def refused_every_way(
    twilio_api, agent: Agent, call: Call, action: str, modes: list, held: bool = False, **form
) -> None:
    """With Twilio failing in each of these ways, the click is refused and nothing changes
    (`held`: the caller holds already, for a consultation)."""
    before = as_it_is(twilio_api, call.id)
    assert before["participants"][call.sid][1] is held and before["participants"][call.agent_leg_sid][2] is True
    for n, failing in enumerate(modes):
        for method, pattern in failing:
            twilio_api.fail(method, pattern.replace("{agent_leg}", call.agent_leg_sid), 500)
        asked = len(twilio_api.requests)
        answered = agent.post(f"/console/calls/{call.id}/control/{action}", **form)
        assert answered.status_code == 502, (action, failing, answered.status_code, answered.text[:300])
        assert answered.json()["ok"] is False and answered.json()["message"] == FAILED
        assert len(twilio_api.requests) > asked, "Twilio was not even asked"
        if n == 0:  # a plain form post (no script): back to the call screen, which says it
            page = agent.post(f"/console/calls/{call.id}/control/{action}", json=False, **form)
            assert page.status_code == 303 and page.headers["Location"].endswith(f"/console/calls/{call.id}")
            shown = agent.session.get(agent.base + page.headers["Location"], timeout=10)
            assert shown.status_code == 200 and FAILED in shown.text
        twilio_api.failing.clear()
        assert as_it_is(twilio_api, call.id) == before, (action, failing)


def test_twilio_answering_500_during_transfers_changes_nothing_and_says_so(
    app, app_context, database_url, twilio_api, gunicorn
):
    for username in ("amira", "bilal", "chiman"):
        make_user(username).presence = Presence.available
    db.session.commit()
    server = gunicorn(
        {
            "DATABASE_URL": database_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_ACCOUNT_SID": app.config["TWILIO_ACCOUNT_SID"],
            "TWILIO_API_BASE_URL": twilio_api.url,
            "CALL_CONFERENCES": "1",
            "TRANSFER_NUMBERS": f"Police={POLICE}",
            "AGENT_HOURS": "00:00-24:00",
            "SESSION_COOKIE_SECURE": "0",
        },
        workers=2,
    )
    amira = Agent(server.base, "amira")
    bilal, chiman = user_id("bilal"), user_id("chiman")

    # To the queue: the caller's redirect fails.
    call = connected(server, twilio_api, amira, 1)
    refused_every_way(twilio_api, amira, call, "transfer", [EVERYTHING, CREATING], target="queue", note="Water")
    done = amira.post(f"/console/calls/{call.id}/control/transfer", target="queue", note="Water")
    assert done.status_code == 200 and done.json()["ok"] is True
    assert path_of(twilio_api.calls_updated(call.sid)[-1].form["Url"]).startswith(f"/ivr/agent/requeue?call={call.id}")
    db.session.rollback()
    assert db.session.get(Call, call.id).agent_id is None and db.session.get(Call, call.id).transfer_note == "Water"

    # To agent B by name: the hold, the ring, the hand-over flag, the leaving: each one failing.
    call = connected(server, twilio_api, amira, 2)
    target = f"agent:{bilal}"
    refused_every_way(twilio_api, amira, call, "transfer", [EVERYTHING, CREATING, LEAVING], target=target)
    leg_a = call.agent_leg_sid
    done = amira.post(f"/console/calls/{call.id}/control/transfer", target=target)
    assert done.status_code == 200 and done.json()["ok"] is True
    db.session.rollback()
    moved = db.session.get(Call, call.id)
    assert moved.agent_id == bilal and twilio_api.participant(moved.agent_leg_sid)["to"].startswith("client:bilal?")
    assert twilio_api.participant(leg_a) is None  # agent A has left

    # Warm: consulting agent C, then handing over to them.
    call = connected(server, twilio_api, amira, 3)
    refused_every_way(twilio_api, amira, call, "consult", [EVERYTHING, CREATING], target=str(chiman))
    done = amira.post(f"/console/calls/{call.id}/control/consult", target=str(chiman))
    assert done.status_code == 200 and done.json()["ok"] is True
    db.session.rollback()
    leg = db.session.scalar(select(CallLeg).where(CallLeg.call_id == call.id))
    assert twilio_api.participant(call.sid)["hold"] is True and leg.user_id == chiman
    HttpTwilio(server.base, AUTH_TOKEN, leg.call_sid).post(
        f"/ivr/conference/leg?call={call.id}&consult={chiman}", CallStatus="in-progress"
    )
    refused_every_way(twilio_api, amira, call, "hand_over", [EVERYTHING, LEAVING], held=True)
    leg_a = call.agent_leg_sid
    done = amira.post(f"/console/calls/{call.id}/control/hand_over")
    assert done.status_code == 200 and done.json()["ok"] is True
    db.session.rollback()
    assert db.session.get(Call, call.id).agent_id == chiman and twilio_api.participant(leg_a) is None
    assert twilio_api.participant(call.sid)["hold"] is False  # the caller is with agent C

    # To an outside number from the list.
    call = connected(server, twilio_api, amira, 4)
    refused_every_way(twilio_api, amira, call, "transfer", [EVERYTHING, CREATING, LEAVING], target="number:Police")
    done = amira.post(f"/console/calls/{call.id}/control/transfer", target="number:Police")
    assert done.status_code == 200 and done.json()["ok"] is True
    db.session.rollback()
    assert db.session.get(Call, call.id).agent_ended_at is not None
    assert [p for p in twilio_api.participants.values() if p.get("to") == POLICE]
    assert db.session.get(User, user_id("amira")).presence == Presence.wrap_up
