"""The SMS outbox (every message a row before it is sent) and subscriptions to a letter's changes.

The columns only: the rules of a row's life are in domain/sms.py.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import Model
from models.transaction import Transaction, enum_column
from models.types import UTCDateTime, utcnow


class SmsStatus(str, enum.Enum):
    pending = "pending"  # a row, not yet handed to a queue (or Redis was down)
    queued = "queued"  # a job for it is on the `sms` queue
    sending = "sending"  # a worker claimed it and is talking to Twilio
    sent = "sent"  # Twilio accepted it (we hold its sid)
    delivered = "delivered"  # Twilio's status callback: the handset has it
    undelivered = "undelivered"
    failed = "failed"
    suppressed = "suppressed"  # never sent on purpose: the SMS safety rule (demo data, development)


class SmsKind(str, enum.Enum):
    status = "status"  # the caller pressed 2 after hearing a status
    notification = "notification"  # a subscribed letter changed
    agent = "agent"  # an agent sent the status from the console
    complaint = "complaint"  # a notice about a complaint: its code, status and entity only
    code = "code"  # a one-time code (verifying a mobile, following a complaint)


class SmsMessage(Model):
    __tablename__ = "sms_message"
    __table_args__ = (
        Index("ix_sms_message_status_created", "status", "created_at"),
        # The daily cap per number counts a number's rows of the last 24 hours.
        Index("ix_sms_message_to_phone_created", "to_phone", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The same request (a replayed webhook, a double click) makes one row, never two.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    to_phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    kind: Mapped[SmsKind] = mapped_column(enum_column(SmsKind, "sms_kind"))
    status: Mapped[SmsStatus] = mapped_column(enum_column(SmsStatus, "sms_status"), default=SmsStatus.pending)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transaction.id", ondelete="SET NULL"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id", ondelete="SET NULL"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when "sending" began
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # last status change

    transaction: Mapped[Transaction | None] = relationship()

    def __repr__(self) -> str:
        return f"<SmsMessage {self.id} {self.status.value}>"


class Subscription(Model):
    """A phone number that asked (key 3 in the IVR) to be told when a letter changes."""

    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("phone", "transaction_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transaction.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    transaction: Mapped[Transaction] = relationship()
