"""Users of the console: agents, supervisors and admins, and how their phone is reached."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import Model
from models.transaction import enum_column
from models.types import UTCDateTime, utcnow


class Role(str, enum.Enum):
    officer = "officer"  # an entity's complaints officer: that entity's complaints and letters only
    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"


# Who may do what: a supervisor does everything an agent does, an admin everything.
# An entity officer is apart: none of the call centre's pages, only their entity's own.
ROLE_RANK = {Role.officer: 0, Role.agent: 1, Role.supervisor: 2, Role.admin: 3}


class Presence(str, enum.Enum):
    available = "available"
    away = "away"
    on_call = "on_call"
    wrap_up = "wrap_up"
    offline = "offline"


class EndpointKind(str, enum.Enum):
    client = "client"  # a Twilio Client (Voice SDK) identity in the browser
    sip = "sip"
    phone = "phone"


class User(UserMixin, Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    password_hash: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8), default="ar")
    endpoint_kind: Mapped[EndpointKind] = mapped_column(
        enum_column(EndpointKind, "endpoint_kind"), default=EndpointKind.client
    )
    endpoint: Mapped[str] = mapped_column(String(200), default="")
    presence: Mapped[Presence] = mapped_column(enum_column(Presence, "presence"), default=Presence.offline)
    presence_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Why an agent is away (a reason of AWAY_REASONS, or "missed" set by routing); None otherwise.
    away_reason: Mapped[str | None] = mapped_column(String(20))
    # The last heartbeat of any open console page: none for PRESENCE_TIMEOUT_S means Offline.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    # The languages the agent takes calls in, comma-separated ("ar,ckb"); empty: every language.
    languages: Mapped[str] = mapped_column(String(32), default="", server_default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Raised by logout, deactivation and a new password: every session made before ends.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # An officer's entity (None for the call centre's staff).
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entity.id"))
    # When an officer last opened their entity's letters: letters changed since are marked.
    letters_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated user cannot log in
        return self.active

    def get_id(self) -> str:
        """What a session cookie holds (Flask-Login's alternative id): the user and the
        version of their sessions, so that a cookie copied before a logout opens nothing."""
        return f"{self.id}:{self.session_version}"

    @property
    def language_list(self) -> list[str]:
        return [code for code in (self.languages or "").split(",") if code]

    def has_role(self, role: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"
