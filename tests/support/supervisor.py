"""Helpers for the supervisors' pages: calls written straight into the database at chosen times.

Times are given in Baghdad local time (UTC+3, no summer time), as a supervisor reads them,
and stored in UTC like the IVR stores them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import count
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from extensions import db
from models import Call, CallbackRequest, CallEvent, Outcome

BAGHDAD = ZoneInfo("Asia/Baghdad")
_sids = count(1)


def local(text: str) -> datetime:
    """'2025-03-10 09:15:00' in Baghdad as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=BAGHDAD).astimezone(timezone.utc)


def add_call(
    started: str,
    *,
    outcome: Outcome | None = Outcome.self_served,
    language: str | None = "ar",
    caller: str | None = "+9647501234567",
    queued_after: float | None = None,
    answered_after: float | None = None,
    talk: float | None = None,
    wrap: float | None = None,
    left_after: float | None = None,
    agent=None,
    survey: int | None = None,
    ended_after: float | None = 60,
    commit: bool = True,
    **fields,
) -> Call:
    """A call that started at local time `started`; the *_after values are seconds from the start
    (answered_after from queueing), `talk` and `wrap` seconds from the answer and the hang-up."""
    start = local(started)
    queued_at = start + timedelta(seconds=queued_after) if queued_after is not None else None
    answered_at = queued_at + timedelta(seconds=answered_after) if answered_after is not None else None
    agent_ended_at = answered_at + timedelta(seconds=talk) if talk is not None else None
    wrapped_up_at = agent_ended_at + timedelta(seconds=wrap) if wrap is not None else None
    if left_after is not None:
        queue_left_at = queued_at + timedelta(seconds=left_after)
    else:
        queue_left_at = answered_at
    call = Call(
        sid=f"CA{next(_sids):032d}",
        caller=caller,
        language=language,
        started_at=start,
        ended_at=start + timedelta(seconds=ended_after) if ended_after is not None else None,
        outcome=outcome,
        queued_at=queued_at,
        queue_left_at=queue_left_at,
        answered_at=answered_at,
        taken_at=answered_at,
        agent_id=getattr(agent, "id", agent),
        agent_ended_at=agent_ended_at,
        wrapped_up_at=wrapped_up_at,
        survey_score=survey,
        **fields,
    )
    db.session.add(call)
    if commit:
        db.session.commit()
    return call


def add_callback(created: str, *, language: str = "ar", requested_by=None, call=None) -> CallbackRequest:
    """A pending request, from a number of its own (one open request per number)."""
    waiting = db.session.scalar(select(func.count()).select_from(CallbackRequest)) or 0
    request = CallbackRequest(
        phone=f"+96475012{waiting:05d}",
        language=language,
        created_at=local(created),
        requested_by_id=getattr(requested_by, "id", requested_by),
        call_id=getattr(call, "id", None),
        source="agent" if requested_by is not None else "ivr",
    )
    db.session.add(request)
    db.session.commit()
    return request


def add_step(
    call: Call,
    step: str,
    *,
    digits: str | None = None,
    result: str = "",
    spoken: list[str] | None = None,
    after: float = 0,
) -> CallEvent:
    event = CallEvent(
        call_id=call.id,
        dedupe_key=f"{call.sid}-{step}-{after}",
        step=step,
        digits=digits,
        result=result,
        spoken=spoken,
        created_at=call.started_at + timedelta(seconds=after),
    )
    db.session.add(event)
    db.session.commit()
    return event
