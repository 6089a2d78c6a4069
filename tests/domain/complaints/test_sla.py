"""Due times in working hours: Sunday to Thursday, 08:00-15:00 Baghdad time, less closed dates."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, strategies as st

from config import Hours, parse_days
from domain.complaints.sla import WorkingTime, colour, due_at

BAGHDAD = ZoneInfo("Asia/Baghdad")
WORK = WorkingTime(
    hours=Hours.parse("08:00-15:00"),
    days=parse_days("sun,mon,tue,wed,thu", "OFFICE_DAYS"),
    closed=frozenset({"2026-12-10"}),  # a Thursday off
    tz_name="Asia/Baghdad",
)


def baghdad(*args) -> datetime:
    return datetime(*args, tzinfo=BAGHDAD).astimezone(timezone.utc)


def test_hours_within_one_working_day():
    assert due_at(baghdad(2026, 12, 6, 9, 0), 3, WORK) == baghdad(2026, 12, 6, 12, 0)  # a Sunday


def test_what_is_left_at_closing_time_runs_on_the_next_working_morning():
    assert due_at(baghdad(2026, 12, 6, 14, 0), 3, WORK) == baghdad(2026, 12, 7, 10, 0)


def test_the_weekend_and_closed_dates_do_not_count():
    # Wednesday 14:00 + 3 h: 1 h on Wednesday, Thursday is closed, Friday and Saturday off.
    assert due_at(baghdad(2026, 12, 9, 14, 0), 3, WORK) == baghdad(2026, 12, 13, 10, 0)


def test_filed_at_night_the_clock_starts_in_the_morning():
    assert due_at(baghdad(2026, 12, 5, 23, 30), 1, WORK) == baghdad(2026, 12, 6, 9, 0)  # Saturday night


def test_working_minutes_between_two_moments():
    assert WORK.minutes_between(baghdad(2026, 12, 6, 14, 0), baghdad(2026, 12, 7, 10, 0)) == 180
    assert WORK.minutes_between(baghdad(2026, 12, 7, 10, 0), baghdad(2026, 12, 6, 14, 0)) == 0


@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(timezone.utc)),
    st.integers(min_value=0, max_value=2000),
)
def test_adding_then_measuring_gives_the_same_minutes(start, minutes):
    end = WORK.add(start, minutes)
    assert WORK.minutes_between(start, end) == minutes


def test_colours():
    due = baghdad(2026, 12, 7, 12, 0)
    assert colour(due, 10, baghdad(2026, 12, 7, 12, 1), WORK) == "red"
    assert colour(due, 10, baghdad(2026, 12, 7, 11, 0), WORK) == "amber"  # 1 h of 10 left
    assert colour(due, 10, baghdad(2026, 12, 6, 9, 0), WORK) == "green"
    assert colour(None, 10, baghdad(2026, 12, 6, 9, 0), WORK) == "none"


def test_days_setting_is_checked():
    with pytest.raises(ValueError):
        parse_days("sun,funday", "OFFICE_DAYS")
    assert parse_days("Sun, Thu", "OFFICE_DAYS") == {6, 3}


def test_no_working_time_at_all_is_an_error_not_a_hang():
    never = WorkingTime(Hours.parse("08:00-15:00"), frozenset(), frozenset(), "Asia/Baghdad")
    with pytest.raises(ValueError):
        never.add(baghdad(2026, 12, 6, 9, 0), 60)
