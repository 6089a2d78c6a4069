"""Citizens' complaints about a government service or employee, their history and attachments.

The columns only: the rules of a complaint's life (who may move it where, its SLA, what the
citizen is told) are in domain/complaints/.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import Model
from models.entity import Entity
from models.transaction import enum_column
from models.types import UTCDateTime, utcnow
from models.user import User


class ComplaintKind(str, enum.Enum):
    service = "service"  # about a government service
    employee = "employee"  # about a government employee


class ComplaintChannel(str, enum.Enum):
    web = "web"  # the public form
    phone = "phone"  # taken by an agent on a call


class ComplaintStatus(str, enum.Enum):
    submitted = "submitted"  # accepted, not yet with an entity
    routed = "routed"  # with the entity concerned, nobody working on it yet
    in_progress = "in_progress"
    awaiting_citizen = "awaiting_citizen"  # the entity asked the citizen for information (SLA paused)
    resolved = "resolved"
    rejected = "rejected"  # with a reason the citizen sees
    appealed = "appealed"  # the citizen contested the resolution: open again
    closed = "closed"


class Verification(str, enum.Enum):
    sms = "sms"  # the citizen keyed in a one-time code sent to the mobile
    email = "email"  # ... sent to the e-mail address
    phone_unverified = "phone_unverified"  # taken by an agent on a call, no code read back


class ComplaintEventKind(str, enum.Enum):
    submitted = "submitted"
    routed = "routed"
    status = "status"  # a status change (from_status -> to_status)
    assigned = "assigned"
    response = "response"  # a public response: the citizen sees it
    note = "note"  # internal: never shown to the citizen
    info_request = "info_request"  # the entity asks the citizen for information
    citizen_reply = "citizen_reply"
    transfer = "transfer"  # to another entity, with a reason
    appeal = "appeal"
    escalated = "escalated"  # the SLA passed: supervisors told
    purged = "purged"  # personal data removed after the retention period


class ComplaintCategory(Model):
    """What a complaint is about, with the working hours the entity has to resolve it."""

    __tablename__ = "complaint_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[ComplaintKind] = mapped_column(enum_column(ComplaintKind, "complaint_kind"))
    name_ar: Mapped[str] = mapped_column(String(200))
    name_ckb: Mapped[str] = mapped_column(String(200), default="")
    name_en: Mapped[str] = mapped_column(String(200), default="")
    sla_hours: Mapped[int] = mapped_column(Integer)  # working hours, Baghdad time
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def name(self, language: str) -> str:
        return {"ckb": self.name_ckb, "en": self.name_en}.get(language) or self.name_ar

    def __repr__(self) -> str:
        return f"<ComplaintCategory {self.code}>"


class Complaint(Model):
    __tablename__ = "complaint"
    __table_args__ = (
        Index("ix_complaint_entity_status", "entity_id", "status"),
        Index("ix_complaint_status_due", "status", "sla_due_at"),
        Index("ix_complaint_created_at", "created_at"),
        Index("ix_complaint_phone", "phone"),
        Index("ix_complaint_email", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # digits only, with a check digit
    kind: Mapped[ComplaintKind] = mapped_column(enum_column(ComplaintKind, "complaint_kind"))
    category_id: Mapped[int] = mapped_column(ForeignKey("complaint_category.id"))
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    governorate: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[ComplaintStatus] = mapped_column(enum_column(ComplaintStatus, "complaint_status"))
    status_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel: Mapped[ComplaintChannel] = mapped_column(enum_column(ComplaintChannel, "complaint_channel"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id", ondelete="SET NULL"), index=True)
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # the agent, by phone
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)

    # The complainant. Personal data: purged after COMPLAINT_RETENTION_DAYS once closed.
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    email: Mapped[str | None] = mapped_column(String(254))  # lower case
    national_id: Mapped[str | None] = mapped_column(String(20))
    declared_adult: Mapped[bool] = mapped_column(Boolean, default=False)
    declared_citizen: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_identity: Mapped[bool] = mapped_column(Boolean, default=False)  # from the entity's officers
    language: Mapped[str] = mapped_column(String(8))
    verification: Mapped[Verification] = mapped_column(enum_column(Verification, "verification"))

    # The SLA, in working hours: due while the entity has it, paused while the citizen is asked.
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused_minutes: Mapped[int | None] = mapped_column(Integer)  # working minutes left at the pause
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # resolved or rejected
    # Whether the last resolution (or rejection) came within the SLA; None until there is one.
    sla_met: Mapped[bool | None] = mapped_column(Boolean)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appeals: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)  # the last rejection's reason, for the citizen
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[ComplaintCategory] = relationship(lazy="joined")
    entity: Mapped[Entity] = relationship(lazy="joined")
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    taken_by: Mapped[User | None] = relationship(foreign_keys=[taken_by_id])
    events: Mapped[list["ComplaintEvent"]] = relationship(
        back_populates="complaint", order_by="ComplaintEvent.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Complaint {self.code} {self.status.value}>"


class ComplaintEvent(Model):
    """One step of a complaint's history; `public` ones are what the citizen sees."""

    __tablename__ = "complaint_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ComplaintEventKind] = mapped_column(enum_column(ComplaintEventKind, "complaint_event_kind"))
    from_status: Mapped[ComplaintStatus | None] = mapped_column(enum_column(ComplaintStatus, "from_status"))
    to_status: Mapped[ComplaintStatus | None] = mapped_column(enum_column(ComplaintStatus, "to_status"))
    body: Mapped[str] = mapped_column(Text, default="")
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: the citizen or the system
    from_entity_id: Mapped[int | None] = mapped_column(ForeignKey("entity.id"))
    to_entity_id: Mapped[int | None] = mapped_column(ForeignKey("entity.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()
    from_entity: Mapped[Entity | None] = relationship(foreign_keys=[from_entity_id])
    to_entity: Mapped[Entity | None] = relationship(foreign_keys=[to_entity_id])


class ComplaintAttachment(Model):
    """A supporting document, kept in the database so that every web node serves it."""

    __tablename__ = "complaint_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("complaint_event.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(120))  # shown only; never a path
    content_type: Mapped[str] = mapped_column(String(40))  # found from the content, not the name
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # None: the citizen
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CodePurpose(str, enum.Enum):
    complaint = "complaint"  # verifying the contact of a new complaint (web, or read back on a call)
    track = "track"  # following a complaint (web or IVR)


class OneTimeCode(Model):
    """A short code sent by SMS or e-mail; only its keyed hash is kept."""

    __tablename__ = "one_time_code"
    __table_args__ = (
        Index("ix_one_time_code_destination_created", "destination", "created_at"),
        Index("ix_one_time_code_requester_created", "requester", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[CodePurpose] = mapped_column(enum_column(CodePurpose, "code_purpose"))
    channel: Mapped[str] = mapped_column(String(8))  # sms or email
    destination: Mapped[str] = mapped_column(String(254))  # E.164 or a lower-case address
    subject: Mapped[str] = mapped_column(String(64), default="")  # what it unlocks (a complaint code...)
    code_hash: Mapped[str] = mapped_column(String(64))
    requester: Mapped[str] = mapped_column(String(64), default="")  # keyed hash of the address or call
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmailStatus(str, enum.Enum):
    pending = "pending"  # a row, not yet handed to a queue (or Redis was down)
    queued = "queued"
    sending = "sending"
    sent = "sent"  # the SMTP server accepted it
    failed = "failed"
    suppressed = "suppressed"  # never sent on purpose (no SMTP server set)


class EmailMessage(Model):
    """The e-mail outbox: every message a row before it is sent, as for SMS."""

    __tablename__ = "email_message"
    __table_args__ = (
        Index("ix_email_message_status_created", "status", "created_at"),
        Index("ix_email_message_to_created", "to_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[EmailStatus] = mapped_column(enum_column(EmailStatus, "email_status"), default=EmailStatus.pending)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id", ondelete="SET NULL"), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
