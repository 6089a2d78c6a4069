"""One-time codes: sent once, tried a few times, expire, limited per destination and requester."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from domain import one_time_codes as codes
from extensions import db
from models import CodePurpose, OneTimeCode, SmsKind, SmsMessage

PHONE = "+9647501234567"


def send(**overrides):
    values = dict(purpose=CodePurpose.complaint, channel="sms", destination=PHONE, requester="web-1", language="en")
    values.update(overrides)
    record = codes.send_code(**values)
    db.session.commit()
    return record


def last_code() -> str:
    message = db.session.scalars(
        select(SmsMessage).where(SmsMessage.kind == SmsKind.code).order_by(SmsMessage.id.desc())
    ).first()
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def check(code, **overrides):
    values = dict(purpose=CodePurpose.complaint, destination=PHONE, code=code)
    values.update(overrides)
    return codes.check_code(**values)


def test_the_code_sent_is_the_one_accepted_once(app_context):
    send()
    code = last_code()
    assert db.session.scalar(select(OneTimeCode.code_hash)) != code  # only a keyed hash is kept
    assert check(code) is codes.Check.ok
    assert check(code) is codes.Check.expired  # used up


def test_a_code_is_for_its_purpose_and_subject_only(app_context):
    send(purpose=CodePurpose.track, subject="1022284975")
    code = last_code()
    assert check(code) is codes.Check.expired  # another purpose
    assert check(code, purpose=CodePurpose.track, subject="9999999999") is codes.Check.expired
    assert check(code, purpose=CodePurpose.track, subject="1022284975") is codes.Check.ok


def test_a_code_has_a_few_tries(app, app_context):
    send()
    code = last_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(app.config["OTP_MAX_TRIES"]):
        assert check(wrong) is codes.Check.wrong
    assert check(code) is codes.Check.exhausted


def test_a_code_expires(app, app_context, monkeypatch):
    send()
    code = last_code()
    later = codes.utcnow() + timedelta(minutes=app.config["OTP_TTL_MINUTES"], seconds=1)
    monkeypatch.setattr(codes, "utcnow", lambda: later)
    assert check(code) is codes.Check.expired


def test_sending_is_limited_per_destination_and_per_requester(app, app_context):
    for _ in range(app.config["OTP_MAX_PER_DESTINATION_HOUR"]):
        send()
    with pytest.raises(codes.CodeRefused) as refused:
        send()
    assert refused.value.reason is codes.Refusal.destination
    for number in range(app.config["OTP_MAX_PER_REQUESTER_HOUR"] - app.config["OTP_MAX_PER_DESTINATION_HOUR"]):
        send(destination=f"+96475012345{number:02d}")
    with pytest.raises(codes.CodeRefused) as refused:
        send(destination="+9647709876543")
    assert refused.value.reason is codes.Refusal.requester


def test_no_code_to_a_number_we_may_not_text(app_context):
    with pytest.raises(codes.CodeRefused) as refused:
        send(destination="+12025550123")  # abroad: SMS pumping
    assert refused.value.reason is codes.Refusal.undeliverable
    assert db.session.scalar(select(OneTimeCode.id)) is None


def test_an_older_valid_code_still_works_after_a_new_one(app_context):
    send()
    first = last_code()
    send()
    assert check(first) is codes.Check.ok
