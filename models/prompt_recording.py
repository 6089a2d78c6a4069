"""Recorded voice prompts: every take of every clip, kept in the database so that every web
node plays the same approved audio, and earlier takes can be restored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import Model
from models.types import UTCDateTime, utcnow


class PromptRecording(Model):
    """One take of one clip (`language`, `name`), already converted for the phone.

    `current` marks the take the studio shows for the clip (the newest, or a restored one);
    `live` the approved take the IVR plays. At most one of each per clip.
    """

    __tablename__ = "prompt_recording"
    __table_args__ = (
        Index(
            "uq_prompt_recording_current",
            "language",
            "name",
            unique=True,
            sqlite_where=text("is_current"),
            postgresql_where=text("is_current"),
        ),
        Index(
            "uq_prompt_recording_live",
            "language",
            "name",
            unique=True,
            sqlite_where=text("is_live"),
            postgresql_where=text("is_live"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(160))
    audio: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    mimetype: Mapped[str] = mapped_column(String(32), default="audio/mpeg")
    sha256: Mapped[str] = mapped_column(String(64))
    duration_ms: Mapped[int] = mapped_column(Integer)
    loudness_lufs: Mapped[float | None] = mapped_column(Float)
    source_name: Mapped[str] = mapped_column(String(200), default="")
    recorded_by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_current: Mapped[bool] = mapped_column(default=True)
    is_live: Mapped[bool] = mapped_column(default=False)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<PromptRecording {self.language}/{self.name} #{self.id}>"
