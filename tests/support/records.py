"""Helpers for the search, records, callbacks, admin and access tests: quick users, CSRF, letters."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from domain.staff.passwords import hash_password
from extensions import db
from models import Direction, EndpointKind, Entity, Role, Status, Transaction, TransactionEvent, User

PASSWORD = "correct horse battery"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@lru_cache(maxsize=1)
def password_hash() -> str:
    """One Argon2 hash for every test user: hashing costs tens of milliseconds each time."""
    return hash_password(PASSWORD)


def add_user(username: str, role: Role = Role.agent, **fields) -> User:
    """A user straight into the database (create_user itself is tested on its own)."""
    fields.setdefault("display_name", username.title())
    fields.setdefault("endpoint_kind", EndpointKind.client)
    fields.setdefault("endpoint", username)
    fields.setdefault("language", "en")
    user = User(username=username, role=role, password_hash=password_hash(), **fields)
    db.session.add(user)
    db.session.commit()
    return user


def csrf_token(client, path: str = "/console/login") -> str:
    """The session's CSRF token, as every console page carries it in a <meta> tag."""
    page = client.get(path)
    found = CSRF_META.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def log_in(client, username: str, password: str = PASSWORD, **options):
    token = csrf_token(client)
    return client.post(
        "/console/login", data={"username": username, "password": password, "csrf_token": token}, **options
    )


def logged_in_client(app, username: str):
    client = app.test_client()
    response = log_in(client, username)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def post_form(client, path: str, data: dict | None = None, **options):
    """POST as the console's own forms do: with the CSRF token of the client's session."""
    form = {"csrf_token": csrf_token(client, "/console/search"), **(data or {})}
    return client.post(path, data=form, **options)


def add_letter(
    number: str = "1234",
    on: date = date(2024, 3, 15),
    *,
    direction: Direction = Direction.to_federal,
    phone: str | None = "+9647501234567",
    subject: str = "طلب تعيين",
    status: Status = Status.forwarded,
) -> Transaction:
    """A letter from the KRG Interior to Federal Finance, now held by Federal Planning, with history."""
    entities = {}
    for code, ar, ckb, en in [
        ("krg-interior", "وزارة الداخلية في إقليم كوردستان", "وەزارەتی ناوخۆی هەرێم", "KRG Ministry of Interior"),
        ("fed-finance", "وزارة المالية الاتحادية", "وەزارەتی دارایی فیدراڵ", "Federal Ministry of Finance"),
        ("fed-planning", "وزارة التخطيط الاتحادية", "", "Federal Ministry of Planning"),
    ]:
        entity = db.session.query(Entity).filter_by(code=code).one_or_none()
        if entity is None:
            entity = Entity(code=code, name_ar=ar, name_ckb=ckb, name_en=en)
            db.session.add(entity)
        entities[code] = entity
    letter = Transaction(
        number=number,
        date=on,
        direction=direction,
        subject=subject,
        sender=entities["krg-interior"],
        recipient=entities["fed-finance"],
        holder=entities["fed-planning"],
        status=status,
        status_date=date(2024, 4, 2),
        citizen_phone=phone,
    )
    db.session.add(letter)
    db.session.flush()
    db.session.add_all(
        [
            TransactionEvent(
                transaction_id=letter.id, status=Status.received, holder_id=entities["fed-finance"].id, status_date=on
            ),
            TransactionEvent(
                transaction_id=letter.id,
                status=status,
                holder_id=entities["fed-planning"].id,
                status_date=date(2024, 4, 2),
                previous_status=Status.received,
                previous_holder_id=entities["fed-finance"].id,
            ),
        ]
    )
    db.session.commit()
    return letter
