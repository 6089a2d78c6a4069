"""After the status, does key 2 send it by SMS and key 3 subscribe, for mobiles only, once?"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from extensions import db
from models import SmsKind, SmsMessage, SmsStatus, Subscription
from tests.support.ivr import Caller, add_letter
from tests.support.jobs import run_worker, worker_env
from tests.support.webhooks import Twilio

NUMBER, KEYED_DATE = "1234", "15032024"
MOBILE, LANDLINE = "+9647501234567", "+96466222333"


@pytest.fixture
def letter(app_context):
    return add_letter()


def at_the_status(client, language_key="3", caller=MOBILE) -> Caller:
    walker = Caller(Twilio(client, caller=caller))
    walker.walk(language_key, "1", NUMBER, "1", KEYED_DATE, "1")
    assert walker.answer.action_path == "/ivr/result"
    return walker


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_result_menu_offers_sms_keys(client, letter):
    walker = at_the_status(client)
    assert "To get it by text message, press 2." in walker.answer.text
    assert "To get a text message when it changes, press 3." in walker.answer.text


def test_key_2_sends_the_status_in_the_callers_language(client, letter, sms_ready):
    walker = at_the_status(client)
    answer = walker.press("2")
    assert "We are sending you this status by text message." in answer.text
    assert answer.action_path == "/ivr/result"  # the menu again: 1 repeat, 9 another, 0 agent
    message = db.session.scalars(select(SmsMessage)).one()
    assert message.kind == SmsKind.status and message.language == "en" and message.to_phone == MOBILE
    assert message.status == SmsStatus.sent  # no Redis in this test: the job ran inline
    sent = sms_ready.messages_sent()
    assert len(sent) == 1 and sent[0].form["Body"].startswith("5599: Your letter was forwarded.")


def test_arabic_caller_gets_an_arabic_sms(client, letter, sms_ready):
    walker = at_the_status(client, language_key="1")
    answer = walker.press("2")
    assert "سنرسل إليك هذه الحالة برسالة نصية." in answer.text
    body = sms_ready.messages_sent()[0].form["Body"]
    assert "محال" in body and "وزارة المالية الاتحادية" in body and "02/04/2024" in body


def test_pressing_2_twice_or_a_replay_sends_one_sms(client, letter, sms_ready):
    walker = at_the_status(client)
    action = walker.answer.action
    walker.press("2")
    walker.twilio.post(action, Digits="2")  # Twilio replays the same webhook
    walker.press("2")  # and the caller presses 2 again
    assert count(SmsMessage) == 1
    assert len(sms_ready.messages_sent()) == 1


def test_a_landline_cannot_get_an_sms_and_is_told(client, letter, sms_ready):
    walker = at_the_status(client, caller=LANDLINE)
    answer = walker.press("2")
    assert "text messages go to mobile numbers only" in answer.text
    assert count(SmsMessage) == 0 and sms_ready.requests == []
    answer = walker.press("3")
    assert "text messages go to mobile numbers only" in answer.text
    assert count(Subscription) == 0


def test_a_withheld_number_cannot_get_an_sms(client, letter):
    walker = at_the_status(client, caller="anonymous")
    assert "mobile numbers only" in walker.press("2").text
    assert count(SmsMessage) == 0


def test_key_3_subscribes_the_number_once(client, letter):
    walker = at_the_status(client)
    answer = walker.press("3")
    assert "We will send you a text message when this letter changes." in answer.text
    walker.press("3")
    subscription = db.session.scalars(select(Subscription)).one()
    assert subscription.phone == MOBILE and subscription.transaction_id == letter.id
    assert subscription.language == "en" and subscription.active


def test_key_2_with_redis_is_sent_by_a_real_worker_once(app, client, letter, database_url, redis_url, sms_ready):
    walker = at_the_status(client)
    walker.press("2")
    walker.press("2")
    message = db.session.scalars(select(SmsMessage)).one()
    assert message.status == SmsStatus.queued
    db.session.remove()
    run_worker(worker_env(app, database_url, redis_url, sms_ready.url), "sms")
    assert len(sms_ready.messages_sent(to=MOBILE)) == 1
    db.session.expire_all()
    assert db.session.scalars(select(SmsMessage)).one().status == SmsStatus.sent


def test_redis_down_still_answers_the_caller(app, client, letter, sms_ready):
    from tests.support.jobs import CLOSED_PORT_URL, use_redis

    use_redis(app, CLOSED_PORT_URL)
    try:
        answer = at_the_status(client).press("2")
    finally:
        use_redis(app, None)
    assert "We are sending you this status by text message." in answer.text
    assert db.session.scalars(select(SmsMessage)).one().status == SmsStatus.pending


def test_a_frozen_redis_still_answers_the_caller_in_time(app, client, letter, sms_ready, frozen_redis):
    """Redis alive but silent (SIGSTOP): the SMS and the consoles' event wait; the caller does not."""
    frozen_redis.freeze()
    walker = at_the_status(client)
    started = time.monotonic()
    answer = walker.press("2")
    first_s = time.monotonic() - started
    started = time.monotonic()
    walker.press("0")  # to the agents' queue: the consoles' event is skipped at once
    second_s = time.monotonic() - started
    print(f"webhooks with Redis frozen: key 2 (SMS) {first_s:.2f} s, then key 0 (queue) {second_s:.2f} s")
    assert "We are sending you this status by text message." in answer.text
    assert db.session.scalars(select(SmsMessage)).one().status == SmsStatus.pending
    assert first_s < 2.0 and second_s < 1.0


# --- abuse of third parties: only allowed countries, a daily cap per number ----------

FOREIGN_MOBILE = "+447911123456"  # a UK mobile: SMS pumping's kind of destination


def add_sent(phone: str, letter, *, hours_ago: float, n: int = 1) -> None:
    from datetime import timedelta

    from domain.clock import utcnow

    for _ in range(n):
        db.session.add(
            SmsMessage(
                idempotency_key=f"earlier-{count(SmsMessage)}-{hours_ago}",
                to_phone=phone,
                body="earlier",
                language="en",
                kind=SmsKind.status,
                status=SmsStatus.sent,
                transaction_id=letter.id,
                created_at=utcnow() - timedelta(hours=hours_ago),
            )
        )
        db.session.commit()


def test_a_mobile_abroad_gets_no_sms_and_is_told_as_a_landline(client, letter, sms_ready):
    walker = at_the_status(client, caller=FOREIGN_MOBILE)
    assert "text messages go to mobile numbers only" in walker.press("2").text
    assert "text messages go to mobile numbers only" in walker.press("3").text
    assert count(SmsMessage) == 0 and count(Subscription) == 0 and sms_ready.requests == []


def test_the_allowed_countries_are_a_setting(app, client, letter, sms_ready, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_ALLOWED_COUNTRY_CODES", frozenset({"964", "44"}))
    answer = at_the_status(client, caller=FOREIGN_MOBILE).press("2")
    assert "We are sending you this status by text message." in answer.text
    assert len(sms_ready.messages_sent(to=FOREIGN_MOBILE)) == 1


def test_a_number_that_had_its_sms_today_gets_no_more(app, client, letter, sms_ready):
    cap = app.config["SMS_MAX_PER_DESTINATION_DAY"]
    add_sent(MOBILE, letter, hours_ago=1, n=cap)
    walker = at_the_status(client)
    answer = walker.press("2")
    assert "as many text messages today as we can send" in answer.text
    assert answer.action_path == "/ivr/result"
    assert count(SmsMessage) == cap and sms_ready.requests == []


def test_messages_older_than_a_day_do_not_count(app, client, letter, sms_ready):
    cap = app.config["SMS_MAX_PER_DESTINATION_DAY"]
    add_sent(MOBILE, letter, hours_ago=25, n=cap)
    add_sent(MOBILE, letter, hours_ago=2, n=cap - 1)
    add_sent("+9647709999999", letter, hours_ago=1, n=cap)  # another number's count is its own
    answer = at_the_status(client).press("2")
    assert "We are sending you this status by text message." in answer.text
    assert len(sms_ready.messages_sent(to=MOBILE)) == 1


def test_a_replay_of_a_message_made_before_the_cap_still_finds_it(app, client, letter, sms_ready):
    walker = at_the_status(client)
    action = walker.answer.action
    walker.press("2")
    add_sent(MOBILE, letter, hours_ago=1, n=app.config["SMS_MAX_PER_DESTINATION_DAY"])
    answer = walker.twilio.post(action, Digits="2")  # Twilio replays the webhook: same answer
    assert "We are sending you this status by text message." in answer.get_data(as_text=True)


def test_subscribers_abroad_or_over_the_cap_are_not_notified(app, app_context, letter):
    from domain.sms import notify_subscribers

    cap = app.config["SMS_MAX_PER_DESTINATION_DAY"]
    capped = "+9647709999999"
    add_sent(capped, letter, hours_ago=3, n=cap)
    for phone in (MOBILE, FOREIGN_MOBILE, capped):  # the foreign one from before the setting
        db.session.add(Subscription(phone=phone, transaction_id=letter.id, language="en", active=True))
    db.session.commit()
    assert notify_subscribers([letter.id]) == 1
    db.session.commit()
    made = db.session.scalars(select(SmsMessage).where(SmsMessage.kind == SmsKind.notification)).all()
    assert [m.to_phone for m in made] == [MOBILE]
