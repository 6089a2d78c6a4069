"""Recordings of the agent's part of conference calls, kept at Twilio; the app keeps what
Twilio's signed recording status callback said, and when the recording was deleted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import Model
from models.call import Call
from models.types import UTCDateTime, utcnow


class CallRecording(Model):
    __tablename__ = "call_recording"
    __table_args__ = (Index("ix_call_recording_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20))  # Twilio's RecordingStatus: in-progress, completed, absent, ...
    duration_s: Mapped[int | None] = mapped_column(Integer)
    channels: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    call: Mapped[Call] = relationship()
