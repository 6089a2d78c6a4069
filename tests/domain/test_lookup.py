"""Does one lookup use case judge the IVR's and the web's guesses by the same policy?"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from sqlalchemy import func, select

from domain.letters.lookup import check_typed_date, look_up_letter
from domain.letters.throttle import Limits, Throttle, web_caller_key
from extensions import db
from models import Direction, LookupAttempt
from tests.support.ivr import add_letter

ON = date(2024, 3, 15)
LIMITS = Limits(per_call=3, per_caller_hour=10, per_number_day=20, timezone="Asia/Baghdad")
WEB = dataclasses.replace(LIMITS, per_call=None, per_caller_hour=5)


@pytest.fixture(autouse=True)
def context(app_context):
    yield


def attempts(**where) -> int:
    query = select(func.count()).select_from(LookupAttempt).filter_by(**where)
    return db.session.scalar(query)


def ivr_guess(number: str, key: str, call_sid: str = "CA1", who: str = "+9647501234567"):
    return look_up_letter(number, ON, who=who, limits=LIMITS, attempt_key=key, call_sid=call_sid)


def test_a_found_letter_is_returned_and_counted_as_found():
    letter = add_letter()
    lookup = ivr_guess("1234", "k1")
    assert lookup.found and [t.id for t in lookup.letters] == [letter.id]
    assert lookup.throttled is None and not lookup.last_try
    assert attempts(found=True, channel="ivr", call_sid="CA1") == 1


def test_both_directions_are_returned_for_the_caller_to_choose():
    add_letter()
    add_letter(direction=Direction.to_region)
    assert len(ivr_guess("1234", "k1").letters) == 2


def test_a_wrong_guess_is_not_found_and_counted_as_failed():
    add_letter()
    lookup = ivr_guess("9999", "k1")
    assert not lookup.found and lookup.throttled is None and not lookup.last_try
    assert attempts(found=False) == 1


def test_the_failure_that_uses_up_the_calls_tries_says_so():
    ivr_guess("1111", "k1")
    ivr_guess("2222", "k2")
    assert ivr_guess("3333", "k3").last_try


def test_past_the_limit_nothing_is_looked_up_or_counted():
    add_letter()
    for n in range(3):
        ivr_guess(f"5{n}", f"k{n}")
    lookup = ivr_guess("1234", "k-right")  # even the right letter: the call has used its tries
    assert lookup.throttled is Throttle.per_call and not lookup.found
    assert attempts() == 3


def test_a_replayed_request_is_judged_as_the_original_and_counted_once():
    ivr_guess("1111", "k1")
    ivr_guess("2222", "k2")
    first = ivr_guess("3333", "k3")
    again = ivr_guess("3333", "k3")  # Twilio posting the same webhook again
    assert first == again and again.throttled is None
    assert attempts() == 3


def test_the_web_has_no_call_limit_but_an_address_limit():
    for n in range(4):
        lookup = look_up_letter(f"7{n}", ON, who="web:203.0.113.7", limits=WEB, attempt_key=f"w{n}", channel="web")
        assert lookup.throttled is None and not lookup.last_try  # past 3 failures: no call to end
    look_up_letter("75", ON, who="web:203.0.113.7", limits=WEB, attempt_key="w5", channel="web")
    refused = look_up_letter("76", ON, who="web:203.0.113.7", limits=WEB, attempt_key="w6", channel="web")
    assert refused.throttled is Throttle.per_caller
    assert attempts(channel="web") == 5


def test_the_use_case_commits_unless_a_voice_step_will():
    look_up_letter("1111", ON, who="web:a", limits=WEB, attempt_key="w1", channel="web")
    look_up_letter("2222", ON, who="+9647501234567", limits=LIMITS, attempt_key="k1", call_sid="CA1", commit=False)
    db.session.rollback()
    assert attempts(channel="web") == 1 and attempts(channel="ivr") == 0


# --- dates as typed on a page -----------------------------------------------------------

TODAY = date(2025, 1, 1)


@pytest.mark.parametrize(
    "typed",
    [
        "2024-03-15",
        "2024-3-15",
        "15/03/2024",
        "15.3.2024",
        "15-03-2024",
        "15 / 03 / 2024",
        " 15032024 ",
        "١٥/٠٣/٢٠٢٤",
        "۱۵/۰۳/۲۰۲۴",
    ],
)
def test_the_usual_ways_of_typing_a_date_are_read(typed):
    assert check_typed_date(typed, TODAY).value == ON


@pytest.mark.parametrize(
    "typed, error",
    [
        ("", "empty"),
        (None, "empty"),
        ("15/03/24", "wrong_length"),
        ("March 15", "wrong_length"),
        ("31/02/2024", "not_a_date"),
        ("2026-01-01", "in_future"),
        ("01/01/1999", "too_old"),
    ],
)
def test_a_typed_date_is_judged_by_the_ivrs_rules(typed, error):
    assert check_typed_date(typed, TODAY).error == error


@pytest.mark.parametrize(
    "address, prefix, key",
    [
        ("203.0.113.7", 64, "web:203.0.113.7"),
        ("::ffff:203.0.113.7", 64, "web:203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", 64, "web:2001:db8:1:2::/64"),
        ("2001:0DB8:0001:0002::", 64, "web:2001:db8:1:2::/64"),
        ("2001:db8:1:2:3:4:5:6", 48, "web:2001:db8:1::/48"),
        ("2001:db8:1:2:3:4:5:6", 128, "web:2001:db8:1:2:3:4:5:6/128"),
        ("fe80::1%eth0", 64, "web:fe80::/64"),
        ("", 64, "web:unknown"),
        (None, 64, "web:unknown"),
        ("not an address", 64, "web:unknown"),
    ],
)
def test_a_web_client_is_its_ipv4_address_or_its_ipv6_network(address, prefix, key):
    assert web_caller_key(address, prefix) == key
    assert len(key) <= LookupAttempt.caller_key.type.length
