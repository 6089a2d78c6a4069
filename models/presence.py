"""Routing's records: each change of an agent's state (for their day's figures) and the open offers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import Model
from models.transaction import enum_column
from models.types import UTCDateTime, utcnow
from models.user import Presence


class PresenceChange(Model):
    """An agent entered a state at `at` (and stayed in it until their next change)."""

    __tablename__ = "presence_change"
    __table_args__ = (Index("ix_presence_change_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    presence: Mapped[Presence] = mapped_column(enum_column(Presence, "presence"))
    reason: Mapped[str | None] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CallOffer(Model):
    """A waiting caller offered to one agent until `expires_at`.

    Both columns are unique: one open offer per caller and one per agent, kept by the
    database itself, so two nodes routing at once cannot offer one caller to two agents
    nor one agent two callers (the second INSERT fails).
    """

    __tablename__ = "call_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
