"""What the development Twilio stand-in was asked, and the calls it placed.

Only the stand-in in `simulator/twilio_api.py` (development and testing) writes these
rows; in production the tables stay empty. They live in the database rather than in a
process so that every worker of `flask run` or gunicorn sees the same Twilio.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import Model
from models.types import UTCDateTime, utcnow


class DevTwilioRequest(Model):
    """One REST request the stand-in answered, as the app's twilio client sent it."""

    __tablename__ = "dev_twilio_request"
    __table_args__ = (Index("ix_dev_twilio_request_call_sid_id", "call_sid", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(300))
    # calls.update, calls.create, calls.fetch, messages.create, messages.list or unknown
    operation: Mapped[str] = mapped_column(String(32))
    # For calls.update: redirect (Url), twiml, hangup (Status=completed/canceled) or none.
    action: Mapped[str | None] = mapped_column(String(16))
    call_sid: Mapped[str | None] = mapped_column(String(64))  # the call updated or created
    form: Mapped[dict | None] = mapped_column(JSON)  # the parameters (None when not authorised)
    status_code: Mapped[int] = mapped_column(Integer)
    error_code: Mapped[int | None] = mapped_column(Integer)  # Twilio's code when it refused
    resource_sid: Mapped[str | None] = mapped_column(String(64))  # the message or call made


class DevTwilioCall(Model):
    """A call the stand-in placed for calls.create; the simulator page rings it."""

    __tablename__ = "dev_twilio_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    to_phone: Mapped[str] = mapped_column(String(32))
    from_phone: Mapped[str] = mapped_column(String(32))
    url: Mapped[str | None] = mapped_column(String(500))
    method: Mapped[str] = mapped_column(String(8), default="POST")
    twiml: Mapped[str | None] = mapped_column(Text)
    status_callback: Mapped[str | None] = mapped_column(String(500))
    timeout_s: Mapped[int] = mapped_column(Integer, default=60)  # how long it rings unanswered
    # queued (ringing), in-progress, completed, busy, no-answer, canceled: Twilio's words
    status: Mapped[str] = mapped_column(String(20), default="queued")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
