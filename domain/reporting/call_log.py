"""The supervisors' call log: filtered calls, newest first, one keyset page or every row.

The same query feeds the call log page and its CSV export. It selects the columns the
log shows, with the agent's name and the letter's number joined in, so a page of fifty
calls is one query whatever the table holds. Pages are keyset pages on (started_at, id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterator

from sqlalchemy import Select, select

from domain.db import replica
from domain.db.keyset import Cursor, Direction, Page, keyset_page
from domain.reporting.kpis import within_local_days
from models import Call, Outcome, Transaction, User

NO_LANGUAGE = "none"  # the filter value for callers who hung up before choosing a language


@dataclass(frozen=True)
class CallFilters:
    """Checked filter values; None means "any"."""

    start: date | None = None  # first local day
    end: date | None = None  # last local day, included
    outcome: Outcome | None = None
    agent_id: int | None = None
    language: str | None = None  # ar, ckb, en or NO_LANGUAGE
    caller: str | None = None  # E.164
    number: str | None = None  # the letter number the caller keyed in

    def audit_detail(self) -> dict:
        """The filters as an audit entry keeps them: the values asked for, nothing found."""
        values = {
            "start": self.start,
            "end": self.end,
            "outcome": self.outcome and self.outcome.value,
            "agent_id": self.agent_id,
            "language": self.language,
            "caller": self.caller,
            "number": self.number,
        }
        return {name: str(value) for name, value in values.items() if value is not None}

    @property
    def any(self) -> bool:
        return bool(self.audit_detail())


def columns():
    """What one line of the log needs; the names match Call's, so the domain's duration
    helpers (queue_seconds, handle_seconds) read a row as they read a Call."""
    return (
        Call.id,
        Call.sid,
        Call.started_at,
        Call.ended_at,
        Call.caller,
        Call.language,
        Call.outcome,
        Call.asked_number,
        Call.asked_date,
        Call.found,
        Call.transaction_id,
        Transaction.number.label("transaction_number"),
        Transaction.date.label("transaction_date"),
        Call.queued_at,
        Call.queue_left_at,
        Call.taken_at,
        Call.answered_at,
        Call.agent_ended_at,
        Call.wrapped_up_at,
        Call.agent_id,
        User.display_name.label("agent_name"),
        User.username.label("agent_username"),
        Call.disposition,
        Call.survey_score,
        Call.duration_s,
        Call.hold_s,  # call control: past holds summed (a hold going on is added at its end)
        Call.transfers,
        Call.consults,
        Call.callback_id,  # a callback an agent placed, not a call that came in
    )


def filtered(filters: CallFilters, tz_name: str) -> Select:
    query = (
        select(*columns())
        .outerjoin(User, User.id == Call.agent_id)
        .outerjoin(Transaction, Transaction.id == Call.transaction_id)
    )
    return query.where(*conditions(filters, tz_name))


def conditions(filters: CallFilters, tz_name: str) -> list:
    found = within_local_days(Call.started_at, filters.start, filters.end, tz_name)
    if filters.outcome is not None:
        found.append(Call.outcome == filters.outcome)
    if filters.agent_id is not None:
        found.append(Call.agent_id == filters.agent_id)
    if filters.language == NO_LANGUAGE:
        found.append(Call.language.is_(None))
    elif filters.language is not None:
        found.append(Call.language == filters.language)
    if filters.caller is not None:
        found.append(Call.caller == filters.caller)
    if filters.number is not None:
        found.append(Call.asked_number == filters.number)
    return found


def call_log_page(
    filters: CallFilters,
    *,
    tz_name: str,
    size: int = 50,
    cursor: Cursor | None = None,
    direction: Direction = Direction.older,
) -> Page:
    """One page: the `size` calls after `cursor` in `direction` (the newest without one)."""
    return keyset_page(
        filtered(filters, tz_name),
        Call.started_at,
        Call.id,
        size=size,
        cursor=cursor,
        direction=direction,
        read=replica.read,
    )


def call_log_rows(filters: CallFilters, *, tz_name: str, batch: int = 1000) -> Iterator:
    """Every matching call, newest first, fetched `batch` rows at a time (a server-side
    cursor on PostgreSQL), so an export of a million calls holds one batch in memory."""
    query = filtered(filters, tz_name).order_by(Call.started_at.desc(), Call.id.desc())
    result = replica.read(query.execution_options(yield_per=batch))
    yield from result
