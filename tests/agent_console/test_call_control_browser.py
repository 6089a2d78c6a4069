"""Call control in a real headless Chromium against the Twilio REST stand-in: hold and resume,
then a warm transfer (consult, join all three, hand over), on the live call screen; and with two
agents and a supervisor (three browsers): whisper from the Agents page, barge in and leave from
the wallboard, what the agent's call screen says of it, then a cold transfer to the other agent."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import Call, CallLeg, LegRole, Presence, Role, User
from tests.support.browser import ARTIFACTS, console_serving, log_in, open_page, pages
from tests.support.conference import taken_in_browser
from tests.support.console import make_user
from tests.support.webhooks import Twilio

pytestmark = pytest.mark.browser


@pytest.fixture
def server(app):
    with console_serving(app, "call-control-test-server", CALL_CONFERENCES=True) as base:
        yield base


@pytest.fixture
def page(browser):
    with open_page(browser) as page:
        yield page


@pytest.fixture
def new_page(browser):
    """A page in a browser context of its own (its own login); all closed after the test."""
    with pages(browser) as make:
        yield make


def test_hold_resume_and_a_warm_transfer_on_the_call_screen(app, app_context, client, twilio_api, server, page):
    make_user("amira").presence = Presence.available
    colleague = make_user("bilal")
    colleague.presence = Presence.available
    db.session.commit()
    colleague_id = colleague.id
    log_in(page, server, "amira")
    call = taken_in_browser(page, client, twilio_api)

    controls = page.locator("#call-controls")
    controls.get_by_role("button", name="Hold").click()
    expect(controls.locator(".call-control-message")).to_have_text("The caller is on hold and hears music.")
    expect(controls.locator(".state-held")).to_be_visible()
    assert twilio_api.participant(call.sid)["hold"] is True
    controls.get_by_role("button", name="Resume").click()
    expect(controls.locator(".call-control-message")).to_have_text("The caller is back with you.")
    assert twilio_api.participant(call.sid)["hold"] is False

    controls.locator('form[data-action="consult"] select[name="target"]').select_option(str(colleague_id))
    controls.get_by_role("button", name="Call colleague").click()
    expect(controls.locator(".call-control-message")).to_have_text("Calling your colleague. The caller is on hold.")
    expect(controls.get_by_text("Ringing…")).to_be_visible()
    db.session.rollback()
    leg = db.session.scalar(select(CallLeg).where(CallLeg.call_id == call.id))
    Twilio(client, sid=leg.call_sid).post(
        f"/ivr/conference/leg?call={call.id}&consult={colleague_id}", CallStatus="in-progress"
    )
    # The screen looks again while the colleague's phone rings: their answer shows by itself.
    controls.get_by_role("button", name="Join all three").click()
    expect(controls.locator(".call-control-message")).to_have_text("The caller has joined you and your colleague.")
    page.screenshot(path=str(ARTIFACTS / "call-control-consulting-en.png"))
    controls.get_by_role("button", name="Hand over and leave").click()
    page.wait_for_url(re.compile(r"/console/$"))

    db.session.rollback()
    assert db.session.get(Call, call.id).agent_id == colleague_id
    assert twilio_api.participant(leg.call_sid)["end_conference_on_exit"] is True
    assert not page.console_errors, page.console_errors


def test_a_supervisor_coaches_agent_a_then_a_cold_transfer_to_agent_b(
    app, app_context, client, twilio_api, server, new_page
):
    make_user("amira").presence = Presence.available
    make_user("bilal").presence = Presence.available
    make_user("sara", role=Role.supervisor)
    db.session.commit()
    amira, bilal, sara = (
        db.session.scalar(select(User.id).where(User.username == n)) for n in ("amira", "bilal", "sara")
    )
    agent_a, agent_b, boss = new_page(), new_page(), new_page()
    for page, username in ((agent_a, "amira"), (agent_b, "bilal"), (boss, "sara")):
        log_in(page, server, username)

    call = taken_in_browser(agent_a, client, twilio_api)
    controls = agent_a.locator("#call-controls")
    expect(controls.get_by_role("button", name="Hold")).to_be_visible()
    notice = agent_a.locator("#call-supervision")
    expect(notice).to_be_hidden()
    db.session.rollback()
    agent_leg = db.session.get(Call, call.id).agent_leg_sid

    # The supervisor whispers from the Agents page: their phone is rung in, coaching agent A's leg.
    boss.goto(server + "/console/agents")
    boss.locator(f'tr[data-user-id="{amira}"]').get_by_role("button", name="Whisper").click()
    expect(boss.locator(".flash.success")).to_have_text("Only the agent hears you now.")
    create = twilio_api.conference_requests()[-1]
    assert create.method == "POST" and create.path.endswith("/Participants.json")
    assert create.form["Coaching"] == "true" and create.form["CallSidToCoach"] == agent_leg
    assert create.form["Muted"] == "false" and create.form["To"].startswith("client:sara?")
    expect(notice).to_be_hidden()  # the supervisor's phone rings: nobody is heard yet
    leg = db.session.scalar(select(CallLeg).where(CallLeg.call_id == call.id, CallLeg.role == LegRole.supervisor))
    Twilio(client, sid=leg.call_sid).post(
        f"/ivr/conference/leg?call={call.id}&supervise={sara}", CallStatus="in-progress"
    )
    expect(notice).to_have_text("A supervisor is coaching you: only you can hear them, the caller cannot.")
    agent_a.screenshot(path=str(ARTIFACTS / "call-control-coached-en.png"))

    # On the wallboard the supervisor barges in, then leaves; agent A's screen follows, no reload.
    boss.goto(server + "/console/wallboard")
    row = boss.locator(f'#supervise-panel .supervise-row[data-user-id="{amira}"]')
    expect(row.locator(".supervise-state")).to_contain_text("Whisper")
    row.get_by_role("button", name="Barge in").click()
    expect(boss.locator("#supervise-message")).to_have_text("The caller and the agent both hear you now.")
    barge = twilio_api.conference_requests()[-1]
    assert barge.path.endswith(f"/Participants/{leg.call_sid}.json")
    assert barge.form == {"Muted": "false", "Coaching": "false"}
    expect(notice).to_have_text("A supervisor has joined the call: the caller hears them too.")
    row.get_by_role("button", name="Leave the call").click()
    expect(boss.locator("#supervise-message")).to_have_text("You have left the call.")
    removed = twilio_api.conference_requests()[-1]
    assert removed.method == "DELETE" and removed.path.endswith(f"/Participants/{leg.call_sid}.json")
    expect(notice).to_be_hidden()
    assert twilio_api.participant(agent_leg) is not None  # the call goes on with agent A

    # Cold transfer to agent B: A's phone leaves at once, B's rings into the conference.
    controls.locator('form[data-action="transfer"] select[name="target"]').select_option(f"agent:{bilal}")
    controls.get_by_role("button", name="Transfer").click()
    agent_a.wait_for_url(re.compile(r"/console/$"))
    hold, ring, flag, leave = twilio_api.conference_requests()[-4:]
    assert hold.form["Hold"] == "true" and ring.form["To"].startswith("client:bilal?")
    assert flag.form == {"EndConferenceOnExit": "false"} and leave.method == "DELETE"
    assert leave.path.endswith(f"/Participants/{agent_leg}.json") and twilio_api.participant(agent_leg) is None
    db.session.rollback()
    moved = db.session.get(Call, call.id)
    assert moved.agent_id == bilal and moved.transfers == 1
    Twilio(client, sid=moved.agent_leg_sid).post(
        f"/ivr/conference/leg?call={call.id}&agent={bilal}&transfer=1", CallStatus="in-progress"
    )
    assert twilio_api.participant(call.sid)["hold"] is False  # B answered: the caller is put through

    # B's console has the call, with the controls; A is free for the next caller.
    agent_b.goto(server + "/console/")
    agent_b.locator("#open-in-hand").click()
    agent_b.wait_for_url(re.compile(rf"/console/calls/{call.id}$"))
    expect(agent_b.locator("#call-controls").get_by_role("button", name="Hold")).to_be_visible()
    expect(agent_a.locator("#my-presence")).to_have_text("Available")
    expect(agent_a.locator("#open-in-hand")).to_have_count(0)
    for page in (agent_a, agent_b, boss):
        assert not page.console_errors, page.console_errors
