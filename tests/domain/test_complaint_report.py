"""The complaints report's figures, from complaints filed at known times (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.complaints import handling
from domain.reporting.complaints import complaint_report
from domain.reporting.kpis import Period
from extensions import db
from models import ComplaintChannel, Role
from tests.support.complaint_report import NOW, some_complaints
from tests.support.complaints import add_complaint
from tests.support.records import add_user

TZ = "Asia/Baghdad"
TENTH_TO_ELEVENTH = Period(date(2025, 3, 10), date(2025, 3, 11))


@pytest.fixture
def complaints(app_context):
    return some_complaints()


def test_counts_per_entity_category_governorate_and_channel(complaints):
    health, education, delay, conduct = complaints
    report = complaint_report(TENTH_TO_ELEVENTH, tz_name=TZ, now=NOW)
    assert report.filed == 6  # not the one filed after midnight on the 12th, Baghdad time
    assert [(e.code, n) for e, n in report.by_entity] == [("krg-education", 3), ("krg-health", 3)]
    assert [(c.code, n) for c, n in report.by_category] == [("employee-conduct", 4), ("service-delay", 2)]
    assert report.by_governorate == [("duhok", 3), ("erbil", 3)]
    assert sorted((c.value, n) for c, n in report.by_channel) == [("phone", 3), ("web", 3)]
    assert report.by_day == [(date(2025, 3, 10), 3), (date(2025, 3, 11), 3)]
    assert report.by_entity[1][0].name("en") == "KRG Ministry of Health"
    assert isinstance(report.by_channel[0][0], ComplaintChannel)


def test_response_and_resolution_times_in_calendar_hours(complaints):
    report = complaint_report(TENTH_TO_ELEVENTH, tz_name=TZ, now=NOW)
    assert report.first_response.count == 3
    assert report.first_response.median_h == pytest.approx(2)
    assert report.first_response.mean_h == pytest.approx((2 + 10 + 1) / 3)
    assert (report.resolution.count, report.resolution.median_h) == (2, pytest.approx(17))


def test_sla_compliance_and_appeal_rate(complaints):
    report = complaint_report(TENTH_TO_ELEVENTH, tz_name=TZ, now=NOW)
    assert (report.finished, report.sla_known, report.sla_met, report.appealed) == (2, 2, 1, 1)
    assert report.sla_compliance == 0.5 and report.appeal_rate == 0.5


def test_the_most_overdue_entities_are_counted_now_whatever_the_period(complaints):
    report = complaint_report(Period(date(2025, 1, 1), date(2025, 1, 2)), tz_name=TZ, now=NOW)
    assert report.filed == 0 and report.sla_compliance is None and report.appeal_rate is None
    assert report.first_response.median_h is None
    assert [(e.code, n) for e, n in report.overdue] == [("krg-education", 1), ("krg-health", 1)]
    assert report.overdue_total == 2
    before = complaint_report(TENTH_TO_ELEVENTH, tz_name=TZ, now=NOW - timedelta(days=9))
    assert before.overdue == [] and before.overdue_total == 0


def test_a_period_to_the_twelfth_takes_the_complaint_filed_after_midnight(complaints):
    report = complaint_report(Period(date(2025, 3, 10), date(2025, 3, 12)), tz_name=TZ, now=NOW)
    assert report.filed == 7 and report.by_day[-1] == (date(2025, 3, 12), 1)


def test_a_resolution_records_whether_it_came_within_the_sla(app_context, monkeypatch):
    supervisor = add_user("super", Role.supervisor)
    in_time, late = add_complaint(), add_complaint(phone="0750 765 4321")
    handling.move(in_time.id, supervisor, handling.S.resolved, "Sorted out with the clinic.")
    assert in_time.sla_met is True
    past_due = late.sla_due_at + timedelta(minutes=1)
    monkeypatch.setattr(handling, "utcnow", lambda: past_due)
    handling.reject(late.id, supervisor, "Not a matter for this ministry.")
    db.session.refresh(late)
    assert late.sla_met is False
