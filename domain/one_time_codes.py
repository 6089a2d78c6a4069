"""One-time codes sent by SMS or e-mail: proving a citizen holds a mobile or an address.

Six random digits, valid OTP_TTL_MINUTES, OTP_MAX_TRIES tries. Only a keyed hash of the code
is kept (HMAC-SHA256 with SECRET_KEY over what it unlocks), so a copy of the database gives
no working code. Sending is limited per destination, per requester (a keyed hash of the web
client's address or of the call) and in all, per hour, counted in the database so that every
node agrees. A new code does not cancel an older one that is still valid (a slow SMS must not
make the citizen's code useless); each code counts its own tries.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from domain.clock import utcnow
from domain.db.once import rows_changed
from domain.email import queue_email
from domain.languages import language_or_default
from domain.sms import queue_sms, sms_catalog
from extensions import db
from models import CodePurpose, OneTimeCode, SmsKind

DIGITS = 6
HOUR = timedelta(hours=1)


class Refusal(str, enum.Enum):
    destination = "destination"  # this number or address had its codes for the hour
    requester = "requester"  # this web client or call asked too often
    busy = "busy"  # the hour's codes for everyone are spent (an attack): try later
    undeliverable = "undeliverable"  # not a number we may text, or over its daily cap


class CodeRefused(Exception):
    def __init__(self, reason: Refusal):
        super().__init__(reason.value)
        self.reason = reason


class Check(str, enum.Enum):
    ok = "ok"
    wrong = "wrong"
    expired = "expired"  # no valid code: never sent, expired or used
    exhausted = "exhausted"  # the code had its tries


def _secret() -> bytes:
    return current_app.config["SECRET_KEY"].encode()


def keyed(text: str) -> str:
    """A keyed hash: what a requester (an address, a call) is counted by, never stored plain."""
    return hmac.new(_secret(), text.encode(), hashlib.sha256).hexdigest()


def _code_hash(purpose: CodePurpose, destination: str, subject: str, code: str) -> str:
    return keyed(f"{purpose.value}|{destination}|{subject}|{code}")


def _sent_since(condition, since) -> int:
    return db.session.scalar(select(func.count()).where(condition, OneTimeCode.created_at >= since)) or 0


def refusal(destination: str, requester: str) -> Refusal | None:
    config = current_app.config
    since = utcnow() - HOUR
    if _sent_since(OneTimeCode.destination == destination, since) >= config["OTP_MAX_PER_DESTINATION_HOUR"]:
        return Refusal.destination
    if requester and _sent_since(OneTimeCode.requester == requester, since) >= config["OTP_MAX_PER_REQUESTER_HOUR"]:
        return Refusal.requester
    if _sent_since(OneTimeCode.id.is_not(None), since) >= config["OTP_MAX_PER_HOUR"]:
        return Refusal.busy
    return None


def send_code(
    *,
    purpose: CodePurpose,
    channel: str,
    destination: str,
    subject: str = "",
    requester: str = "",
    language: str = "ar",
    complaint_id: int | None = None,
) -> OneTimeCode:
    """A new code, queued to the mobile (`channel` "sms") or the address ("email").

    Raises CodeRefused when a limit is reached or the destination cannot be sent to. The
    caller commits, then dispatches the outboxes (`domain.complaints.notices.dispatch`).
    """
    reason = refusal(destination, requester)
    if reason is not None:
        raise CodeRefused(reason)
    config = current_app.config
    code = f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"
    record = OneTimeCode(
        purpose=purpose,
        channel=channel,
        destination=destination,
        subject=subject,
        code_hash=_code_hash(purpose, destination, subject, code),
        requester=requester,
        attempts=0,
        expires_at=utcnow() + timedelta(minutes=config["OTP_TTL_MINUTES"]),
    )
    db.session.add(record)
    db.session.flush()
    language = language_or_default(language)
    text = sms_catalog(language)["complaint"]["otp"].format(otp=code, minutes=config["OTP_TTL_MINUTES"])
    key = f"otp-{record.id}"
    queued: object | None
    if channel == "sms":
        queued = queue_sms(
            to=destination, kind=SmsKind.code, language=language, key=key, body=text, complaint_id=complaint_id
        )
    else:
        subject_line = text.split(".")[0]
        queued = queue_email(
            to=destination, subject=subject_line, body=text, language=language, key=key, complaint_id=complaint_id
        )
    if queued is None:
        db.session.delete(record)
        db.session.flush()
        raise CodeRefused(Refusal.undeliverable)
    return record


def check_code(*, purpose: CodePurpose, destination: str, subject: str = "", code: str, commit: bool = True) -> Check:
    """Try a code against the valid ones for this destination and subject; commits the try.

    Every try counts, right or wrong, atomically (two at once cannot both use the last
    one); a right code is used up. A voice webhook passes commit=False: its step commits
    the try with everything else it wrote, or nothing when Twilio replayed it.
    """
    now = utcnow()
    candidates = db.session.scalars(
        select(OneTimeCode)
        .where(
            OneTimeCode.purpose == purpose,
            OneTimeCode.destination == destination,
            OneTimeCode.subject == subject,
            OneTimeCode.used_at.is_(None),
            OneTimeCode.expires_at > now,
        )
        .order_by(OneTimeCode.id.desc())
    ).all()
    if not candidates:
        if commit:
            db.session.rollback()
        return Check.expired
    limit = current_app.config["OTP_MAX_TRIES"]
    cleaned = "".join(ch for ch in (code or "") if ch in "0123456789")[:DIGITS]
    result = Check.exhausted
    for candidate in candidates:
        counted = db.session.execute(
            update(OneTimeCode)
            .where(OneTimeCode.id == candidate.id, OneTimeCode.attempts < limit, OneTimeCode.used_at.is_(None))
            .values(attempts=OneTimeCode.attempts + 1)
        )
        if not rows_changed(counted):
            continue
        if hmac.compare_digest(candidate.code_hash, _code_hash(purpose, destination, subject, cleaned)):
            used = db.session.execute(
                update(OneTimeCode)
                .where(OneTimeCode.id == candidate.id, OneTimeCode.used_at.is_(None))
                .values(used_at=now)
            )
            result = Check.ok if rows_changed(used) else Check.expired
            break
        result = Check.wrong
    if commit:
        db.session.commit()
    return result
