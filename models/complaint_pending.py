"""A complaint being written on the public form, kept between its steps (form, code, done).

The typed fields and the checked attachments wait here, not in the session cookie (files
are megabytes), under a random token the citizen's session holds. A row lives a few hours;
once filed it keeps only the complaint it became, so that a second submit shows the same
confirmation instead of filing again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import Model
from models.types import UTCDateTime, utcnow

PENDING_HOURS = 3  # a complaint being written is forgotten after this long untouched
TRACK_REQUEST_DAYS = 1  # tracking requests are counted per hour: a day is plenty


class PendingComplaint(Model):
    __tablename__ = "complaint_pending"
    __table_args__ = (Index("ix_complaint_pending_updated_at", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # random; the session holds it
    fields: Mapped[str] = mapped_column(Text, default="{}")  # the typed fields, as JSON
    channel: Mapped[str | None] = mapped_column(String(8))  # where the code went: sms or email
    destination: Mapped[str | None] = mapped_column(String(254))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    files: Mapped[list["PendingAttachment"]] = relationship(
        back_populates="pending", order_by="PendingAttachment.id", cascade="all, delete-orphan"
    )


class PendingAttachment(Model):
    """A file already checked (type from its content, images re-encoded) waiting to be filed."""

    __tablename__ = "complaint_pending_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    pending_id: Mapped[int] = mapped_column(ForeignKey("complaint_pending.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    pending: Mapped[PendingComplaint] = relationship(back_populates="files")


class TrackRequest(Model):
    """A request for a tracking code from the web, counted whatever it found: per address and per
    contact (both keyed hashes), so that the limits answer alike for a match and a miss."""

    __tablename__ = "complaint_track_request"
    __table_args__ = (
        Index("ix_complaint_track_request_requester_created", "requester", "created_at"),
        Index("ix_complaint_track_request_destination_created", "destination", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requester: Mapped[str] = mapped_column(String(64))
    destination: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
