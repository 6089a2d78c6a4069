"""The alarm over every caller and address: failed lookups jump, supervisors hear of it once."""

from __future__ import annotations

import dataclasses
import logging
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from domain.clock import utcnow
from domain.letters.alarm import ALARM_ACTION, check_failures, latest_alarm
from domain.letters.lookup import look_up_letter
from domain.letters.throttle import Limits
from extensions import db
from models import AuditEntry
from tests.support.ivr import add_letter

ON = date(2024, 3, 15)
LIMITS = Limits(
    per_call=3, per_caller_hour=10, per_number_day=20, timezone="Asia/Baghdad", alarm_failures=5, alarm_window_s=600
)
WEB = dataclasses.replace(LIMITS, per_call=None)


@pytest.fixture(autouse=True)
def context(app_context):
    yield


def alarms() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == ALARM_ACTION)))


def web_guess(n: int, limits: Limits = WEB):
    return look_up_letter(
        f"55{n:04d}", ON, who=f"web:198.51.100.{n % 250}", limits=limits, attempt_key=f"w{n}", channel="web"
    )


def test_failures_across_addresses_raise_one_alarm_a_window(caplog):
    add_letter()
    caplog.set_level(logging.WARNING, logger="domain.letters.alarm")
    for n in range(4):
        web_guess(n)
    look_up_letter("1234", ON, who="web:198.51.100.99", limits=WEB, attempt_key="found", channel="web")
    assert alarms() == []  # four failures (and a success) are ordinary
    for n in range(4, 30):
        web_guess(n)
    look_up_letter("5599", ON, who="+9647501234567", limits=LIMITS, attempt_key="k1", call_sid="CA1")
    [entry] = alarms()
    assert entry.user_id is None and entry.address is None
    assert entry.detail == {"failed": 5, "window_s": 600, "threshold": 5, "sources": 5, "failed_web": 5}
    [record] = [r for r in caplog.records if r.name == "domain.letters.alarm"]
    message = record.getMessage()
    assert "5 in the last 600 s" in message and "from 5 callers and addresses" in message
    for personal in ("5500", "198.51.100", "1234", "+964"):
        assert personal not in message  # counts only: no letter, no caller, no address


def test_a_new_window_still_jumping_raises_it_again():
    for n in range(10):
        web_guess(n)
    assert len(alarms()) == 1  # raised at the fifth failure, not again at the tenth
    assert check_failures(5, 600, now=utcnow() + timedelta(seconds=1200)) is None  # the failures were long ago
    first = alarms()[0]
    first.created_at = utcnow() - timedelta(seconds=700)  # the first alarm's window has passed
    db.session.commit()
    web_guess(10)
    second = alarms()[-1]
    assert len(alarms()) == 2 and second.detail["failed"] == 11


def test_ivr_failures_count_too_and_zero_turns_the_alarm_off():
    off = dataclasses.replace(LIMITS, alarm_failures=0)
    for n in range(6):
        look_up_letter(f"77{n}", ON, who=f"+96475012345{n:02d}", limits=off, attempt_key=f"k{n}", call_sid=f"CA{n}")
    assert alarms() == []
    look_up_letter("7799", ON, who="+9647501234599", limits=LIMITS, attempt_key="k9", call_sid="CA9")
    [entry] = alarms()
    assert entry.detail["failed_ivr"] == 7 and entry.detail["sources"] == 7


def test_supervisors_are_shown_an_alarm_for_an_hour():
    for n in range(5):
        web_guess(n)
    alarm = latest_alarm(600)
    assert alarm is not None and alarm.failed == 5 and alarm.sources == 5
    assert latest_alarm(600, now=utcnow() + timedelta(minutes=59)) is not None
    assert latest_alarm(600, now=utcnow() + timedelta(minutes=61)) is None
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1
