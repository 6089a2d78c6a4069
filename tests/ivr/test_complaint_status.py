"""Main menu key 2: does a caller hear where their complaint stands, and nobody else?"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from domain.clock import local_today
from domain.complaints import codes
from extensions import db
from models import Call, LookupAttempt, OneTimeCode, Outcome, SmsKind, SmsMessage
from tests.support.complaints import add_complaint
from tests.support.ivr import Caller, agent_on_duty
from tests.support.webhooks import Twilio

OWNER = "+9647501234567"  # the mobile the complaint was filed with (draft()'s 0750 123 4567)
STRANGER = "+9647709876543"
CODE_SENT = "If this complaint was made with a mobile number, we are sending a one-time code"
NOT_VERIFIED = "We could not confirm this complaint for you."


@pytest.fixture
def complaint(app_context):
    agent_on_duty()
    filed = add_complaint()
    db.session.commit()
    return filed


def unused_code(taken: str) -> str:
    while (code := codes.new_code()) == taken:
        pass
    return code


def caller_from(client, number: str | None, sid: str = Twilio.DEFAULT_SID) -> Caller:
    return Caller(Twilio(client, sid=sid, caller=number))


def count(model, *conditions) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def sent_code() -> str:
    """The one-time code in the last SMS queued (as the citizen's phone would show it)."""
    body = db.session.scalars(select(SmsMessage.body).order_by(SmsMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", body).group(1)


def to_confirm(caller: Caller, code: str, language_key: str = "3"):
    caller.walk(language_key, "2", code)
    return caller.press("1")


def test_the_main_menu_offers_complaints_on_key_2(twilio, app_context):
    answer = Caller(twilio).walk("3")
    assert "To hear where a complaint stands, press 2." in answer.text
    answer = Caller(twilio).walk("1")
    assert "لمعرفة حالة شكوى، اضغط 2" in answer.text


def test_the_code_is_asked_with_hash_and_read_back_digit_by_digit(client, complaint):
    caller = caller_from(client, OWNER)
    answer = caller.walk("3", "2")
    assert "ten-digit code of your complaint" in answer.text
    assert answer.action_path == "/ivr/complaint/code"
    assert answer.gather.get("finishOnKey") == "#" and answer.gather.get("numDigits") is None
    answer = caller.press(complaint.code)
    assert f"You entered {' '.join(complaint.code)}." in answer.text
    assert answer.action_path == "/ivr/complaint/code/confirm"
    answer = caller.press("2")  # enter it again
    assert answer.action_path == "/ivr/complaint/code"


def test_from_the_registered_mobile_the_status_entity_and_date_are_spoken(client, complaint, app):
    answer = to_confirm(caller_from(client, OWNER), complaint.code)
    day = local_today(app.config["TIMEZONE"], complaint.status_at)
    assert "Your complaint is with the entity concerned." in answer.text
    assert "It is with KRG Ministry of Health." in answer.text
    assert f"The last change was on {day.day} {day.strftime('%B')} {day.year}." in answer.text
    assert complaint.description not in answer.text and "Hawre" not in answer.text
    assert answer.action_path == "/ivr/complaint/result"
    assert count(OneTimeCode) == 0  # no code needed
    attempt = db.session.scalar(select(LookupAttempt))
    assert (attempt.kind, attempt.number, attempt.found) == ("complaint", complaint.code, True)
    assert db.session.scalar(select(Call)).outcome is Outcome.self_served


def test_from_another_number_a_code_goes_to_the_registered_mobile_then_the_status(client, complaint):
    caller = caller_from(client, STRANGER)
    answer = to_confirm(caller, complaint.code)
    assert CODE_SENT in answer.text and "with the entity concerned" not in answer.text
    assert answer.action_path == "/ivr/complaint/otp" and answer.gather.get("numDigits") == "6"
    otp = db.session.scalar(select(OneTimeCode))
    assert (otp.purpose.value, otp.destination, otp.subject) == ("track", OWNER, complaint.code)
    assert otp.requester and STRANGER not in otp.requester  # a keyed hash
    sms = db.session.scalar(select(SmsMessage).where(SmsMessage.kind == SmsKind.code))
    assert sms.to_phone == OWNER and STRANGER not in sms.body

    answer = caller.press(sent_code())
    assert "Your complaint is with the entity concerned." in answer.text
    answer = caller.press("1")  # hear it again: no new code
    assert "Your complaint is with the entity concerned." in answer.text
    assert count(OneTimeCode) == 1


def test_a_withheld_number_is_sent_a_code_too(client, complaint):
    answer = to_confirm(caller_from(client, None), complaint.code)
    assert CODE_SENT in answer.text
    assert count(OneTimeCode) == 1


def test_no_such_complaint_sounds_exactly_like_a_wrong_number(client, complaint):
    real = caller_from(client, STRANGER, sid="CA" + "2" * 32)
    made_up = caller_from(client, STRANGER, sid="CA" + "3" * 32)
    asked_real = to_confirm(real, complaint.code)
    asked_made_up = to_confirm(made_up, unused_code(complaint.code))
    assert asked_real.said == asked_made_up.said
    assert count(OneTimeCode) == 1  # only the real complaint's mobile got one

    wrong_real = real.press("000000" if sent_code() != "000000" else "111111")
    wrong_made_up = made_up.press("123456")
    assert NOT_VERIFIED in wrong_real.text
    assert wrong_real.said == wrong_made_up.said
    assert wrong_real.action_path == wrong_made_up.action_path == "/ivr/complaint/not-verified"
    assert count(LookupAttempt, LookupAttempt.kind == "complaint", LookupAttempt.found.is_(False)) == 2


def test_a_mistyped_code_is_not_a_code_and_nothing_is_looked_up(client, complaint):
    code = complaint.code
    swapped = code[:3] + code[4] + code[3] + code[5:]
    if swapped == code:
        swapped = code[:-1] + str((int(code[-1]) + 1) % 10)
    answer = caller_from(client, OWNER).walk("3", "2", swapped)
    assert "That is not a complaint code." in answer.text
    assert answer.action_path == "/ivr/complaint/code"
    assert count(LookupAttempt) == 0 and count(OneTimeCode) == 0


def test_three_misses_in_one_call_go_to_an_agent(client, complaint):
    caller = caller_from(client, STRANGER)
    to_confirm(caller, complaint.code)
    for attempt in range(3):
        answer = caller.press("999999" if sent_code() != "999999" else "888888")
        if attempt < 2:
            caller.press("1")  # try again
            caller.press(complaint.code)
            caller.press("1")
    assert NOT_VERIFIED in answer.text
    assert "we cannot look up more complaints on this call" in answer.text
    assert answer.enqueued is not None
    assert db.session.scalar(select(Call)).outcome is Outcome.throttled
    again = Caller(Twilio(client, caller=STRANGER)).walk("3", "2")  # the same call, from the menu
    assert "we cannot look up more complaints on this call" in again.text and again.gather is None


def test_a_code_guessed_at_from_many_calls_goes_to_agents_only(client, complaint, app, monkeypatch):
    monkeypatch.setitem(app.config, "LIMIT_FAILED_LOOKUPS_PER_NUMBER_DAY", 2)
    for n in range(2):
        caller = caller_from(client, f"+96477000000{n:02d}", sid=f"CA{n:032d}")
        to_confirm(caller, complaint.code)
        assert NOT_VERIFIED in caller.press("000001").text
    answer = to_confirm(caller_from(client, OWNER, sid="CA" + "9" * 32), complaint.code)
    assert "this complaint can only be discussed with an agent today" in answer.text
    assert "with the entity concerned" not in answer.text


def test_letter_misses_and_complaint_misses_share_the_call_limit(client, complaint):
    caller = caller_from(client, STRANGER)
    caller.walk("3", "1", "1111", "1", "15032024", "1")  # a letter that does not exist
    for _ in range(2):
        caller.press("1")
        caller.press("1111")
        caller.press("1")
        caller.press("15032024")
        caller.press("1")
    answer = Caller(Twilio(client, caller=STRANGER)).walk("3", "2")
    assert "we cannot look up more complaints on this call" in answer.text


def test_replayed_webhooks_write_nothing_twice(client, complaint):
    twilio = Twilio(client, caller=STRANGER)
    caller = Caller(twilio)
    caller.walk("3", "2", complaint.code)
    confirm_url = caller.answer.action
    first = caller.press("1")
    replay = twilio.post(confirm_url, Digits="1")  # Twilio retries the confirm step
    assert replay.status_code == 200
    assert count(OneTimeCode) == 1 and count(SmsMessage, SmsMessage.kind == SmsKind.code) == 1

    otp_url = first.action
    answer = caller.press(sent_code())
    assert "with the entity concerned" in answer.text
    replayed = twilio.post(otp_url, Digits=sent_code())  # ... and the code step
    assert "with the entity concerned" in replayed.get_data(as_text=True)
    assert count(LookupAttempt) == 1
    assert db.session.scalar(select(OneTimeCode.attempts)) == 1


def test_a_kurdish_caller_hears_arabic_until_the_clips_are_recorded(client, complaint):
    caller = caller_from(client, OWNER)
    answer = caller.walk("2", "2")
    assert not answer.played
    assert "يرجى إدخال رمز الشكوى" in answer.text
    answer = caller.press(complaint.code)
    answer = caller.press("1")
    assert "حالة شكواك" in answer.text and "وەزارەتی تەندروستی" not in answer.text
    assert "lang=ckb" in answer.action
