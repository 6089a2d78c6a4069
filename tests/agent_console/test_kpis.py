"""Are the KPIs what a supervisor would count by hand, on both databases?

One local day (Monday 10 March 2025, Baghdad) holds seven calls (some held, consulted about
or transferred on the way) and two callback requests,
with neighbours just outside it on both sides; every figure below was worked out on paper
from the times in `the_day`.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from domain.reporting.kpis import (
    Kpis,
    Period,
    by_agent,
    by_day,
    by_hour,
    by_language,
    kpi_report,
    overall,
    preset_period,
)
from models import Outcome, Role
from tests.support.records import add_user
from tests.support.supervisor import add_call, add_callback

DAY = Period(date(2025, 3, 10), date(2025, 3, 10))
SETTINGS = {"tz_name": "Asia/Baghdad", "service_level_s": 30}


@pytest.fixture
def the_day(app_context):
    aya = add_user("aya", Role.agent, display_name="Aya")
    bashir = add_user("bashir", Role.agent, display_name="Bashir")
    answered = {"outcome": Outcome.agent_answered}
    calls = {
        "early_self_served": add_call("2025-03-10 00:10:00", language="ar"),
        "self_served": add_call("2025-03-10 09:05:00", language="en"),
        # Queued 40 s in, answered 20 s later (inside 30 s), 180 s talk + 30 s wrap-up.
        "quick": add_call(
            "2025-03-10 09:20:00",
            language="ar",
            queued_after=40,
            answered_after=20,
            talk=180,
            wrap=30,
            agent=aya,
            survey=5,
            hold_s=40,
            consults=1,
            **answered,
        ),
        # Answered 45 s after queueing (outside the service level), hung up with no wrap-up yet.
        "slow": add_call(
            "2025-03-10 09:40:00",
            language="ckb",
            queued_after=50,
            answered_after=45,
            talk=100,
            agent=bashir,
            survey=3,
            hold_s=20,
            consults=1,
            transfers=1,
            **answered,
        ),
        # Transferred back to the queue after a hold (its agent's rows cleared), then abandoned:
        # the transfer counts, the hold of a call no agent answered in the end does not.
        "abandoned": add_call(
            "2025-03-10 14:00:00",
            language="ar",
            queued_after=30,
            left_after=70,
            outcome=Outcome.abandoned_in_queue,
            hold_s=15,
            transfers=1,
        ),
        # Starts at 23:59:30, answered at 00:00:20 the next day, exactly 30 s after queueing.
        "midnight": add_call(
            "2025-03-10 23:59:30",
            language="en",
            queued_after=20,
            answered_after=30,
            talk=60,
            wrap=15,
            agent=aya,
            ended_after=200,
            **answered,
        ),
        "hung_up": add_call("2025-03-10 10:00:00", language=None, outcome=Outcome.hung_up_in_ivr),
        "day_before": add_call("2025-03-09 23:59:59", language="ar"),
        "day_after": add_call("2025-03-11 00:00:00", language="ar"),
    }
    add_callback("2025-03-10 14:01:00", language="ar")
    add_callback("2025-03-10 16:30:00", language="en", requested_by=bashir)
    add_callback("2025-03-11 00:00:05", language="ar")
    return {"aya": aya, "bashir": bashir, **calls}


def test_a_local_day_is_bounded_by_baghdad_midnights_in_utc():
    begin, end = DAY.utc_bounds("Asia/Baghdad")
    assert begin == datetime(2025, 3, 9, 21, 0, tzinfo=timezone.utc)
    assert end == datetime(2025, 3, 10, 21, 0, tzinfo=timezone.utc)


def test_the_day_overall(the_day):
    kpis = overall(DAY, **SETTINGS)
    assert (kpis.offered, kpis.self_served, kpis.queued, kpis.answered, kpis.abandoned) == (7, 2, 4, 3, 1)
    assert kpis.containment == pytest.approx(2 / 7)
    assert kpis.abandonment_rate == pytest.approx(1 / 4)
    assert kpis.answered_in_time == 2 and kpis.service_level == pytest.approx(0.5)
    assert kpis.asa_s == pytest.approx((20 + 45 + 30) / 3)
    assert kpis.aht_s == pytest.approx((210 + 100 + 75) / 3)
    assert kpis.callbacks == 2
    assert kpis.survey_avg == pytest.approx(4.0) and kpis.survey_count == 2
    assert (kpis.hold_s, kpis.transfers, kpis.consults) == (60, 2, 2)
    assert kpis.hold_per_call_s == pytest.approx(20)
    assert kpis.transfers_per_call == pytest.approx(2 / 3) and kpis.consults_per_call == pytest.approx(2 / 3)


def test_the_handle_time_includes_the_hold(app_context):
    agent = add_user("hana", Role.agent, display_name="Hana")
    add_call(
        "2025-03-10 11:00:00",
        queued_after=5,
        answered_after=5,
        talk=200,
        wrap=20,
        agent=agent,
        hold_s=90,
        outcome=Outcome.agent_answered,
    )
    kpis = overall(DAY, **SETTINGS)
    assert kpis.aht_s == pytest.approx(220) and kpis.hold_per_call_s == pytest.approx(90)


def test_the_service_level_threshold_comes_from_the_caller(the_day):
    assert overall(DAY, tz_name="Asia/Baghdad", service_level_s=45).answered_in_time == 3
    assert overall(DAY, tz_name="Asia/Baghdad", service_level_s=29).answered_in_time == 1


def test_per_local_hour(the_day):
    hours = dict(by_hour(DAY, **SETTINGS))
    assert list(hours) == list(range(24))
    assert (hours[0].offered, hours[0].self_served) == (1, 1)
    nine = hours[9]
    assert (nine.offered, nine.self_served, nine.queued, nine.answered, nine.answered_in_time) == (3, 1, 2, 2, 1)
    assert nine.asa_s == pytest.approx(32.5) and nine.aht_s == pytest.approx(155)
    assert (hours[10].offered, hours[10].queued) == (1, 0)
    assert (hours[14].offered, hours[14].abandoned, hours[14].callbacks) == (1, 1, 1)
    assert (hours[16].offered, hours[16].callbacks) == (0, 1)
    # The call that began at 23:59:30 stays in hour 23, though it was answered after midnight.
    assert (hours[23].offered, hours[23].answered, hours[23].answered_in_time) == (1, 1, 1)
    assert sum(k.offered for k in hours.values()) == 7
    assert all(hours[h] == Kpis() for h in set(range(24)) - {0, 9, 10, 14, 16, 23})


def test_per_local_day_with_the_neighbours(the_day):
    days = by_day(Period(date(2025, 3, 9), date(2025, 3, 11)), **SETTINGS)
    assert [day for day, _ in days] == [date(2025, 3, 9), date(2025, 3, 10), date(2025, 3, 11)]
    before, that_day, after = (kpis for _, kpis in days)
    assert (before.offered, before.self_served, before.callbacks) == (1, 1, 0)
    assert that_day == overall(DAY, **SETTINGS)
    assert (after.offered, after.callbacks) == (1, 1)


def test_per_agent(the_day):
    rows = by_agent(DAY, **SETTINGS)
    assert [ref.name for ref, _ in rows] == ["Aya", "Bashir", ""]
    aya, bashir, nobody = (kpis for _, kpis in rows)
    assert (aya.answered, aya.answered_in_time, aya.callbacks) == (2, 2, 0)
    assert aya.aht_s == pytest.approx((210 + 75) / 2) and aya.asa_s == pytest.approx(25)
    assert aya.survey_avg == pytest.approx(5)
    assert (bashir.answered, bashir.callbacks, bashir.aht_s, bashir.survey_avg) == (1, 1, 100, 3)
    assert (aya.hold_s, aya.hold_per_call_s, aya.transfers, aya.consults) == (40, 20, 0, 1)
    assert (bashir.hold_s, bashir.transfers, bashir.consults, bashir.transfers_per_call) == (20, 1, 1, 1)
    assert (nobody.hold_s, nobody.transfers, nobody.hold_per_call_s) == (0, 1, None)
    # What no agent handled: the four calls that never reached one and the IVR's callback.
    assert (rows[2][0].id, nobody.offered, nobody.answered, nobody.callbacks) == (None, 4, 0, 1)


def test_per_language(the_day):
    rows = by_language(DAY, **SETTINGS)
    assert [code for code, _ in rows] == ["ar", "ckb", "en", None]
    found = dict(rows)
    assert (found["ar"].offered, found["ar"].abandoned, found["ar"].callbacks) == (3, 1, 1)
    assert (found["ckb"].offered, found["ckb"].answered) == (1, 1)
    assert (found["en"].offered, found["en"].self_served, found["en"].callbacks) == (2, 1, 1)
    assert (found[None].offered, found[None].self_served) == (1, 0)


def test_zero_calls_give_zeros_and_no_rates(app_context):
    report = kpi_report(Period(date(2020, 1, 1), date(2020, 1, 2)), **SETTINGS)
    assert report.overall == Kpis()
    assert report.overall.containment is None and report.overall.service_level is None
    assert report.overall.abandonment_rate is None and report.overall.asa_s is None
    assert len(report.by_hour) == 24 and all(kpis == Kpis() for _, kpis in report.by_hour)
    assert [kpis for _, kpis in report.by_day] == [Kpis(), Kpis()]
    assert report.by_agent == [] and report.by_language == []


def test_the_report_holds_every_breakdown(the_day):
    report = kpi_report(DAY, **SETTINGS)
    assert report.overall.offered == 7
    assert sum(k.offered for _, k in report.by_hour) == sum(k.offered for _, k in report.by_day) == 7
    assert sum(k.offered for _, k in report.by_agent) == sum(k.offered for _, k in report.by_language) == 7
    assert sum(k.callbacks for _, k in report.by_language) == 2


@pytest.mark.parametrize(
    "name, start, end",
    [
        ("today", date(2025, 3, 10), date(2025, 3, 10)),
        ("yesterday", date(2025, 3, 9), date(2025, 3, 9)),
        ("week", date(2025, 3, 8), date(2025, 3, 10)),  # Iraq's week starts on Saturday
        ("month", date(2025, 3, 1), date(2025, 3, 10)),
    ],
)
def test_preset_periods(name, start, end):
    assert preset_period(name, date(2025, 3, 10)) == Period(start, end)


def test_a_week_starting_today_is_one_day():
    saturday = date(2025, 3, 8)
    assert preset_period("week", saturday) == Period(saturday, saturday)


def test_a_period_cannot_end_before_it_starts():
    with pytest.raises(ValueError):
        Period(date(2025, 3, 10), date(2025, 3, 9))


# --- the KPI page ---------------------------------------------------------------------------


def kpi_page(app, query: str, username: str = "sami"):
    from tests.support.records import logged_in_client

    return logged_in_client(app, username).get(f"/console/kpis?{query}")


def tile(html: str, name: str) -> str:
    return html.split(f'id="tile-{name}"')[1].split('<span class="num">')[1].split("</span>")[0]


@pytest.fixture
def supervisors(app):
    with app.app_context():
        add_user("sami", Role.supervisor)
        add_user("salma", Role.supervisor, language="ar")
        add_user("aya_agent", Role.agent)


def test_the_page_shows_the_days_figures(app, the_day, supervisors):
    page = kpi_page(app, "period=custom&start=2025-03-10&end=10/03/2025")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert tile(html, "offered") == "7" and tile(html, "containment") == "29%"
    assert tile(html, "queued") == "4" and tile(html, "answered") == "3" and tile(html, "abandoned") == "1"
    assert tile(html, "service-level") == "50%" and tile(html, "asa") == "0:32" and tile(html, "aht") == "2:08"
    assert tile(html, "callbacks") == "2" and tile(html, "survey") == "4.0"
    assert tile(html, "hold") == "0:20" and tile(html, "transfers") == "2" and tile(html, "consults") == "2"
    hold_note = html.split('id="tile-hold"')[1].split('class="tile-note">')[1].split("</span>")[0]
    assert hold_note == "1:00 في الانتظار إجمالاً"  # the page is in the supervisor's Arabic
    assert "لكل مكالمة مُجابة" in html.split('id="tile-transfers"')[1].split("</div>")[0]
    agents = html.split('id="kpi-agents"')[1].split("</table>")[0]
    assert "الانتظار لكل مكالمة مُجابة" in agents
    assert html.count("<svg") == 2  # calls per hour and service level per hour for one day
    assert 'id="kpi-days"' not in html and "Aya" in html and "Bashir" in html
    assert "23:00–00:00" in html  # the call that crossed midnight, in the hour it began


def test_several_days_add_the_daily_chart_and_table(app, the_day, supervisors):
    html = kpi_page(app, "period=custom&start=2025-03-09&end=2025-03-11").get_data(as_text=True)
    assert html.count("<svg") == 3 and 'id="kpi-days"' in html
    assert tile(html, "offered") == "9"


@pytest.mark.parametrize("preset", ["today", "yesterday", "week", "month", "", "nonsense"])
def test_every_preset_period_opens(app, supervisors, preset):
    page = kpi_page(app, f"period={preset}")
    assert page.status_code == 200
    assert tile(page.get_data(as_text=True), "offered") == "0"


@pytest.mark.parametrize(
    "query, message",
    [
        ("period=custom&start=&end=2025-03-10", "Write the day as DD/MM/YYYY"),
        ("period=custom&start=2025-02-30&end=2025-03-10", "Write the day as DD/MM/YYYY"),
        ("period=custom&start=2025-03-10&end=2025-03-01", "The last day comes before the first day."),
        ("period=custom&start=2020-01-01&end=2025-03-10", "Choose at most 366 days."),
    ],
)
def test_a_bad_custom_period_is_explained(app, supervisors, query, message):
    page = kpi_page(app, query)
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and message in html and 'id="kpi-tiles"' not in html


def test_the_arabic_page_reads_right_to_left(app, the_day, supervisors):
    html = kpi_page(app, "period=custom&start=2025-03-10&end=2025-03-10", "salma").get_data(as_text=True)
    assert 'dir="rtl"' in html and "<svg" in html


def test_agents_may_not_see_the_kpis(app, supervisors):
    assert kpi_page(app, "period=today", "aya_agent").status_code == 403
