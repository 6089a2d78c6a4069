"""Due times in working hours: the offices' hours and days in Baghdad time, less closed dates.

A complaint's SLA is a number of working hours (its category's). The clock runs while the
entity has the complaint and stops while the citizen is asked for information: at the pause
the working minutes left are kept, and the due time is worked out again when the citizen
answers. Red: past due; amber: less than a fifth of the working time left; else green.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from config import Hours

MAX_DAYS = 3660  # never search for a working minute further than ten years ahead


@dataclass(frozen=True)
class WorkingTime:
    hours: Hours  # the same window every working day, not spanning midnight
    days: frozenset[int]  # date.weekday() numbers
    closed: frozenset[str]  # ISO dates
    tz_name: str

    @classmethod
    def from_config(cls, config) -> "WorkingTime":
        return cls(
            hours=config["OFFICE_HOURS"],
            days=config["OFFICE_DAYS"],
            closed=config["AGENT_CLOSED_DATES"] | config["OFFICE_CLOSED_DATES"],
            tz_name=config["TIMEZONE"],
        )

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's working window in UTC, or None on a day off."""
        if day.weekday() not in self.days or day.isoformat() in self.closed:
            return None
        zone = ZoneInfo(self.tz_name)
        start = datetime.combine(day, self.hours.start, zone)
        end = datetime.combine(day, datetime.min.time(), zone) + timedelta(minutes=self.hours.end_minutes)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)

    def add(self, start: datetime, minutes: int) -> datetime:
        """The moment `minutes` working minutes after `start`."""
        left = timedelta(minutes=max(0, minutes))
        day = start.astimezone(ZoneInfo(self.tz_name)).date()
        for _ in range(MAX_DAYS):
            window = self.window(day)
            if window is not None:
                begin, end = max(window[0], start), window[1]
                if begin < end:
                    if begin + left <= end:
                        return begin + left
                    left -= end - begin
            day += timedelta(days=1)
        raise ValueError("no working time within ten years: check OFFICE_DAYS and the closed dates")

    def minutes_between(self, start: datetime, end: datetime) -> int:
        """Working minutes from `start` to `end` (0 when `end` is not later)."""
        if end <= start:
            return 0
        total = timedelta()
        zone = ZoneInfo(self.tz_name)
        day = start.astimezone(zone).date()
        last = end.astimezone(zone).date()
        while day <= last:
            window = self.window(day)
            if window is not None:
                begin, finish = max(window[0], start), min(window[1], end)
                if begin < finish:
                    total += finish - begin
            day += timedelta(days=1)
        return int(total.total_seconds() // 60)


# --- a complaint's SLA ------------------------------------------------------------------

AMBER_SHARE = 0.2


def due_at(start: datetime, sla_hours: int, working: WorkingTime) -> datetime:
    return working.add(start, sla_hours * 60)


def colour(due: datetime | None, sla_hours: int, now: datetime, working: WorkingTime) -> str:
    """red (overdue), amber (close) or green; "none" when no clock runs (paused or finished)."""
    if due is None:
        return "none"
    if now >= due:
        return "red"
    if working.minutes_between(now, due) < sla_hours * 60 * AMBER_SHARE:
        return "amber"
    return "green"
