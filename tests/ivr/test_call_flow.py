"""Does a caller get from the greeting to the spoken status, in every language and branch?"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Call, CallbackRequest, CallEvent, Direction, Outcome, Status
from tests.support.ivr import Caller, add_letter, agent_on_duty
from tests.support.prompts import approve_clips
from tests.support.webhooks import Twilio

NUMBER, KEYED_DATE = "1234", "15032024"


@pytest.fixture
def letter(app_context):
    return add_letter()


@pytest.fixture
def caller(twilio, app_context):
    agent_on_duty()
    return Caller(twilio)


def the_call(sid=Twilio.DEFAULT_SID) -> Call:
    db.session.expire_all()
    return db.session.scalar(select(Call).where(Call.sid == sid))


def test_greeting_offers_three_languages_each_in_its_own(caller):
    answer = caller.start()
    assert answer.action_path == "/ivr/language"
    assert answer.gather.get("numDigits") == "1"
    assert answer.gather.get("actionOnEmptyResult") == "true"
    languages = [say.get("language") for say in answer.root.iter("Say")]
    assert "en-US" in languages and "arb" in languages
    assert "For English, press 3." in answer.said


def test_english_caller_hears_status_holder_and_date(caller, letter):
    answer = caller.walk("3", "1", NUMBER, "1", KEYED_DATE)
    assert "You entered 15 March 2024" in answer.text
    answer = caller.press("1")
    assert "This letter has been forwarded." in answer.text
    assert "Federal Ministry of Finance" in answer.text
    assert "2 April 2024" in answer.text
    assert answer.action_path == "/ivr/result"
    call = the_call()
    assert call.language == "en"
    assert call.transaction_id == letter.id and call.found is True
    assert call.asked_number == NUMBER and call.asked_date == date(2024, 3, 15)
    assert call.outcome == Outcome.self_served


def test_number_is_read_back_digit_by_digit(caller):
    answer = caller.walk("3", "1", "1234")
    assert "You entered 1 2 3 4." in answer.text
    assert answer.action_params["n"] == "1234"


def test_status_never_discloses_subject_sender_or_phone(caller, letter):
    answer = caller.walk("3", "1", NUMBER, "1", KEYED_DATE, "1")
    spoken = answer.text
    assert letter.subject not in spoken
    assert "Interior" not in spoken  # the sender
    assert "7701112233" not in spoken.replace(" ", "")


def test_arabic_caller_hears_iraqi_month_names(caller, letter):
    answer = caller.walk("1", "1", NUMBER, "1", KEYED_DATE)
    assert "15 آذار 2024" in answer.text
    answer = caller.press("1")
    assert "محال" in answer.text and "2 نيسان 2024" in answer.text
    assert "وزارة المالية الاتحادية" in answer.text


def test_silence_at_the_language_menu_means_arabic(caller):
    answer = caller.walk("")
    assert answer.action_path == "/ivr/menu"
    assert answer.action_params["lang"] == "ar"
    assert the_call().language == "ar"


def test_kurdish_without_recordings_falls_back_to_arabic_speech(caller):
    answer = caller.walk("2")
    assert answer.action_params["lang"] == "ckb"
    assert answer.played == []
    assert answer.said == ["لمعرفة حالة كتاب، اضغط 1. لمعرفة حالة شكوى، اضغط 2. للتحدث مع موظف، اضغط 0."]


def test_kurdish_with_recordings_plays_the_clips(app, caller, letter):
    from voice_prompts import all_clip_scripts

    approve_clips(all_clip_scripts("ckb", {"fed-finance": "وەزارەتی دارایی"}))
    answer = caller.walk("2", "1", NUMBER, "1", KEYED_DATE, "1")
    assert answer.said == []
    played = [url.rsplit("/", 1)[-1].split("?v=")[0] for url in answer.played]
    assert played[:2] == ["status_found.1.mp3", "status.forwarded.mp3"]
    assert "entity.fed-finance.mp3" in played
    start = played.index("day.2.mp3")
    assert played[start : start + 4] == ["day.2.mp3", "month.4.mp3", "year.2024.mp3", "status_found.4.mp3"]
    assert played[-1] == "result_menu.mp3"
    assert all(url.startswith("https://hotline.example.test/ivr/audio/ckb/") for url in answer.played)


def test_approved_audio_is_served_publicly_with_cache_headers(app, client):
    with app.app_context():
        take = approve_clips(["welcome"], audio=b"ID3-audio")["welcome"]
    response = client.get(f"/ivr/audio/ckb/welcome.mp3?v={take}")
    assert response.status_code == 200 and response.data == b"ID3-audio"
    assert response.mimetype == "audio/mpeg"
    assert "immutable" in response.headers["Cache-Control"] and response.headers["ETag"]
    again = client.get(f"/ivr/audio/ckb/welcome.mp3?v={take}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    unversioned = client.get("/ivr/audio/ckb/welcome.mp3")
    assert unversioned.data == b"ID3-audio" and "max-age=60" in unversioned.headers["Cache-Control"]
    assert client.get("/ivr/audio/ckb/../../config.py").status_code == 404
    assert client.get("/ivr/audio/ckb/goodbye.mp3").status_code == 404
    assert client.get("/ivr/audio/xx/welcome.mp3").status_code == 404
    assert client.get(f"/ivr/audio/en/welcome.mp3?v={take}").status_code == 404


@pytest.mark.parametrize(
    "digits, reason",
    [
        ("", "We did not receive a number."),
        ("1234567890123", "A letter number has at most twelve digits."),
        ("12*4", "A letter number has digits only."),
    ],
)
def test_bad_number_says_why_and_asks_again(caller, digits, reason):
    answer = caller.walk("3", "1", digits)
    assert answer.said[0] == reason
    assert answer.action_path == "/ivr/number"
    assert answer.action_params["t"] == "2"


def test_three_bad_numbers_offer_an_agent(caller):
    answer = caller.walk("3", "1", "", "", "")
    assert "We could not take your entry." in answer.text
    assert answer.enqueued is not None and answer.enqueued.text == "agents"
    call = the_call()
    assert call.outcome == Outcome.failed_input and call.queued_at is not None


def test_read_back_2_asks_for_the_number_again(caller):
    answer = caller.walk("3", "1", "1234", "2")
    assert answer.said == ["Please key in the number of the letter, then press the hash key."]
    assert answer.gather.get("finishOnKey") == "#"


@pytest.mark.parametrize(
    "digits, reason",
    [
        ("", "We did not receive a date."),
        ("1503202", "The date needs exactly eight digits."),
        ("31022024", "That is not a date in the calendar."),
        ("01011999", "We only hold letters dated from the year 2000 on."),
        ((date.today() + timedelta(days=3)).strftime("%d%m%Y"), "That date is in the future."),
    ],
)
def test_bad_date_says_why_and_asks_again(caller, digits, reason):
    answer = caller.walk("3", "1", "1234", "1", digits)
    assert answer.said[0] == reason
    assert answer.action_path == "/ivr/date"
    assert answer.gather.get("numDigits") == "8"


def test_wrong_number_and_wrong_date_sound_the_same(twilio, client, letter):
    wrong_number = Caller(twilio).walk("3", "1", "9999", "1", KEYED_DATE, "1")
    other = Caller(Twilio(client, sid="CA" + "2" * 32, caller="+9647509999999"))
    wrong_date = other.walk("3", "1", NUMBER, "1", "16032024", "1")
    assert wrong_number.said == wrong_date.said
    assert "We could not find a letter" in wrong_number.text
    assert wrong_number.action_path == "/ivr/not-found"


def test_not_found_then_try_again(caller, letter):
    caller.walk("3", "1", "9999", "1", KEYED_DATE, "1")
    answer = caller.press("1")
    assert answer.action_path == "/ivr/number"
    assert the_call().found is False


def test_two_letters_share_number_and_date_ask_direction(app_context, caller):
    add_letter(direction=Direction.to_federal, status=Status.received)
    add_letter(direction=Direction.to_region, status=Status.replied)
    answer = caller.walk("3", "1", NUMBER, "1", KEYED_DATE, "1")
    assert "Two letters share this number and date." in answer.text
    answer = caller.press("2")
    assert "This letter has been answered." in answer.text
    answer = Caller(Twilio(caller.twilio.client, sid="CA" + "3" * 32)).walk("3", "1", NUMBER, "1", KEYED_DATE, "1", "1")
    assert "This letter has been received." in answer.text


def test_after_the_status_the_caller_can_repeat_or_ask_another(caller, letter):
    caller.walk("3", "1", NUMBER, "1", KEYED_DATE, "1")
    again = caller.press("1")
    assert "This letter has been forwarded." in again.text
    another = caller.press("9")
    assert another.action_path == "/ivr/number"


def test_silence_after_the_status_repeats_the_menu_then_ends_politely(caller, letter):
    caller.walk("3", "1", NUMBER, "1", KEYED_DATE, "1")
    answer = caller.press("")
    assert answer.said[0] == "We did not hear a choice." and answer.action_path == "/ivr/result"
    caller.press("")
    answer = caller.press("")
    assert answer.hung_up and "Goodbye" in answer.text
    assert the_call().outcome == Outcome.self_served


def test_hash_at_a_one_key_menu_is_a_wrong_key_not_silence(caller):
    answer = caller.walk("3")
    assert answer.gather.get("finishOnKey") == ""
    answer = caller.press("#")
    assert answer.said[0] == "That key is not one of the choices."


def test_zero_at_the_main_menu_enqueues_for_an_agent(caller):
    answer = caller.walk("3", "0")
    enqueue = answer.enqueued
    assert enqueue is not None and enqueue.text == "agents"
    assert enqueue.get("waitUrl").startswith("/ivr/queue/wait?lang=en")
    assert enqueue.get("action").startswith("/ivr/queue/left")
    assert "Please hold" in answer.text


def test_the_queue_wait_speaks_the_position(twilio, app_context):
    from tests.support.ivr import Answer

    agent_on_duty()
    answer = Answer.of(twilio.post("/ivr/queue/wait?lang=en", QueuePosition="4"))
    assert "You are number 4 in line." in answer.text
    assert answer.played and answer.played[-1].endswith(".mp3")
    first = Answer.of(twilio.post("/ivr/queue/wait?lang=en", QueuePosition="1"))
    assert "You are next in line." in first.text


def test_hanging_up_in_the_queue_is_abandoned(caller, twilio):
    answer = caller.walk("3", "0")
    twilio.post(answer.enqueued.get("action"), QueueResult="hangup", QueueTime="42")
    twilio.post("/ivr/status", CallStatus="completed", CallDuration="80")
    call = the_call()
    assert call.outcome == Outcome.abandoned_in_queue
    assert call.queue_result == "hangup" and call.queue_left_at is not None


def test_outside_agent_hours_offers_a_callback(app, caller, monkeypatch):
    from config import Hours

    monkeypatch.setitem(app.config, "AGENT_HOURS", Hours.parse("00:00-00:00"))
    answer = caller.walk("3", "0")
    assert answer.enqueued is None
    assert "Our agents answer every day from midnight until midnight" in answer.text
    answer = caller.press("1")
    assert "An agent will call you back" in answer.text and answer.hung_up
    call = the_call()
    assert call.outcome == Outcome.callback_requested
    callbacks = db.session.scalars(select(CallbackRequest)).all()
    assert [(c.phone, c.language) for c in callbacks] == [("+9647501234567", "en")]


def test_calling_again_while_a_callback_waits_makes_no_second_one(app, client, app_context, monkeypatch):
    from config import Hours

    monkeypatch.setitem(app.config, "AGENT_HOURS", Hours.parse("00:00-00:00"))
    sids = [f"CA{n:032d}" for n in range(1, 6)]
    answers = [Caller(Twilio(client, sid=sid)).walk("3", "0", "1") for sid in sids]  # five calls, one number
    assert "An agent will call you back" in answers[0].text
    for answer in answers[1:]:
        assert "Your request for a call back is already registered." in answer.text and answer.hung_up
    db.session.expire_all()
    callbacks = db.session.scalars(select(CallbackRequest)).all()
    assert [(c.phone, c.call_id) for c in callbacks] == [("+9647501234567", the_call(sids[0]).id)]
    assert {the_call(sid).outcome for sid in sids} == {Outcome.callback_requested}


def test_once_the_callback_is_closed_a_new_request_is_made(app, client, app_context, monkeypatch):
    from config import Hours
    from models import CallbackStatus

    monkeypatch.setitem(app.config, "AGENT_HOURS", Hours.parse("00:00-00:00"))
    Caller(Twilio(client, sid="CA" + "1" * 32)).walk("3", "0", "1")
    db.session.scalars(select(CallbackRequest)).one().status = CallbackStatus.done
    db.session.commit()
    answer = Caller(Twilio(client, sid="CA" + "2" * 32)).walk("3", "0", "1")
    assert "An agent will call you back" in answer.text
    assert count_rows(CallbackRequest) == 2


def count_rows(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_closed_dates_close_the_agents(app, caller, monkeypatch):
    from domain.clock import local_today

    monkeypatch.setitem(app.config, "AGENT_CLOSED_DATES", frozenset({local_today("Asia/Baghdad").isoformat()}))
    answer = caller.walk("3", "0")
    assert answer.enqueued is None and "Our agents answer" in answer.text


def test_withheld_caller_after_hours_cannot_get_a_callback(app, client, app_context, monkeypatch):
    from config import Hours

    monkeypatch.setitem(app.config, "AGENT_HOURS", Hours.parse("00:00-00:00"))
    answer = Caller(Twilio(client, caller="anonymous")).walk("3", "0")
    assert "your number is withheld" in answer.text and answer.hung_up
    assert the_call().outcome == Outcome.after_hours


def test_self_service_closed_goes_to_the_agents(app, caller, monkeypatch):
    from config import Hours

    monkeypatch.setitem(app.config, "SELF_SERVICE_HOURS", Hours.parse("00:00-00:00"))
    answer = caller.walk("3")
    assert "The automated service is closed at this hour." in answer.text
    assert answer.enqueued is not None


def test_every_step_writes_one_call_event(caller, letter):
    caller.walk("3", "1", NUMBER, "1", KEYED_DATE, "1")
    steps = db.session.scalars(select(CallEvent.step).order_by(CallEvent.id)).all()
    assert steps == ["incoming", "language", "menu", "number", "number_confirm", "date", "date_confirm"]
    lookup = db.session.scalars(select(CallEvent).where(CallEvent.step == "date_confirm")).one()
    assert lookup.result == "found:forwarded" and lookup.spoken == ["status_found", "result_menu"]


def test_a_replayed_webhook_writes_nothing_twice(twilio, caller, letter):
    caller.walk("3", "1", NUMBER, "1", KEYED_DATE)
    first = twilio.post(caller.answer.action, Digits="1")
    second = twilio.post(caller.answer.action, Digits="1")
    assert first.data == second.data
    assert db.session.scalar(select(func.count()).select_from(CallEvent)) == 7
    from models import LookupAttempt

    assert db.session.scalar(select(func.count()).select_from(LookupAttempt)) == 1


def test_status_callback_records_the_end_once(twilio, caller):
    caller.walk("3")
    for _ in range(2):
        assert twilio.post("/ivr/status", CallStatus="completed", CallDuration="37").status_code == 200
    call = the_call()
    assert call.twilio_status == "completed" and call.duration_s == 37
    assert call.outcome == Outcome.hung_up_in_ivr
    ended = call.ended_at
    twilio.post("/ivr/status", CallStatus="completed", CallDuration="37")
    assert the_call().ended_at == ended
    assert db.session.scalar(select(func.count()).select_from(CallEvent).where(CallEvent.step == "status")) == 1


def test_status_callback_for_an_unknown_call_is_harmless(twilio):
    response = twilio.post("/ivr/status", CallStatus="completed", CallSid="CA" + "9" * 32)
    assert response.status_code == 200


def test_fallback_is_static_twiml(twilio):
    from tests.support.ivr import Answer

    answer = Answer.of(twilio.post("/ivr/fallback"))
    assert answer.hung_up and len(answer.said) == 4
