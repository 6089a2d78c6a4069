"""One lookup of a letter by (number, date), or of a complaint by its code, from the IVR or a
public page: the rows the guessing limits count (domain/letters/throttle.py)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import Model
from models.types import UTCDateTime, utcnow


class LookupKind(str, enum.Enum):
    letter = "letter"  # a letter, by (number, date)
    complaint = "complaint"  # a complaint, by its code (and the caller's mobile or a one-time code)


class LookupAttempt(Model):
    """One lookup; failed ones feed the anti-guessing limits.

    The limits per call and per caller count every kind together; the limit per number
    counts one kind (`number` is a letter's number or a complaint's code).
    """

    __tablename__ = "lookup_attempt"
    __table_args__ = (
        Index("ix_lookup_attempt_caller_key_at", "caller_key", "found", "created_at"),
        Index("ix_lookup_attempt_number_at", "number", "found", "created_at"),
        Index("ix_lookup_attempt_call_sid", "call_sid"),
        # The alarm counts every failure of the last minutes (domain/letters/alarm.py).
        Index("ix_lookup_attempt_found_at", "found", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16), default="ivr")
    call_sid: Mapped[str | None] = mapped_column(String(64))
    # The caller's E.164 number, or "anonymous" for every withheld number together.
    caller_key: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(16), default=LookupKind.letter.value, server_default="letter")
    found: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
