"""Creating console users and changing their presence."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from sqlalchemy import select

from domain.passwords import hash_password, password_problem
from extensions import db
from models import EndpointKind, Presence, Role, User

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


def create_user(username: str, password: str, role: Role, *, display_name: str = "",
                language: str = "ar", endpoint_kind: EndpointKind = EndpointKind.client,
                endpoint: str = "") -> User:
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise UserError("a username is 2 to 64 lower-case letters, digits, dots, dashes or underscores")
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise UserError(f"the user {username} exists already")
    problem = password_problem(password)
    if problem:
        raise UserError(f"the password needs {problem}")
    user = User(
        username=username, display_name=display_name or username, role=role,
        password_hash=hash_password(password), language=language,
        endpoint_kind=endpoint_kind, endpoint=endpoint or username,
    )
    db.session.add(user)
    db.session.commit()
    return user


def set_presence(user: User, presence: Presence, now: datetime | None = None) -> None:
    if user.presence != presence:
        user.presence = presence
        user.presence_since = now or datetime.now(timezone.utc)


def available_agents() -> int:
    return len(db.session.scalars(
        select(User.id).where(User.active.is_(True), User.presence == Presence.available)
    ).all())
