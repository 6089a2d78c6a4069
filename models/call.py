"""Calls to 5599, every IVR step of each, and the callbacks callers asked for."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import Model
from models.transaction import Transaction, enum_column
from models.types import UTCDateTime, utcnow
from models.user import User  # noqa: F401  (the agent relationship)


class Outcome(str, enum.Enum):
    self_served = "self_served"
    agent_answered = "agent_answered"
    abandoned_in_queue = "abandoned_in_queue"
    callback_requested = "callback_requested"
    after_hours = "after_hours"
    failed_input = "failed_input"
    throttled = "throttled"
    hung_up_in_ivr = "hung_up_in_ivr"
    error = "error"


class Call(Model):
    __tablename__ = "call"
    __table_args__ = (
        Index("ix_call_started_at", "started_at"),
        Index("ix_call_caller_started_at", "caller", "started_at"),
        Index("ix_call_outcome_started_at", "outcome", "started_at"),
        Index("ix_call_waiting", "queue_left_at", "queued_at"),
        # The supervisors' call log filters, each with the date range it is read with.
        Index("ix_call_agent_started_at", "agent_id", "started_at"),
        Index("ix_call_language_started_at", "language", "started_at"),
        Index("ix_call_asked_number_started_at", "asked_number", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str | None] = mapped_column(String(20))  # E.164; None when withheld
    called: Mapped[str] = mapped_column(String(32), default="")
    language: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    twilio_status: Mapped[str | None] = mapped_column(String(20))
    duration_s: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome, "outcome"))

    # What the caller asked for, so that an agent's console shows it at once.
    asked_number: Mapped[str | None] = mapped_column(String(12))
    asked_date: Mapped[date | None] = mapped_column(Date)
    found: Mapped[bool | None] = mapped_column(Boolean)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transaction.id"), index=True)

    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queue_left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queue_result: Mapped[str | None] = mapped_column(String(20))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # an agent clicked "take"
    agent_ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wrapped_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disposition: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    survey_score: Mapped[int | None] = mapped_column(Integer)

    # Call control: caller and agent meet in a Twilio conference named for the call
    # (domain/calls/conference.py); what the app needs to drive it lives here, not in a process.
    conference_sid: Mapped[str | None] = mapped_column(String(64))
    agent_leg_sid: Mapped[str | None] = mapped_column(String(64))  # the agent's participant call
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the caller is on hold since
    hold_s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # past holds, summed
    agent_muted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    transfers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    transfer_note: Mapped[str | None] = mapped_column(Text)  # from the agent who sent the call to the queue
    consults: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A callback an agent placed: the citizen's answered call is a call of its own, with the
    # agent in its conference (domain/calls/callbacks.py). Not an incoming call for the KPIs.
    # The request already points at the call it came from, so this key is created after both
    # tables (use_alter) and emptied when the request is purged.
    callback_id: Mapped[int | None] = mapped_column(
        ForeignKey("callback_request.id", ondelete="SET NULL", use_alter=True), index=True
    )

    transaction: Mapped[Transaction | None] = relationship()
    agent: Mapped["User | None"] = relationship()
    callback: Mapped["CallbackRequest | None"] = relationship(foreign_keys=[callback_id])
    events: Mapped[list["CallEvent"]] = relationship(
        back_populates="call", order_by="CallEvent.id", cascade="all, delete-orphan"
    )
    legs: Mapped[list["CallLeg"]] = relationship(
        back_populates="call", order_by="CallLeg.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Call {self.sid}>"


class CallEvent(Model):
    """One step of a call. `dedupe_key` makes a replayed webhook write nothing twice."""

    __tablename__ = "call_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    step: Mapped[str] = mapped_column(String(40))
    digits: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(String(40), default="")
    spoken: Mapped[list | None] = mapped_column(JSON)  # prompt keys the caller heard
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    call: Mapped[Call] = relationship(back_populates="events")


class LegRole(str, enum.Enum):
    consult = "consult"  # a colleague, or an outside number (no user), the agent calls while the caller holds
    transfer = "transfer"  # an outside number the call was cold-transferred to
    supervisor = "supervisor"  # a supervisor listening in (detail: monitor, whisper or barge)


class CallLeg(Model):
    """A participant the app added to a call's conference besides the caller and its agent."""

    __tablename__ = "call_leg"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[LegRole] = mapped_column(enum_column(LegRole, "leg_role"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_status: Mapped[str | None] = mapped_column(String(20))  # Twilio's CallStatus at the end
    detail: Mapped[str | None] = mapped_column(String(64))  # an outside number's label; a supervisor's mode

    call: Mapped[Call] = relationship(back_populates="legs")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class CallLetter(Model):
    """A letter an agent found by search and attached to a call (besides the one the IVR read):
    shown on the call screen, and its status may be sent to the caller by SMS."""

    __tablename__ = "call_letter"
    __table_args__ = (UniqueConstraint("call_id", "transaction_id", name="uq_call_letter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transaction.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    transaction: Mapped[Transaction] = relationship()


class CallbackStatus(str, enum.Enum):
    pending = "pending"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


class CallbackRequest(Model):
    __tablename__ = "callback_request"
    __table_args__ = (
        Index("ix_callback_request_status_created", "status", "created_at"),
        Index("ix_callback_request_created_at", "created_at"),  # callbacks per period (KPIs)
        # One open request per number, enforced by the database: two calls from one number
        # at the same moment (or two agents' clicks) cannot both add one.
        Index(
            "uq_callback_request_open_phone",
            "phone",
            unique=True,
            sqlite_where=text("status IN ('pending', 'in_progress')"),
            postgresql_where=text("status IN ('pending', 'in_progress')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id"), unique=True)
    phone: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8), default="ar")
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transaction.id"))
    source: Mapped[str] = mapped_column(String(16), default="ivr")
    status: Mapped[CallbackStatus] = mapped_column(
        enum_column(CallbackStatus, "callback_status"), default=CallbackStatus.pending
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    placed_call_sid: Mapped[str | None] = mapped_column(String(64))
    # Set by the guarded UPDATE that claims a placement before Twilio is asked; cleared when
    # Twilio refuses or the placed call ends (its status callback), so one click rings once.
    placing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    placed_status: Mapped[str | None] = mapped_column(String(20))  # Twilio's CallStatus of the placed call
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    call: Mapped[Call | None] = relationship(foreign_keys=[call_id])
    transaction: Mapped[Transaction | None] = relationship()
    agent: Mapped[User | None] = relationship(foreign_keys=[agent_id])
