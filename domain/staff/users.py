"""Creating console users, checking how their phone is reached, and changing their presence."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import phonenumbers
from flask import current_app
from phonenumbers import NumberParseException, PhoneNumberFormat
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from domain.clock import utcnow
from domain.languages import LANGUAGES, known_language
from domain.staff.passwords import hash_password, password_problem
from extensions import db
from models import EndpointKind, Entity, Presence, PresenceChange, Role, User

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# Twilio Client identities: kept to characters that need no escaping in TwiML or URLs.
CLIENT_IDENTITY = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")
SIP_URI = re.compile(r"^sip:[^\s<>\"]+@[^\s<>\"]+$")
MAX_DISPLAY_NAME = 120
MAX_ENDPOINT = 200


class UserError(ValueError):
    """A user could not be created or changed.

    `code` names the problem for the console, which says it in the user's language;
    `field` is the form field it belongs to; str() is the English sentence for the CLI.
    """

    def __init__(self, code: str, message: str, *, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.field = field
        self.others: list[UserError] = []  # further problems found in the same check

    @property
    def all(self) -> list["UserError"]:
        return [self, *self.others]

    def __str__(self) -> str:
        return "; ".join(error.args[0] for error in self.all)


def check_endpoint(kind: EndpointKind, endpoint: str, *, username: str = "") -> str:
    """The endpoint as stored, or UserError: E.164 phones, sip: URIs, plain client identities."""
    text = (endpoint or "").strip()
    if kind == EndpointKind.client:
        text = text or username  # an agent's browser identity defaults to the username
        if not CLIENT_IDENTITY.match(text):
            raise UserError(
                "bad_client",
                "a client identity is 1 to 120 letters, digits, dots, dashes or underscores",
                field="endpoint",
            )
        return text
    if kind == EndpointKind.sip:
        if len(text) > MAX_ENDPOINT or not SIP_URI.match(text):
            raise UserError("bad_sip", "a SIP endpoint looks like sip:agent@pbx.example.org", field="endpoint")
        return text
    e164 = e164_number(text)
    if e164 is None:
        raise UserError(
            "bad_phone", "a phone endpoint is a valid number in E.164 form, e.g. +9647501234567", field="endpoint"
        )
    return e164


def dialled_endpoint(user: User) -> str:
    """What Twilio dials to reach the agent; for a browser, the identity its access token carries.

    A client identity left empty defaults to the username, as check_endpoint does.
    """
    if user.endpoint_kind == EndpointKind.client:
        return user.endpoint or user.username
    return user.endpoint


def e164_number(text: str) -> str | None:
    """A number written in E.164 (+ country code) that phonenumbers finds valid, or None."""
    if not text.startswith("+"):
        return None
    try:
        parsed = phonenumbers.parse(text, None)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def create_user(
    username: str,
    password: str,
    role: Role,
    *,
    display_name: str = "",
    language: str = "ar",
    endpoint_kind: EndpointKind = EndpointKind.client,
    endpoint: str = "",
    entity_id: int | None = None,
) -> User:
    """Check everything first, so that a refused user leaves nothing behind; then commit.

    Every problem is found at once (the first raised, the others in its `others`), so a
    form can mark each wrong field in one round trip.
    """
    username = (username or "").strip().lower()
    display_name = " ".join((display_name or "").split())
    problems: list[UserError] = []
    if not USERNAME.match(username):
        problems.append(
            UserError(
                "bad_username",
                "a username is 2 to 64 lower-case letters, digits, dots, dashes or underscores",
                field="username",
            )
        )
    elif db.session.scalar(select(User.id).where(User.username == username)):
        problems.append(UserError("username_taken", f"the user {username} exists already", field="username"))
    if len(display_name) > MAX_DISPLAY_NAME:
        problems.append(
            UserError("long_name", f"a display name has at most {MAX_DISPLAY_NAME} characters", field="display_name")
        )
    if not known_language(language):
        problems.append(UserError("bad_language", "the language is one of " + ", ".join(LANGUAGES), field="language"))
    problem = password_problem(password or "")
    if problem:
        problems.append(UserError("weak_password", f"the password needs {problem}", field="password"))
    try:
        endpoint = check_endpoint(EndpointKind(endpoint_kind), endpoint, username=username)
    except UserError as error:
        problems.append(error)
    if Role(role) is Role.officer:
        if entity_id is None or db.session.get(Entity, entity_id) is None:
            problems.append(UserError("no_entity", "an entity officer needs their entity", field="entity_id"))
    else:
        entity_id = None  # only officers belong to an entity
    if problems:
        first = problems[0]
        first.others = problems[1:]
        raise first
    user = User(
        username=username,
        display_name=display_name or username,
        role=Role(role),
        password_hash=hash_password(password),
        language=language,
        endpoint_kind=EndpointKind(endpoint_kind),
        endpoint=endpoint,
        entity_id=entity_id,
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError as error:  # another admin created the same username meanwhile
        db.session.rollback()
        raise UserError("username_taken", f"the user {username} exists already", field="username") from error
    return user


def set_active(user: User, active: bool, *, by: User | None = None) -> None:
    """Deactivate or reactivate a user; nobody can lock themselves out this way."""
    if not active and by is not None and by.id == user.id:
        raise UserError("deactivate_self", "you cannot deactivate your own account")
    user.active = active
    if not active:
        set_presence(user, Presence.offline)
        end_sessions(user)


def set_password(user: User, password: str) -> None:
    """A new password (checked as at creation); every session opened with the old one ends."""
    problem = password_problem(password or "")
    if problem:
        raise UserError("weak_password", f"the password needs {problem}", field="password")
    user.password_hash = hash_password(password)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Every session of the user ends at its next request, on every browser and node, and
    their open live streams close (`session_is_current`). The caller commits."""
    user.session_version = (user.session_version or 0) + 1


def session_is_current(user_id: int, session_version: int) -> bool:
    """Whether a session opened as that version of that user is still good (active, not ended)."""
    row = db.session.execute(select(User.active, User.session_version).where(User.id == user_id)).first()
    return row is not None and row.active and row.session_version == session_version


def set_presence(user: User, presence: Presence, now: datetime | None = None, *, reason: str | None = None) -> None:
    """Put the agent in a state (Away with its reason), and keep the change for their day's figures.

    The caller commits. A state set again with another reason counts as a change.
    """
    reason = reason if presence == Presence.away else None
    if user.presence == presence and user.away_reason == reason:
        return
    now = now or utcnow()
    user.presence = presence
    user.away_reason = reason
    user.presence_since = now
    if user.id is not None:
        db.session.add(PresenceChange(user_id=user.id, presence=presence, reason=reason, at=now))


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.active.desc(), User.role, User.username)))


def timeout() -> timedelta:
    """How long an agent's consoles may be silent before they count as Offline."""
    return timedelta(seconds=current_app.config["PRESENCE_TIMEOUT_S"])


def present(now: datetime | None = None):
    """SQL: the agent's console was heard from lately, or they are on a call."""
    cutoff = (now or utcnow()) - timeout()
    return or_(User.presence == Presence.on_call, and_(User.last_seen_at.is_not(None), User.last_seen_at >= cutoff))


# An agent in any of these will answer the queue: free now, or once this call is wrapped up.
ANSWERING = (Presence.available, Presence.on_call, Presence.wrap_up)


def someone_answering() -> bool:
    """Whether any agent will answer the queue: one available, on a call or wrapping up, with a
    console heard from lately (`present`: a closed page is no one answering).

    With every agent away or logged out, a queue is endless: callers are offered a callback.
    """
    query = select(User.id).where(User.active.is_(True), User.presence.in_(ANSWERING), present()).limit(1)
    return db.session.scalar(query) is not None
