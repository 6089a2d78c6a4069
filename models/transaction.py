"""Transactions (official letters) and the history of their status and holder."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TypeAlias

from sqlalchemy import Date, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import Model
from models.entity import Entity
from models.types import UTCDateTime, utcnow

# A letter's fields named `date` hide the type inside their class: they are annotated with this.
Day: TypeAlias = date


class Direction(str, enum.Enum):
    to_federal = "to_federal"  # from the Region to Baghdad
    to_region = "to_region"


class Status(str, enum.Enum):
    received = "received"
    under_review = "under_review"
    forwarded = "forwarded"
    awaiting_reply = "awaiting_reply"
    replied = "replied"
    returned = "returned"


def enum_column(enum_class: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK, so adding a value is a small migration.
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Transaction(Model):
    __tablename__ = "transaction"
    __table_args__ = (
        UniqueConstraint("number", "date", "direction"),
        Index("ix_transaction_citizen_phone", "citizen_phone"),
        # An entity's letters (the officers' Letters page), newest change first.
        Index("ix_transaction_sender_id_updated", "sender_id", "updated_at"),
        Index("ix_transaction_recipient_id_updated", "recipient_id", "updated_at"),
        Index("ix_transaction_holder_id_updated", "holder_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(12))
    date: Mapped[Day] = mapped_column(Date)
    direction: Mapped[Direction] = mapped_column(enum_column(Direction, "direction"))
    subject: Mapped[str] = mapped_column(String(500), default="")
    sender_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    status: Mapped[Status] = mapped_column(enum_column(Status, "status"))
    status_date: Mapped[Day] = mapped_column(Date)
    citizen_phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    sender: Mapped[Entity] = relationship(foreign_keys=[sender_id], lazy="joined")
    recipient: Mapped[Entity] = relationship(foreign_keys=[recipient_id], lazy="joined")
    holder: Mapped[Entity] = relationship(foreign_keys=[holder_id], lazy="joined")
    events: Mapped[list["TransactionEvent"]] = relationship(
        back_populates="transaction",
        order_by="TransactionEvent.id",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Transaction {self.number} {self.date} {self.direction.value}>"


class TransactionEvent(Model):
    """One change of status or holder, as it arrived from the records office."""

    __tablename__ = "transaction_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transaction.id", ondelete="CASCADE"), index=True)
    status: Mapped[Status] = mapped_column(enum_column(Status, "status"))
    holder_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    status_date: Mapped[Day] = mapped_column(Date)
    previous_status: Mapped[Status | None] = mapped_column(enum_column(Status, "previous_status"))
    previous_holder_id: Mapped[int | None] = mapped_column(ForeignKey("entity.id"))
    source: Mapped[str] = mapped_column(String(32), default="import")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    transaction: Mapped[Transaction] = relationship(back_populates="events")
    holder: Mapped[Entity] = relationship(foreign_keys=[holder_id])
    previous_holder: Mapped[Entity | None] = relationship(foreign_keys=[previous_holder_id])
