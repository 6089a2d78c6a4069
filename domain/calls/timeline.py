"""One call's timeline for supervisors: every IVR step and every milestone, in time order.

The entries come from sources, each a function of the call: the IVR's steps
(CallEvent rows) and the milestones kept on the Call row (queue entry and exit, the
agent's take, answer, hang-up and wrap-up, the end of the call). A new kind of entry
(for instance the SMS sent during the call) is one more function in SOURCES.
Entries hold codes, not words: the console names them in the supervisor's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from extensions import db
from models import Call, SmsMessage, Subscription, User

# IVR steps whose keys must never be shown (a PIN, an ID number...). None are secret today;
# a step added later that reads something private is listed here and nowhere else.
SECRET_STEPS: frozenset[str] = frozenset()
MASK = "•"


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # "step" for an IVR step, else the milestone: queued, queue_left, taken, ...
    step: str | None = None
    digits: str | None = None  # already masked when the step is secret
    result: str = ""
    prompts: tuple[str, ...] = ()  # the prompt keys the caller heard at this step
    detail: dict = field(default_factory=dict)


def shown_digits(step: str, digits: str | None) -> str | None:
    if digits is None or step not in SECRET_STEPS:
        return digits
    return MASK * len(digits)


def ivr_steps(call: Call) -> list[Entry]:
    return [
        Entry(
            at=event.created_at,
            kind="step",
            step=event.step,
            digits=shown_digits(event.step, event.digits),
            result=event.result or "",
            prompts=tuple(event.spoken or ()),
        )
        for event in call.events
    ]


def milestones(call: Call) -> list[Entry]:
    """What the Call row itself records, one entry per moment that happened, listed in the
    order they happen so that moments recorded at the same instant keep that order."""
    agent = call.agent.display_name or call.agent.username if call.agent is not None else None
    moments: list[tuple[datetime | None, dict]] = [
        (call.queued_at, dict(kind="queued")),
        (call.taken_at, dict(kind="taken", detail={"agent": agent})),
        (call.queue_left_at, dict(kind="queue_left", result=call.queue_result or "")),
        (call.answered_at, dict(kind="answered", detail={"agent": agent})),
        (call.agent_ended_at, dict(kind="agent_ended")),
        (call.wrapped_up_at, dict(kind="wrapped_up", detail={"disposition": call.disposition})),
        (call.ended_at, dict(kind="ended", result=call.twilio_status or "", detail={"duration_s": call.duration_s})),
    ]
    return [Entry(at, **fields) for at, fields in moments if at is not None]


def sms_messages(call: Call) -> list[Entry]:
    """The SMS sent about this call: when it was queued, its kind, its delivery status (and the
    outbox's error: why it was not sent, or Twilio's error code)."""
    rows = db.session.execute(
        select(
            SmsMessage.created_at,
            SmsMessage.kind,
            SmsMessage.status,
            SmsMessage.to_phone,
            SmsMessage.error,
            User.display_name,
            User.username,
        )
        .outerjoin(User, User.id == SmsMessage.user_id)
        .where(SmsMessage.call_id == call.id)
        .order_by(SmsMessage.id)
    )
    return [
        Entry(
            row.created_at,
            "sms",
            result=row.status.value,
            detail={
                "sms_kind": row.kind.value,
                "to": row.to_phone,
                "agent": row.display_name or row.username,
                "error": row.error,
            },
        )
        for row in rows
    ]


def subscriptions(call: Call) -> list[Entry]:
    """The caller asked to be told by SMS when a letter changes."""
    rows = db.session.execute(
        select(Subscription.created_at, Subscription.phone)
        .where(Subscription.call_id == call.id)
        .order_by(Subscription.id)
    )
    return [Entry(row.created_at, "subscribed", detail={"to": row.phone}) for row in rows]


# Each source gives the entries of one kind of record; a new kind is one more function here.
SOURCES = (ivr_steps, milestones, sms_messages, subscriptions)


# Moments both an IVR step and the Call row record: listed once. A step whose milestone says
# more (the agent's name, the duration) gives way; a milestone whose step says more (what the
# caller heard) gives way.
STEP_GIVES_WAY = {"status": "ended"}  # the step's result is the milestone's too
MILESTONE_GIVES_WAY = {"queue_left": "queue_left", "agent_ended": "agent_done"}


def once_each(entries: list[Entry]) -> list[Entry]:
    steps = {entry.step for entry in entries if entry.kind == "step"}
    milestones = {entry.kind for entry in entries if entry.kind != "step"}
    kept = []
    for entry in entries:
        if entry.kind == "step" and STEP_GIVES_WAY.get(entry.step or "") in milestones:
            continue
        if entry.kind == "step" and entry.step == "agent_take" and entry.result.startswith("connected"):
            if "taken" in milestones:
                continue  # the "taken" milestone names the agent
        if entry.kind in MILESTONE_GIVES_WAY and MILESTONE_GIVES_WAY[entry.kind] in steps:
            continue
        kept.append(entry)
    return kept


def call_timeline(call: Call) -> list[Entry]:
    """Every entry of every source, each moment once, oldest first; a step before a milestone
    of the same instant."""
    entries = once_each([entry for source in SOURCES for entry in source(call)])
    return sorted(entries, key=lambda entry: (entry.at, entry.kind != "step"))
