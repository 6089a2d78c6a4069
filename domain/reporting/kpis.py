"""The call centre's KPIs for a period of local days, overall and per hour, day, agent and language.

Everything is computed by the database: one grouped query per breakdown. Each query
reads the calls that started in the period and the callback requests made in it as one
UNION ALL of per-row flags and durations, then sums and averages them per group, so a
month of calls never travels to Python. The definitions (also in the README):

- offered: calls that came in in the period (whatever became of them); the conversation of a
  callback an agent placed is a call too (Call.callback_id), counted as answered with its handle,
  hold and transfers, never as offered;
- IVR containment: self-served calls / offered;
- queued: calls that entered the agents' queue; answered: calls an agent answered;
- abandoned: calls whose outcome is abandoned_in_queue; abandonment rate: abandoned / queued;
- average speed of answer: mean of answered_at - queued_at over answered calls;
- average handle time: mean of (wrapped_up_at, else agent_ended_at) - answered_at, hold
  included (a caller on hold is still the agent's call: the clock runs through it);
- hold time: the seconds answered calls spent on hold (Call.hold_s), in all and per answered
  call; transfers and consultations: Call.transfers and Call.consults summed, and per answered
  call. A call transferred to a colleague counts for the agent who had it last;
- service level: calls answered within SERVICE_LEVEL_SECONDS of queueing / queued;
- callback requests: CallbackRequest rows created in the period;
- survey average: mean survey_score of the calls that have one.

A call belongs to the local hour and day in which it started, even when it ends after
midnight. A rate whose denominator is zero is None, never a division by zero.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Float, Integer, and_, case, cast, func, literal_column, null, select, union_all

from domain.db import replica
from domain.db.sql_time import local_clock, local_day, local_hour, seconds_between
from domain.languages import LANGUAGES
from extensions import db
from models import Call, CallbackRequest, Outcome, User

# The longest custom period: a year of days keeps every table and chart readable.
MAX_PERIOD_DAYS = 366


class Breakdown(str, enum.Enum):
    hour = "hour"  # the local hour of the day (0 to 23) over the whole period
    day = "day"  # each local date of the period
    agent = "agent"  # the agent of the call; for callbacks, the agent who asked for one
    language = "language"  # the caller's language; None: hung up before choosing


@dataclass(frozen=True)
class Period:
    """Local calendar days from `start` to `end`, both included."""

    start: date
    end: date

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError("a period ends on or after the day it starts")

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def utc_bounds(self, tz_name: str) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of the first day to local midnight after the last."""
        zone = ZoneInfo(tz_name)
        begin = datetime.combine(self.start, time(0), zone)
        finish = datetime.combine(self.end + timedelta(days=1), time(0), zone)
        return begin.astimezone(timezone.utc), finish.astimezone(timezone.utc)


def within_local_days(column, start: date | None, end: date | None, tz_name: str) -> list:
    """The conditions that keep a UTC timestamp `column` within the local days from `start`
    to `end`, both included; either end may be open (None), and then it sets no bound."""
    if start is None and end is None:
        return []
    first = start or end
    assert first is not None
    begin, finish = Period(first, end or first).utc_bounds(tz_name)
    found = []
    if start is not None:
        found.append(column >= begin)
    if end is not None:
        found.append(column < finish)
    return found


@dataclass
class Kpis:
    offered: int = 0
    self_served: int = 0
    queued: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_in_time: int = 0  # answered within the service-level threshold of queueing
    asa_s: float | None = None  # average speed of answer, seconds
    aht_s: float | None = None  # average handle time, seconds
    callbacks: int = 0
    survey_avg: float | None = None
    survey_count: int = 0
    hold_s: int = 0  # seconds answered calls spent on hold, in all
    transfers: int = 0
    consults: int = 0

    @property
    def containment(self) -> float | None:
        return ratio(self.self_served, self.offered)

    @property
    def abandonment_rate(self) -> float | None:
        return ratio(self.abandoned, self.queued)

    @property
    def service_level(self) -> float | None:
        return ratio(self.answered_in_time, self.queued)

    @property
    def hold_per_call_s(self) -> float | None:
        return ratio(self.hold_s, self.answered)

    @property
    def transfers_per_call(self) -> float | None:
        return ratio(self.transfers, self.answered)

    @property
    def consults_per_call(self) -> float | None:
        return ratio(self.consults, self.answered)


@dataclass(frozen=True)
class AgentRef:
    id: int | None  # None: calls and callbacks that no agent handled
    name: str


@dataclass
class KpiReport:
    period: Period
    overall: Kpis
    by_hour: list[tuple[int, Kpis]] = field(default_factory=list)
    by_day: list[tuple[date, Kpis]] = field(default_factory=list)
    by_agent: list[tuple[AgentRef, Kpis]] = field(default_factory=list)
    by_language: list[tuple[str | None, Kpis]] = field(default_factory=list)


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- periods ------------------------------------------------------------------------


def preset_period(name: str, today: date, first_week_day: int = 5) -> Period:
    """today, yesterday, week (from its first day to today) or month (from the 1st to today).

    `first_week_day` counts from Monday = 0; Iraq's week starts on Saturday (5) as CLDR has it.
    """
    if name == "today":
        return Period(today, today)
    if name == "yesterday":
        return Period(today - timedelta(days=1), today - timedelta(days=1))
    if name == "week":
        return Period(today - timedelta(days=(today.weekday() - first_week_day) % 7), today)
    if name == "month":
        return Period(today.replace(day=1), today)
    raise ValueError(f"unknown period {name!r}")


# --- the queries ----------------------------------------------------------------------


def flag(condition):
    return case((condition, 1), else_=0)


def one() -> ColumnElement[int]:
    return literal_column("1", Integer)


def zero() -> ColumnElement[int]:
    return literal_column("0", Integer)


def no_seconds():
    return cast(null(), Float)


def call_rows(key, begin: datetime, end: datetime, service_level_s: int):
    """One row per call started in [begin, end): its group key, flags and durations."""
    queued = Call.queued_at.is_not(None)
    answered = Call.answered_at.is_not(None)
    wait = seconds_between(Call.answered_at, Call.queued_at)
    handle_end = func.coalesce(Call.wrapped_up_at, Call.agent_ended_at)
    return select(
        key.label("key"),
        flag(Call.callback_id.is_(None)).label("offered"),  # a callback an agent placed did not come in
        flag(Call.outcome == Outcome.self_served).label("self_served"),
        flag(queued).label("queued"),
        flag(answered).label("answered"),
        flag(Call.outcome == Outcome.abandoned_in_queue).label("abandoned"),
        flag(and_(answered, queued, wait <= service_level_s)).label("in_time"),
        case((and_(answered, queued), wait)).label("wait_s"),
        case((and_(answered, handle_end.is_not(None)), seconds_between(handle_end, Call.answered_at))).label(
            "handle_s"
        ),
        cast(Call.survey_score, Float).label("score"),
        zero().label("callbacks"),
        case((answered, func.coalesce(Call.hold_s, 0)), else_=0).label("hold_s"),
        func.coalesce(Call.transfers, 0).label("transfers"),
        func.coalesce(Call.consults, 0).label("consults"),
    ).where(Call.started_at >= begin, Call.started_at < end)


def callback_rows(key, begin: datetime, end: datetime):
    """One row per callback request made in [begin, end), shaped like call_rows."""
    return select(
        key.label("key"),
        zero(),
        zero(),
        zero(),
        zero(),
        zero(),
        zero(),
        no_seconds(),
        no_seconds(),
        no_seconds(),
        one(),
        zero(),
        zero(),
        zero(),
    ).where(CallbackRequest.created_at >= begin, CallbackRequest.created_at < end)


def group_keys(by: Breakdown | None, tz_name: str, at: datetime):
    """The group key on calls and on callback requests for a breakdown (a constant overall)."""
    if by is None:
        return zero(), zero()
    if by is Breakdown.hour:
        return (
            local_clock(local_hour, Call.started_at, tz_name, at),
            local_clock(local_hour, CallbackRequest.created_at, tz_name, at),
        )
    if by is Breakdown.day:
        return (
            local_clock(local_day, Call.started_at, tz_name, at),
            local_clock(local_day, CallbackRequest.created_at, tz_name, at),
        )
    if by is Breakdown.agent:
        return Call.agent_id, CallbackRequest.requested_by_id
    return Call.language, CallbackRequest.language


def grouped(period: Period, by: Breakdown | None, *, tz_name: str, service_level_s: int) -> dict:
    """{group key: Kpis} for one breakdown, from one query."""
    begin, end = period.utc_bounds(tz_name)
    call_key, callback_key = group_keys(by, tz_name, begin)
    rows = union_all(
        call_rows(call_key, begin, end, service_level_s), callback_rows(callback_key, begin, end)
    ).subquery("kpi_rows")
    c = rows.c
    query = select(
        c.key,
        func.sum(c.offered),
        func.sum(c.self_served),
        func.sum(c.queued),
        func.sum(c.answered),
        func.sum(c.abandoned),
        func.sum(c.in_time),
        func.avg(c.wait_s),
        func.avg(c.handle_s),
        func.sum(c.callbacks),
        func.avg(c.score),
        func.count(c.score),
        func.sum(c.hold_s),
        func.sum(c.transfers),
        func.sum(c.consults),
    ).group_by(c.key)
    return {row[0]: kpis_of(row[1:]) for row in replica.read(query)}


def kpis_of(values) -> Kpis:
    (offered, self_served, queued, answered, abandoned, in_time, asa, aht, callbacks, survey_avg, survey_count) = (
        values[:11]
    )
    hold_s, transfers, consults = values[11:]
    return Kpis(
        offered=whole(offered),
        self_served=whole(self_served),
        queued=whole(queued),
        answered=whole(answered),
        abandoned=whole(abandoned),
        answered_in_time=whole(in_time),
        asa_s=decimal_free(asa),
        aht_s=decimal_free(aht),
        callbacks=whole(callbacks),
        survey_avg=decimal_free(survey_avg),
        survey_count=whole(survey_count),
        hold_s=whole(hold_s),
        transfers=whole(transfers),
        consults=whole(consults),
    )


def whole(value) -> int:
    return int(value or 0)


def decimal_free(value) -> float | None:
    """PostgreSQL averages are Decimals: the pages and the tests want plain floats."""
    return None if value is None else float(value)


# --- the report -----------------------------------------------------------------------


def overall(period: Period, *, tz_name: str, service_level_s: int) -> Kpis:
    found = grouped(period, None, tz_name=tz_name, service_level_s=service_level_s)
    return next(iter(found.values()), Kpis())


def by_hour(period: Period, **settings) -> list[tuple[int, Kpis]]:
    found = {int(k): v for k, v in grouped(period, Breakdown.hour, **settings).items() if k is not None}
    return [(hour, found.get(hour, Kpis())) for hour in range(24)]


def by_day(period: Period, **settings) -> list[tuple[date, Kpis]]:
    found = {as_date(k): v for k, v in grouped(period, Breakdown.day, **settings).items() if k is not None}
    return [(day, found.get(day, Kpis())) for day in period.days]


def as_date(value) -> date:
    """SQLite hands the local day back as text, PostgreSQL as a date."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def by_agent(period: Period, **settings) -> list[tuple[AgentRef, Kpis]]:
    """Agents by name, then what no agent handled (calls that never reached one, IVR callbacks)."""
    found = grouped(period, Breakdown.agent, **settings)
    names = agent_names([key for key in found if key is not None])
    rows = sorted(
        ((AgentRef(key, names.get(key, f"#{key}")), kpis) for key, kpis in found.items() if key is not None),
        key=lambda pair: pair[0].name.casefold(),
    )
    if None in found:
        rows.append((AgentRef(None, ""), found[None]))
    return rows


def agent_names(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = select(User.id, User.display_name, User.username).where(User.id.in_(ids))
    return {row.id: row.display_name or row.username for row in db.session.execute(query)}


LANGUAGE_ORDER = LANGUAGES  # as the IVR offers them


def by_language(period: Period, **settings) -> list[tuple[str | None, Kpis]]:
    found = grouped(period, Breakdown.language, **settings)
    order = {code: n for n, code in enumerate(LANGUAGE_ORDER)}
    return sorted(found.items(), key=lambda pair: (pair[0] is None, order.get(pair[0], 99), pair[0] or ""))


def kpi_report(period: Period, *, tz_name: str, service_level_s: int) -> KpiReport:
    """Everything the KPI page shows: five grouped queries and one lookup of agents' names."""
    settings: dict[str, Any] = {"tz_name": tz_name, "service_level_s": service_level_s}
    return KpiReport(
        period=period,
        overall=overall(period, **settings),
        by_hour=by_hour(period, **settings),
        by_day=by_day(period, **settings),
        by_agent=by_agent(period, **settings),
        by_language=by_language(period, **settings),
    )
