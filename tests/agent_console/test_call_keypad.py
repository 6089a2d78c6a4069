"""Consulting an outside number (a warm transfer to another office) and the keypad: the tones
its phone menu asks for are played to that party by giving its call new TwiML, which puts it
back in the conference as it was. The timeline and the audit log keep how many tones, never
which; bad keys are refused, and a failing Twilio leaves the party where it was."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from extensions import db
from ivr import twiml
from models import AuditEntry, Call, CallLeg, LegRole, Presence, User
from tests.support.conference import check_conference_dial, connected_call, control
from tests.support.console import agent_client, make_user
from tests.support.webhooks import Twilio

OFFICE = "Health office"
OFFICE_NUMBER = "+9647700000002"


@pytest.fixture
def conferences(app, monkeypatch):
    monkeypatch.setitem(app.config, "CALL_CONFERENCES", True)
    monkeypatch.setitem(app.config, "TRANSFER_NUMBERS", (("Police", "+9647700000001"), (OFFICE, OFFICE_NUMBER)))


def fresh_call(call_id: int) -> Call:
    db.session.rollback()  # a new transaction: what the requests committed meanwhile
    return db.session.get(Call, call_id)


def the_leg(call: Call) -> CallLeg:
    db.session.rollback()
    return db.session.scalar(select(CallLeg).where(CallLeg.call_id == call.id).order_by(CallLeg.id.desc()))


def answered(client, call: Call, leg: CallLeg, status: str = "in-progress") -> None:
    """Twilio's status callback for the outside number's leg."""
    Twilio(client, sid=leg.call_sid).post(f"/ivr/conference/leg?call={call.id}&consult=number", CallStatus=status)


def consulting_the_office(app, client, twilio_api):
    agent, call, caller, _ = connected_call(app, client, twilio_api)
    response = control(agent, call, "consult", target=f"number:{OFFICE}")
    assert response.status_code == 200, response.get_json()
    leg = the_leg(call)
    answered(client, call, leg)
    return agent, fresh_call(call.id), the_leg(call)


def audit_details(call: Call, action: str) -> list[dict]:
    return [
        entry.detail
        for entry in db.session.scalars(
            select(AuditEntry).where(AuditEntry.target_id == str(call.id), AuditEntry.action == action)
        )
    ]


def test_the_tones_twiml_plays_the_digits_then_dials_back_into_the_conference():
    body = str(
        twiml.tones_then_conference(
            "w12#",
            name="hotline-call-7",
            label="consult-number",
            start_conference_on_enter=True,
            end_conference_on_exit=False,
        )
    )
    noun = check_conference_dial(body)
    assert noun.text == "hotline-call-7" and noun.get("participantLabel") == "consult-number"
    assert (noun.get("startConferenceOnEnter"), noun.get("endConferenceOnExit"), noun.get("beep")) == (
        "true",
        "false",
        "false",
    )
    root = ET.fromstring(body)
    assert [verb.tag for verb in root] == ["Play", "Dial"]
    assert root[0].get("digits") == "w12#" and not (root[0].text or "").strip()


def test_consulting_an_outside_number_holds_the_caller_and_rings_the_number(
    app, app_context, client, twilio_api, conferences
):
    agent, call, _, _ = connected_call(app, client, twilio_api)
    page = agent.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert 'data-action="consult_number"' in page and f'value="number:{OFFICE}"' in page
    assert OFFICE_NUMBER not in page and 'id="keypad-digits"' not in page

    response = control(agent, call, "consult", target=f"number:{OFFICE}")
    assert response.get_json()["message"] == "Calling the outside number. The caller is on hold."
    hold, create = twilio_api.conference_requests()[-2:]
    assert hold.form["Hold"] == "true"
    assert create.path.endswith(f"/Conferences/{call.conference_sid}/Participants.json")
    assert create.form["To"] == OFFICE_NUMBER and create.form["Label"] == "consult-number"
    assert (create.form["StartConferenceOnEnter"], create.form["EndConferenceOnExit"]) == ("true", "false")
    assert "consult=number" in create.form["StatusCallback"]
    leg = the_leg(call)
    assert (leg.role, leg.user_id, leg.detail, leg.answered_at) == (LegRole.consult, None, OFFICE, None)
    call = fresh_call(call.id)
    assert call.held_at is not None and call.consults == 1
    assert (call.events[-1].step, call.events[-1].result) == ("call_consult", f"number:{OFFICE}")
    assert audit_details(call, "call_consult") == [{"kind": "number", "label": OFFICE}]

    # Ringing: no keypad yet (a call not answered cannot be given TwiML).
    page = agent.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert f"Consulting {OFFICE}." in page and "Ringing…" in page and 'id="keypad-digits"' not in page
    assert control(agent, call, "tones", digits="1").status_code == 409
    answered(client, call, leg)
    assert the_leg(call).answered_at is not None
    page = agent.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert 'id="keypad-digits"' in page and 'data-action="tones"' in page and "Ringing…" not in page
    assert 'class="keypad" role="group"' in page and page.count('class="secondary keypad-key"') == 12


def test_tones_are_played_to_the_outside_party_who_stays_in_the_conference(
    app, app_context, client, twilio_api, conferences
):
    agent, call, leg = consulting_the_office(app, client, twilio_api)
    response = control(agent, call, "tones", digits=" 86w97# ")
    assert response.status_code == 200
    assert response.get_json()["message"] == "The tones were sent. The caller does not hear them."

    [update] = twilio_api.calls_updated(leg.call_sid)
    assert set(update.form) == {"Twiml"}
    noun = check_conference_dial(update.form["Twiml"])
    assert noun.text == f"hotline-call-{call.id}" and noun.get("participantLabel") == "consult-number"
    assert (noun.get("startConferenceOnEnter"), noun.get("endConferenceOnExit")) == ("true", "false")
    assert twilio_api.played_digits[leg.call_sid] == ["w86w97#"]
    # Back in the same conference, as it was; the caller still holds, untouched.
    state = twilio_api.participant(leg.call_sid)
    assert state["end_conference_on_exit"] is False and state["label"] == "consult-number"
    assert (call.conference_sid, leg.call_sid) in twilio_api.participants
    assert twilio_api.participant(call.sid)["hold"] is True

    call = fresh_call(call.id)
    event = call.events[-1]
    assert (event.step, event.result, event.digits) == ("call_tones", "tones:5", None)
    assert audit_details(call, "call_tones") == [{"tones": 5, "label": OFFICE}]
    assert the_leg(call).ended_at is None and call.held_at is not None
    # On the call screen: that tones were sent, and how many; never which.
    page = agent.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert "Tones sent to the outside number" in page and "Tones: 5" in page
    assert "86w97" not in page and "8697" not in page


@pytest.mark.parametrize("digits", ["", "   ", "w", "12a", "1 2", "12-3", "W1", "١٢", "1" * 33, "12\n3", "12<3"])
def test_keys_that_are_not_tones_are_refused(app, app_context, client, twilio_api, conferences, digits):
    agent, call, leg = consulting_the_office(app, client, twilio_api)
    events = len(call.events)
    response = control(agent, call, "tones", digits=digits)
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        "Only the keys 0 to 9, * and # can be sent, and w for a half-second wait: at most 32 keys."
    )
    assert twilio_api.calls_updated(leg.call_sid) == []
    assert len(fresh_call(call.id).events) == events
    assert control(agent, call, "tones", digits="1" * 32).status_code == 200  # the most keys there may be


def test_no_keys_at_all_is_refused_too(app, app_context, client, twilio_api, conferences):
    agent, call, leg = consulting_the_office(app, client, twilio_api)
    assert control(agent, call, "tones").status_code == 400


def test_tones_need_an_outside_number_on_the_call(app, app_context, client, twilio_api, conferences):
    agent, call, _, _ = connected_call(app, client, twilio_api)
    refused = control(agent, call, "tones", digits="1#")
    assert refused.status_code == 409
    assert refused.get_json()["message"] == (
        "Tones go only to an outside number you are consulting, once it has answered."
    )
    # A colleague consulted is no outside number.
    colleague = make_user("bilal")
    colleague.presence = Presence.available
    db.session.commit()
    assert control(agent, call, "consult", target=str(colleague.id)).status_code == 200
    assert control(agent, call, "tones", digits="1#").status_code == 409
    assert [r for r in twilio_api.calls_updated() if "Twiml" in r.form] == []
    page = agent.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert 'id="keypad-digits"' not in page


def test_tones_on_a_call_that_is_not_live_or_not_yours_are_refused(app, app_context, client, twilio_api, conferences):
    agent, call, leg = consulting_the_office(app, client, twilio_api)
    assert control(agent_client(app, "bilal"), call, "tones", digits="1").status_code == 403
    Twilio(client, sid=call.sid).post(
        f"/ivr/agent/done?call={call.id}&agent={call.agent_id}", DialCallStatus="completed"
    )  # the caller's conference ended
    response = control(agent, call, "tones", digits="1")
    assert response.status_code == 409
    assert response.get_json()["message"].startswith("This call is not connected to you")
    assert twilio_api.calls_updated(leg.call_sid) == []


def test_a_failing_twilio_leaves_the_outside_party_where_it_was(app, app_context, client, twilio_api, conferences):
    agent, call, leg = consulting_the_office(app, client, twilio_api)
    events = len(call.events)
    twilio_api.fail("POST", rf"/Calls/{leg.call_sid}\.json$", 500)
    response = control(agent, call, "tones", digits="1234#")
    assert response.status_code == 502
    assert response.get_json()["message"].startswith("The telephone service did not answer. Nothing has changed")
    assert leg.call_sid not in twilio_api.played_digits
    assert twilio_api.participant(leg.call_sid)["label"] == "consult-number"
    call = fresh_call(call.id)
    assert len(call.events) == events and audit_details(call, "call_tones") == []
    assert the_leg(call).ended_at is None


def test_the_caller_joins_then_the_outside_number_is_handed_the_call(app, app_context, client, twilio_api, conferences):
    agent, call, leg = consulting_the_office(app, client, twilio_api)
    control(agent, call, "tones", digits="4#")
    joined = control(agent, call, "join")
    assert joined.get_json()["message"] == "The caller has joined you and the outside number."
    assert twilio_api.participant(call.sid)["hold"] is False
    assert fresh_call(call.id).events[-1].result == f"number:{OFFICE}"
    page = agent.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert 'id="keypad-digits"' in page  # still: a menu may ask again once all three talk

    response = control(agent, call, "hand_over")
    assert response.get_json() == {
        "ok": True,
        "reason": "done",
        "message": "The call is handed over to the outside number and you have left it. Please wrap it up.",
        "url": f"/console/calls/{call.id}",  # the agent stays to wrap the call up
    }
    *flags, leave = twilio_api.conference_requests()[-3:]
    assert [(f.path.rsplit("/", 1)[-1], f.form) for f in flags] == [
        (f"{leg.call_sid}.json", {"EndConferenceOnExit": "true"}),
        (f"{call.agent_leg_sid}.json", {"EndConferenceOnExit": "false"}),
    ]
    assert leave.method == "DELETE" and leave.path.endswith(f"/Participants/{call.agent_leg_sid}.json")
    assert twilio_api.participant(leg.call_sid)["end_conference_on_exit"] is True
    call = fresh_call(call.id)
    assert call.agent_ended_at is not None and call.transfers == 1 and call.agent_muted is False
    assert (call.events[-1].step, call.events[-1].result) == ("call_transfer", f"number:{OFFICE}")
    assert audit_details(call, "call_transfer") == [{"kind": "warm_number", "label": OFFICE}]
    assert the_leg(call).end_status == "handed_over"
    amira = db.session.scalar(select(User).where(User.username == "amira"))
    assert amira.presence == Presence.wrap_up
    page = agent.get(f"/console/calls/{call.id}").get_data(as_text=True)
    assert 'id="keypad-digits"' not in page
    # The office hangs up later: the conference ends with it; nothing more to undo.
    answered(client, call, leg, "completed")
    assert fresh_call(call.id).events[-1].result == "consult_completed"


def test_an_outside_number_that_does_not_answer_brings_the_caller_back(
    app, app_context, client, twilio_api, conferences
):
    agent, call, _, _ = connected_call(app, client, twilio_api)
    control(agent, call, "consult", target=f"number:{OFFICE}")
    leg = the_leg(call)
    answered(client, call, leg, "no-answer")
    assert twilio_api.participant(call.sid)["hold"] is False
    call = fresh_call(call.id)
    assert call.held_at is None and call.events[-1].result == "consult_missed:resumed"
    assert the_leg(call).end_status == "no-answer"


def test_ending_the_consultation_with_the_outside_number(app, app_context, client, twilio_api, conferences):
    agent, call, leg = consulting_the_office(app, client, twilio_api)
    assert control(agent, call, "cancel").get_json()["ok"] is True
    delete, resume = twilio_api.conference_requests()[-2:]
    assert delete.method == "DELETE" and delete.path.endswith(f"/Participants/{leg.call_sid}.json")
    assert resume.form == {"Hold": "false"}
    call = fresh_call(call.id)
    assert (call.events[-1].step, call.events[-1].result) == ("call_consult_end", f"number:{OFFICE}")
    assert call.held_at is None and the_leg(call).ended_at is not None


def test_only_listed_numbers_one_at_a_time_and_a_refusal_changes_nothing(
    app, app_context, client, twilio_api, conferences
):
    agent, call, _, _ = connected_call(app, client, twilio_api)
    unknown = control(agent, call, "consult", target="number:Somewhere else")
    assert unknown.status_code == 409
    assert unknown.get_json()["message"] == "This number is not on the list of outside numbers."
    assert twilio_api.conference_requests()[-1].form.get("Label") == "agent"  # nothing since the agent

    twilio_api.fail("POST", r"/Participants\.json$", 500)
    failed = control(agent, call, "consult", target=f"number:{OFFICE}")
    assert failed.status_code == 502
    assert twilio_api.participant(call.sid)["hold"] is False  # put on hold for nothing: taken off again
    call = fresh_call(call.id)
    assert call.held_at is None and call.consults == 0 and the_leg(call) is None

    twilio_api.failing.clear()
    assert control(agent, call, "consult", target=f"number:{OFFICE}").status_code == 200
    busy = control(agent, call, "consult", target="number:Police")
    assert busy.status_code == 409 and busy.get_json()["reason"] == "busy"
