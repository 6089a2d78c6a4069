"""A caller and an agent in a call's conference, against the Twilio REST stand-in."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from extensions import db
from models import Call
from tests.support.console import agent_client, csrf_token, enqueue_caller
from tests.support.webhooks import Twilio

JSON = {"Accept": "application/json"}

# What Twilio lets a conference's waitUrl and a participant's holdUrl answer with.
HOLD_VERBS = {"Say", "Play", "Pause", "Redirect"}
CONFERENCE_ATTRIBUTES = {
    "muted",
    "beep",
    "startConferenceOnEnter",
    "endConferenceOnExit",
    "participantLabel",
    "jitterBufferSize",
    "waitUrl",
    "waitMethod",
    "maxParticipants",
    "record",
    "region",
    "coach",
    "trim",
    "statusCallbackEvent",
    "statusCallback",
    "statusCallbackMethod",
    "recordingStatusCallback",
    "recordingStatusCallbackMethod",
    "recordingStatusCallbackEvent",
    "eventCallbackUrl",
}


def check_hold_twiml(body: str) -> ET.Element:
    """A waitUrl/holdUrl answer: <Response> with only the verbs Twilio plays there."""
    root = ET.fromstring(body)
    assert root.tag == "Response"
    assert [verb.tag for verb in root if verb.tag not in HOLD_VERBS] == [], body
    return root


def check_conference_dial(body: str) -> ET.Element:
    """<Dial><Conference>: one Conference noun, documented attributes only; returns the noun."""
    root = ET.fromstring(body)
    dials = root.findall("Dial")
    assert len(dials) == 1, body
    [dial] = dials
    [noun] = list(dial)
    assert noun.tag == "Conference"
    assert set(noun.attrib) <= CONFERENCE_ATTRIBUTES, noun.attrib
    for value in (noun.get("startConferenceOnEnter"), noun.get("endConferenceOnExit")):
        assert value in {"true", "false"}
    assert set(dial.attrib) <= {"action", "method", "timeout", "hangupOnStar", "timeLimit", "callerId", "record"}
    return noun


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def connected_call(app, client, twilio_api, username: str = "amira", n: int = 1):
    """Enqueue a caller, let an agent take the call, and run the caller's agent-connect webhook:
    the agent is rung into the conference (answered at once), the caller joins it.
    Returns (the agent's console client, the call, the caller's Twilio, the TwiML answered)."""
    assert app.config["CALL_CONFERENCES"], "use the `conferences` fixture"
    call = enqueue_caller(client, n)
    agent = agent_client(app, username)
    taken = agent.post(
        f"/console/calls/{call.id}/take", headers={**JSON, "X-CSRFToken": csrf_token(agent, "/console/")}
    )
    assert taken.status_code == 200, taken.get_data(as_text=True)
    db.session.expire_all()  # the take committed in this test's session's back
    caller = Twilio(client, sid=call.sid)
    answer = caller.post(f"/ivr/agent/connect?call={call.id}")
    body = answer.get_data(as_text=True)
    db.session.expire_all()
    call = db.session.get(Call, call.id)
    assert "<Conference" in body, [(e.step, e.result) for e in call.events]
    noun = check_conference_dial(body)
    twilio_api.join_caller(noun.text, call.sid)
    return agent, call, caller, body


def taken_in_browser(page, client, twilio_api, n: int = 1) -> Call:
    """A caller queues; the agent's console page clicks Take and lands on the call screen; the
    caller's agent-connect webhook runs and they join the conference; the page shows it."""
    call = enqueue_caller(client, n)
    page.locator(f'#queue-rows tr[data-call-id="{call.id}"] button.take').click()
    page.wait_for_url(re.compile(rf"/console/calls/{call.id}$"))
    db.session.rollback()
    answer = Twilio(client, sid=call.sid).post(f"/ivr/agent/connect?call={call.id}")
    twilio_api.join_caller(check_conference_dial(answer.get_data(as_text=True)).text, call.sid)
    page.reload()
    return call


def control(agent, call: Call, action: str, **form):
    token = csrf_token(agent, f"/console/calls/{call.id}")
    return agent.post(f"/console/calls/{call.id}/control/{action}", data=form, headers={**JSON, "X-CSRFToken": token})
