"""Does the simulator play the IVR as Twilio would: signed requests, TwiML read in order?"""

from __future__ import annotations

import re
import threading

import pytest
from twilio.request_validator import RequestValidator

from extensions import db
from models import Outcome
from simulator.engine import (
    FlaskTransport,
    Gather,
    Reply,
    SimulatedCall,
    SimulatorError,
    Speech,
    check_keys,
)
from tests.support.complaints import add_complaint
from tests.support.prompts import approve_clips
from tests.support.simulator import TO_LOOKUP_IN_ENGLISH, add_letter, play_through, stored_call
from tests.support.webhooks import AUTH_TOKEN, PUBLIC_BASE_URL

# An agent is on duty: a caller who presses 0 is queued (with nobody, the IVR offers a callback).
pytestmark = pytest.mark.usefixtures("someone_on_duty")

# --- against the app ------------------------------------------------------------------


def test_every_call_sid_is_ca_and_32_random_hex_digits(transport):
    sids = {SimulatedCall(transport).sid for _ in range(20)}
    assert len(sids) == 20
    assert all(re.fullmatch(r"CA[0-9a-f]{32}", sid) for sid in sids)


def test_the_greeting_offers_each_language_and_waits_for_one_key(call):
    turn = call.start()
    assert turn.state == "waiting" and turn.expects_input
    assert turn.gather.action_url.startswith("/ivr/language?")
    assert turn.gather.num_digits == 1
    assert Speech("say", "For English, press 3.", "en-US") in turn.spoken
    assert any(s.language == "arb" and "للعربية" in s.content for s in turn.spoken)


def test_an_english_caller_hears_not_found_and_then_waits_for_an_agent(app, call):
    turn = play_through(call, TO_LOOKUP_IN_ENGLISH)
    assert "We could not find a letter with this number and date." in turn.text()
    assert turn.expects_input and turn.gather.action_url.startswith("/ivr/not-found?")

    turn = call.press("0")
    assert turn.enqueued and turn.state == "queued" and not turn.expects_input
    assert turn.queue.name == app.config["AGENT_QUEUE_NAME"]
    assert turn.queue.action_url.startswith("/ivr/queue/left?")
    assert "Please hold while we connect you to an agent." in turn.text()
    assert Speech("say", "You are next in line. Thank you for waiting.", "en-US") in turn.hold
    assert ("play", app.config["HOLD_MUSIC_URL"], None) in turn.hold

    assert call.hang_up(duration=42) == 42
    record = stored_call(app, call.sid)
    assert record.outcome is Outcome.abandoned_in_queue
    assert record.queue_result == "hangup"
    assert record.duration_s == 42 and record.ended_at is not None


def test_a_known_letter_is_spoken_with_status_holder_and_date_only(app, call):
    add_letter(app)
    turn = play_through(call, TO_LOOKUP_IN_ENGLISH)
    assert turn.text() == (
        "This letter has been forwarded. It is now held by the Ministry of Planning. "
        "The last change was on 2 April 2024.\n"
        "To hear this again, press 1. To get it by text message, press 2. To get a text message "
        "when it changes, press 3. For another letter, press 9. To speak to an agent, press 0."
    )
    assert "subject" not in turn.text().lower()

    for _ in range(2):  # silence at the result menu: the menu again, then a polite end
        assert not call.press("").ended
    turn = call.press("")
    assert turn.ended and turn.state == "ended"
    assert "Goodbye" in turn.text()
    call.hang_up()
    assert stored_call(app, call.sid).outcome is Outcome.self_served


def test_arabic_is_key_1_and_also_what_silence_chooses(call, transport):
    arabic_menu = "لمعرفة حالة كتاب، اضغط 1. لمعرفة حالة شكوى، اضغط 2. للتحدث مع موظف، اضغط 0."
    call.start()
    assert call.press("1").spoken == [Speech("say", arabic_menu, "arb")]

    silent = SimulatedCall(transport)
    silent.start()
    assert silent.press("").spoken == [Speech("say", arabic_menu, "arb")]


def test_kurdish_is_key_2_and_falls_back_to_arabic_until_it_is_recorded(call):
    call.start()
    turn = call.press("2")
    assert turn.gather.action_url.startswith("/ivr/menu?lang=ckb")
    assert [s.language for s in turn.spoken] == ["arb"]


def test_recorded_kurdish_prompts_are_played_from_the_public_audio_url(app, call):
    with app.app_context():
        take = approve_clips(["main_menu"])["main_menu"]

    call.start()
    turn = call.press("2")
    assert turn.spoken == [Speech("play", f"{PUBLIC_BASE_URL}/ivr/audio/ckb/main_menu.mp3?v={take}")]


def test_an_agent_taking_the_call_takes_it_out_of_the_queue(app, call):
    play_through(call, TO_LOOKUP_IN_ENGLISH + ["0"])
    turn = call.leave_queue("bridged")
    assert turn.ended and "Goodbye" in turn.text()
    call.hang_up()
    assert stored_call(app, call.sid).outcome is Outcome.agent_answered
    paths = [exchange.path.split("?")[0] for exchange in call.exchanges]
    assert paths[-3:] == ["/ivr/queue/wait", "/ivr/queue/left", "/ivr/status"]
    assert all(exchange.status == 200 and exchange.elapsed_s >= 0 for exchange in call.exchanges)


def test_hanging_up_in_the_ivr_posts_the_status_callback_once(app, call):
    call.start()
    call.press("3")
    assert call.hang_up() >= 1
    assert call.hang_up() is None  # already sent
    record = stored_call(app, call.sid)
    assert record.outcome is Outcome.hung_up_in_ivr and record.twilio_status == "completed"


def test_a_withheld_caller_is_stored_without_a_number(app, transport):
    call = SimulatedCall(transport, caller=None)
    call.start()
    assert call.caller == "anonymous"
    assert stored_call(app, call.sid).caller is None


def test_requests_signed_with_another_token_are_refused(app):
    call = SimulatedCall(FlaskTransport(app, auth_token="not-" + AUTH_TOKEN))
    with pytest.raises(SimulatorError, match="HTTP 403"):
        call.start()


def test_keys_are_refused_when_the_call_is_not_waiting_for_them(call):
    with pytest.raises(SimulatorError, match="not waiting"):
        call.press("1")
    play_through(call, TO_LOOKUP_IN_ENGLISH + ["0"])
    with pytest.raises(SimulatorError, match="queue"):
        call.press("1")


def test_calls_on_several_threads_each_get_their_own_answer(app, transport):
    calls = [SimulatedCall(transport) for _ in range(6)]
    turns, errors = {}, []

    def ring(call):
        try:
            turns[call.sid] = call.start()
        except Exception as exc:  # surfaced below; a thread cannot fail the test itself
            errors.append(exc)

    threads = [threading.Thread(target=ring, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(turns[call.sid].expects_input for call in calls)
    assert all(stored_call(app, call.sid) is not None for call in calls)


# --- keys as Twilio collects them -------------------------------------------------------


@pytest.mark.parametrize(
    "gather, keys, digits",
    [
        (Gather("/ivr/number", finish_on_key="#"), "1234#", "1234"),
        (Gather("/ivr/number", finish_on_key="#"), "12#34", "12"),
        (Gather("/ivr/menu", num_digits=1), "19", "1"),
        (Gather("/ivr/date", num_digits=8, finish_on_key=""), "150320241", "15032024"),
        (Gather("/ivr/menu", num_digits=1), "", ""),
        (Gather("/ivr/menu", num_digits=1), "*", "*"),
    ],
)
def test_digits_stop_at_the_finish_key_or_num_digits(gather, keys, digits):
    assert gather.digits_for(keys) == digits


@pytest.mark.parametrize("keys", ["12a", " 1", "1,2", "١٢"])
def test_only_keypad_keys_can_be_pressed(keys):
    with pytest.raises(ValueError):
        check_keys(keys)


# --- TwiML the IVR does not use yet, read from a stand-in server --------------------------


class ScriptedTransport:
    """Answers each path with fixed TwiML and remembers what was posted."""

    public_base_url = "https://ivr.example.test"

    def __init__(self, answers: dict[str, str]):
        self.answers = answers
        self.posted: list[tuple[str, dict]] = []

    def post(self, path: str, form: dict) -> Reply:
        self.posted.append((path, form))
        return Reply(200, "<Response>" + self.answers[path] + "</Response>")


def test_relative_actions_resolve_against_the_current_url_and_redirects_are_followed():
    transport = ScriptedTransport(
        {
            "/ivr/voice": '<Say language="en-US">Hello</Say><Pause length="2"/><Redirect>next?a=1</Redirect>',
            "/ivr/next?a=1": "<Play>https://cdn.example.test/x.mp3</Play>"
            '<Gather action="step/two" numDigits="2" finishOnKey=""><Say>Two keys</Say></Gather>',
            "/ivr/step/two": "<Say>Bye</Say><Hangup/><Say>never said</Say>",
        }
    )
    call = SimulatedCall(transport)
    turn = call.start()
    assert turn.spoken == [
        Speech("say", "Hello", "en-US"),
        Speech("pause", "2"),
        Speech("play", "https://cdn.example.test/x.mp3"),
        Speech("say", "Two keys"),
    ]
    assert turn.gather.action_url == "/ivr/step/two"
    turn = call.press("42")
    assert turn.ended and turn.text() == "Bye"
    assert transport.posted[-1][1]["Digits"] == "42"
    assert transport.posted[0][1]["CallStatus"] == "ringing"


def test_silence_without_action_on_empty_result_goes_on_after_the_gather():
    transport = ScriptedTransport(
        {
            "/ivr/voice": '<Gather action="/ivr/menu" numDigits="1"><Say>Choose</Say></Gather>'
            "<Say>We did not hear you</Say><Redirect>again</Redirect>",
            "/ivr/again": "<Say>Goodbye</Say>",
        }
    )
    call = SimulatedCall(transport)
    call.start()
    turn = call.press("")
    assert turn.ended and turn.text() == "We did not hear you\nGoodbye"
    assert [path for path, _ in transport.posted] == ["/ivr/voice", "/ivr/again"]


def test_an_action_outside_the_public_base_url_is_not_followed():
    transport = ScriptedTransport({"/ivr/voice": '<Gather action="https://elsewhere.test/x"/>'})
    with pytest.raises(SimulatorError, match="outside PUBLIC_BASE_URL"):
        SimulatedCall(transport).start()


def test_an_answer_that_is_not_twiml_fails_the_step():
    class Broken(ScriptedTransport):
        def post(self, path, form):
            return Reply(200, "<html>oops")

    with pytest.raises(SimulatorError, match="valid TwiML"):
        SimulatedCall(Broken({})).start()


def test_the_signature_covers_the_public_url_and_the_form(app):
    headers = FlaskTransport(app).signer.headers("/ivr/voice?x=1", {"CallSid": "CA1"})
    assert RequestValidator(AUTH_TOKEN).validate(
        PUBLIC_BASE_URL + "/ivr/voice?x=1", {"CallSid": "CA1"}, headers["X-Twilio-Signature"]
    )


def test_key_2_follows_a_complaint_from_its_mobile(app, call):
    with app.app_context():
        code = add_complaint().code  # filed with the simulator's default caller's mobile
        db.session.remove()
    turn = play_through(call, ["3", "2", code + "#"])
    assert f"You entered {' '.join(code)}." in turn.text()
    turn = call.press("1")
    assert "Your complaint is with the entity concerned." in turn.text()
    assert turn.gather.action_url.startswith("/ivr/complaint/result?")
    call.hang_up()
    assert stored_call(app, call.sid).outcome is Outcome.self_served
