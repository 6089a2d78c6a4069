"""Does `flask ivr simulate` play a whole call in the terminal, with --keys or typed keys?"""

from __future__ import annotations

import re

import pytest

from models import Outcome
from tests.support.simulator import add_letter, stored_call

# An agent is on duty: a caller who presses 0 is queued (with nobody, the IVR offers a callback).
pytestmark = pytest.mark.usefixtures("someone_on_duty")

TO_NOT_FOUND = "3,1,1234#,1,15032024,1"


def simulate(runner, *args, input=None):
    return runner.invoke(args=["ivr", "simulate", *args], input=input)


def call_sid(output: str) -> str:
    return re.search(r"\(call (CA[0-9a-f]{32})\)", output).group(1)


def test_keys_play_a_call_through_to_not_found_and_send_the_status_callback(app, runner):
    result = simulate(runner, "--keys", TO_NOT_FOUND)
    assert result.exit_code == 0, result.output
    assert "[en-US] For English, press 3." in result.output
    assert "> 1234#" in result.output
    assert "You entered 1 2 3 4." in result.output
    assert "We could not find a letter with this number and date." in result.output
    assert "(no more keys)" in result.output
    assert "Status callback sent: completed" in result.output
    record = stored_call(app, call_sid(result.output))
    assert record.ended_at is not None and record.outcome is Outcome.hung_up_in_ivr


def test_arabic_lines_are_printed_with_their_language(runner):
    result = simulate(runner, "--keys", "1")
    assert "[arb] لمعرفة حالة كتاب، اضغط 1. لمعرفة حالة شكوى، اضغط 2. للتحدث مع موظف، اضغط 0." in result.output


def test_a_known_letter_is_read_out(app, runner):
    add_letter(app)
    result = simulate(runner, "--keys", TO_NOT_FOUND + ",,,,")
    assert result.exit_code == 0, result.output
    assert "This letter has been forwarded. It is now held by the Ministry of Planning." in result.output
    assert "> (silence)" in result.output
    assert "The IVR ended the call." in result.output


def test_the_queue_shows_what_the_waiting_caller_hears_then_hangs_up(app, runner):
    result = simulate(runner, "--keys", TO_NOT_FOUND + ",0")
    assert result.exit_code == 0, result.output
    assert "[in queue 'agents'; the waiting caller hears:]" in result.output
    assert "You are next in line." in result.output
    assert "[audio: " + app.config["HOLD_MUSIC_URL"] + "]" in result.output
    assert stored_call(app, call_sid(result.output)).outcome is Outcome.abandoned_in_queue


def test_h_hangs_up_in_the_middle(runner):
    result = simulate(runner, "--keys", "3,h,1")
    assert result.exit_code == 0
    assert "You hung up." in result.output
    assert "To hear where a letter stands" in result.output
    assert "Please key in the number" not in result.output


def test_a_withheld_number_is_stored_without_a_number(app, runner):
    result = simulate(runner, "--from", "anonymous", "--keys", "3")
    assert "Calling 5599 from anonymous" in result.output
    assert stored_call(app, call_sid(result.output)).caller is None


def test_keys_that_are_not_on_a_keypad_are_refused_before_calling(runner):
    result = simulate(runner, "--keys", "3,1x")
    assert result.exit_code == 2
    assert "'1x': keys may only be the digits 0-9, * and #" in result.output
    assert "Calling" not in result.output


def test_typed_keys_empty_line_is_silence_and_ctrl_d_hangs_up(runner):
    result = simulate(runner, input="3\n\n")
    assert result.exit_code == 0, result.output
    assert "keys (1 digit; Enter = silence, h = hang up)>" in result.output
    assert "We did not hear a choice." in result.output
    assert "You hung up." in result.output


def test_typed_keys_are_checked_and_asked_again(runner):
    result = simulate(runner, input="x\n3\nh\n")
    assert "keys may only be the digits 0-9, * and #" in result.output
    assert "To hear where a letter stands" in result.output


def test_url_posts_to_a_running_server(app, runner, live_server):
    result = simulate(runner, "--url", live_server, "--keys", TO_NOT_FOUND)
    assert result.exit_code == 0, result.output
    assert "We could not find a letter with this number and date." in result.output
    assert stored_call(app, call_sid(result.output)).ended_at is not None


def test_an_unreachable_server_is_a_clear_error(runner):
    result = simulate(runner, "--url", "http://127.0.0.1:9", "--keys", "3")
    assert result.exit_code == 1
    assert "could not reach http://127.0.0.1:9" in result.output


def test_production_refuses_an_in_process_simulation(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    result = runner.invoke(args=["ivr", "simulate", "--keys", "1"])
    assert result.exit_code != 0
    assert "in production, simulate against a server with --url" in result.output


def test_w_waits_in_the_queue_until_an_agent_takes_the_call_then_a_is_the_agent_hanging_up(app, runner, dev_twilio):
    """With the development Twilio stand-in, an agent's Take in the console moves the terminal's call."""
    import threading

    from sqlalchemy import select

    from extensions import db
    from models import Call
    from tests.support.console import agent_client, csrf_token

    with app.app_context():
        agent = agent_client(app, "amira")

    def agent_takes_the_call() -> None:
        for _ in range(100):
            with app.app_context():
                call_id = db.session.scalar(select(Call.id).where(Call.queued_at.is_not(None)))
                db.session.remove()
            if call_id is not None:
                agent.post(
                    f"/console/calls/{call_id}/take",
                    headers={"Accept": "application/json", "X-CSRFToken": csrf_token(agent, "/console/")},
                )
                return
            threading.Event().wait(0.1)

    taker = threading.Thread(target=agent_takes_the_call)
    taker.start()
    result = simulate(runner, "--keys", "3,0,w,a", "--wait", "20")
    taker.join(timeout=20)
    assert result.exit_code == 0, result.output
    assert "An agent took the call: Twilio redirects it to" in result.output
    assert "[connecting you to agent: client amira]" in result.output
    assert "The agent hung up after" in result.output
    assert "Thank you for calling 5599. Goodbye." in result.output
    record = stored_call(app, call_sid(result.output))
    assert record.outcome is Outcome.agent_answered and record.agent_ended_at is not None


def test_w_gives_up_after_the_wait_and_the_caller_hangs_up(app, runner, dev_twilio):
    result = simulate(runner, "--keys", "3,0,w", "--wait", "1")
    assert result.exit_code == 0, result.output
    assert "No agent took the call." in result.output and "You hung up." in result.output
    assert stored_call(app, call_sid(result.output)).outcome is Outcome.abandoned_in_queue


def test_in_a_conference_l_listens_to_the_agent_holding_and_resuming_the_caller(app, runner, dev_twilio, monkeypatch):
    """With CALL_CONFERENCES, the agent is rung into the caller's conference and answers; what
    they do from the call screen (hold, resume) is heard in the terminal."""
    import threading

    from sqlalchemy import select

    from extensions import db
    from models import Call, CallEvent
    from tests.support.conference import control
    from tests.support.console import agent_client, csrf_token

    monkeypatch.setitem(app.config, "CALL_CONFERENCES", True)
    with app.app_context():
        agent = agent_client(app, "amira")

    def agent_takes_holds_and_resumes() -> None:
        for _ in range(200):
            with app.app_context():
                call = db.session.scalar(select(Call).where(Call.queued_at.is_not(None)))
                answered = call is not None and db.session.scalar(
                    select(CallEvent.id).where(CallEvent.call_id == call.id, CallEvent.step == "conference_leg")
                )
                if call is not None and call.agent_id is None:
                    agent.post(
                        f"/console/calls/{call.id}/take",
                        headers={"Accept": "application/json", "X-CSRFToken": csrf_token(agent, "/console/")},
                    )
                elif answered:
                    control(agent, call, "hold")
                    control(agent, call, "resume")
                    db.session.remove()
                    return
                db.session.remove()
            threading.Event().wait(0.1)

    worker = threading.Thread(target=agent_takes_holds_and_resumes)
    worker.start()
    result = simulate(runner, "--keys", "3,0,w,l,a", "--wait", "4")
    worker.join(timeout=20)
    assert result.exit_code == 0, result.output
    assert "[connecting you to agent: conference hotline-call-" in result.output
    assert "[Twilio rings agent “amira” into the conference]" in result.output
    assert "[On hold: Please stay on the line. The agent will be with you again in a moment.]" in result.output
    assert "[Off hold: you are back on the line]" in result.output
    assert "Thank you for calling 5599. Goodbye." in result.output
    record = stored_call(app, call_sid(result.output))
    assert record.outcome is Outcome.agent_answered and record.hold_s is not None
