"""Bearer tokens of the records-office API: random, shown once, kept only as a SHA-256."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from domain.clock import utcnow
from extensions import db
from models import ApiToken

TOKEN_PREFIX = "h5599_"
# A 256-bit random token needs no slow hash: nobody can guess their way to a SHA-256 preimage.


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokenError(ValueError):
    pass


def create_token(name: str) -> str:
    """A new token for NAME; the only time its text exists outside the caller's hands."""
    name = name.strip()
    if not name or len(name) > 64:
        raise TokenError("a token's name is 1 to 64 characters")
    if db.session.scalar(select(ApiToken.id).where(ApiToken.name == name)):
        raise TokenError(f"a token named {name!r} exists; revoke it or choose another name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(name=name, token_hash=token_hash(token), prefix=token[:10]))
    db.session.commit()
    return token


def revoke_token(name: str) -> bool:
    found = db.session.scalar(select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None)))
    if found is None:
        return False
    found.revoked_at = utcnow()
    db.session.commit()
    return True


def list_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.name)))


def token_for(presented: str) -> ApiToken | None:
    """The live token whose hash matches, or None (unknown or revoked)."""
    if not presented or len(presented) > 200:
        return None
    found = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(presented)))
    if found is None or found.revoked_at is not None:
        return None
    return found
