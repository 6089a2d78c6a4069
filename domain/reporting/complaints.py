"""Complaints' weak points for supervisors: where complaints come from and how they are handled.

The cohort is the complaints filed in a period of local days (`Period`); every figure is
about that cohort, except the overdue list, which is the state now. Definitions (also in
the README):

- counts by entity, category, governorate and channel: complaints filed in the period;
- time to first response: first_response_at - created_at, in calendar hours (nights,
  weekends and holidays count), over the complaints that have one; median and mean;
- time to resolution: resolved_at (the last resolution or rejection) - created_at, the same;
- SLA compliance: resolved or rejected within the due time (`sla_met`) / those resolved
  or rejected;
- appeal rate: complaints appealed at least once / those resolved or rejected;
- overdue now: open complaints whose SLA clock runs and whose due time has passed, per
  entity, most first.

Counts are grouped by the database; the durations of the cohort (two numbers a complaint)
are read to compute medians the same way on SQLite and PostgreSQL.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Select, and_, func, select

from domain.clock import utcnow
from domain.complaints.workflow import CLOCK_RUNS
from domain.db import replica
from domain.db.sql_time import local_clock, local_day, seconds_between
from domain.reporting.kpis import Period, within_local_days
from models import Complaint, ComplaintCategory, ComplaintChannel, Entity

HOUR_S = 3600.0
TOP_OVERDUE = 10


@dataclass(frozen=True)
class Named:
    """An entity or a category as the report names it, in each language."""

    id: int
    code: str
    names: dict  # language -> name

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["ar"]


@dataclass(frozen=True)
class Durations:
    """Hours from filing to a milestone, over the complaints that reached it."""

    count: int = 0
    median_h: float | None = None
    mean_h: float | None = None

    @classmethod
    def of(cls, seconds: list[float]) -> "Durations":
        if not seconds:
            return cls()
        hours = [s / HOUR_S for s in seconds]
        return cls(len(hours), statistics.median(hours), statistics.fmean(hours))


@dataclass
class ComplaintReport:
    period: Period
    filed: int = 0
    finished: int = 0  # resolved or rejected (now or before)
    sla_met: int = 0
    sla_known: int = 0  # finished complaints with a known due time
    appealed: int = 0
    by_entity: list[tuple[Named, int]] = field(default_factory=list)
    by_category: list[tuple[Named, int]] = field(default_factory=list)
    by_governorate: list[tuple[str, int]] = field(default_factory=list)
    by_channel: list[tuple[ComplaintChannel, int]] = field(default_factory=list)
    by_day: list[tuple[date, int]] = field(default_factory=list)
    first_response: Durations = Durations()
    resolution: Durations = Durations()
    overdue: list[tuple[Named, int]] = field(default_factory=list)  # now, not in the period
    overdue_total: int = 0

    @property
    def sla_compliance(self) -> float | None:
        return ratio(self.sla_met, self.sla_known)

    @property
    def appeal_rate(self) -> float | None:
        return ratio(self.appealed, self.finished)


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def filed_in(period: Period, tz_name: str) -> list:
    return within_local_days(Complaint.created_at, period.start, period.end, tz_name)


def entity_ref(row) -> Named:
    return Named(row.id, row.code, {"ar": row.name_ar, "ckb": row.name_ckb, "en": row.name_en})


def _named_counts(model, key_column, conditions: list) -> list[tuple[Named, int]]:
    count = func.count(Complaint.id)
    query = (
        select(model.id, model.code, model.name_ar, model.name_ckb, model.name_en, count.label("n"))
        .join(Complaint, key_column == model.id)
        .where(*conditions)
        .group_by(model.id, model.code, model.name_ar, model.name_ckb, model.name_en)
        .order_by(count.desc(), model.code)
    )
    return [(entity_ref(row), row.n) for row in replica.read(query)]


def _counts(column, conditions: list) -> list[tuple]:
    count = func.count(Complaint.id)
    query = select(column, count).where(*conditions).group_by(column).order_by(count.desc(), column)
    return [(key, n) for key, n in replica.read(query)]


def overdue_by_entity(now: datetime, limit: int = TOP_OVERDUE) -> tuple[list[tuple[Named, int]], int]:
    """Open complaints past their due time now, per entity (most first), and in all."""
    overdue = [Complaint.status.in_(CLOCK_RUNS), Complaint.sla_due_at < now]
    total = replica.read(select(func.count(Complaint.id)).where(*overdue)).scalar() or 0
    return _named_counts(Entity, Complaint.entity_id, overdue)[:limit], total


def complaint_report(period: Period, *, tz_name: str, now: datetime | None = None) -> ComplaintReport:
    cohort = filed_in(period, tz_name)
    report = ComplaintReport(period=period)
    totals = replica.read(
        select(
            func.count(Complaint.id),
            func.count(Complaint.resolved_at),
            func.count(Complaint.sla_met),
            func.count(Complaint.id).filter(Complaint.sla_met.is_(True)),
            func.count(Complaint.id).filter(and_(Complaint.appeals > 0, Complaint.resolved_at.is_not(None))),
        ).where(*cohort)
    ).one()
    report.filed, report.finished, report.sla_known, report.sla_met, report.appealed = (int(n or 0) for n in totals)
    report.by_entity = _named_counts(Entity, Complaint.entity_id, cohort)
    report.by_category = _named_counts(ComplaintCategory, Complaint.category_id, cohort)
    report.by_governorate = _counts(Complaint.governorate, cohort)
    report.by_channel = _counts(Complaint.channel, cohort)
    report.by_day = filed_per_day(period, tz_name, cohort)
    report.first_response = Durations.of(
        _seconds(seconds_between(Complaint.first_response_at, Complaint.created_at), cohort)
    )
    report.resolution = Durations.of(_seconds(seconds_between(Complaint.resolved_at, Complaint.created_at), cohort))
    report.overdue, report.overdue_total = overdue_by_entity(now or utcnow())
    return report


def _seconds(expression, conditions: list) -> list[float]:
    rows = replica.read(select(expression).where(*conditions, expression.is_not(None)))
    return [max(0.0, float(value)) for (value,) in rows]


def filed_per_day(period: Period, tz_name: str, cohort: list) -> list[tuple[date, int]]:
    begin, _finish = period.utc_bounds(tz_name)
    day = local_clock(local_day, Complaint.created_at, tz_name, begin).label("day")
    rows = replica.read(select(day, func.count(Complaint.id)).where(*cohort).group_by(day))
    counted = {_as_date(value): n for value, n in rows}
    return [(d, counted.get(d, 0)) for d in period.days]


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# --- the CSV export: one row per complaint of the cohort, without personal data ------------------

CSV_COLUMNS = (
    "code",
    "filed_at",
    "kind",
    "category",
    "entity",
    "governorate",
    "channel",
    "status",
    "first_response_h",
    "resolution_h",
    "sla_met",
    "appeals",
    "escalated",
)


def export_rows(period: Period, *, tz_name: str) -> Select:
    """The cohort's complaints with what the report counts, oldest first: no name, contact,
    national id or text of any kind."""
    return (
        select(
            Complaint.code,
            Complaint.created_at,
            Complaint.kind,
            ComplaintCategory.code.label("category"),
            Entity.code.label("entity"),
            Complaint.governorate,
            Complaint.channel,
            Complaint.status,
            seconds_between(Complaint.first_response_at, Complaint.created_at).label("first_response_s"),
            seconds_between(Complaint.resolved_at, Complaint.created_at).label("resolution_s"),
            Complaint.sla_met,
            Complaint.appeals,
            Complaint.escalated_at,
        )
        .join(ComplaintCategory, Complaint.category_id == ComplaintCategory.id)
        .join(Entity, Complaint.entity_id == Entity.id)
        .where(*filed_in(period, tz_name))
        .order_by(Complaint.created_at, Complaint.id)
    )


def hours_text(seconds) -> str:
    return "" if seconds is None else f"{max(0.0, float(seconds)) / HOUR_S:.1f}"
