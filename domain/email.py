"""The e-mail outbox (interim: rows only; the sending job is being built alongside)."""

from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models import EmailMessage, EmailStatus

OUTBOX_KEY = "hotline.email_outbox"


def queue_email(*, to: str, subject: str, body: str, language: str, key: str, complaint_id: int | None = None):
    key = key[:64]
    found = db.session.scalar(select(EmailMessage).where(EmailMessage.idempotency_key == key))
    if found is not None:
        return found
    message = EmailMessage(
        idempotency_key=key,
        to_address=to,
        subject=subject,
        body=body,
        language=language,
        status=EmailStatus.pending,
        complaint_id=complaint_id,
    )
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(OUTBOX_KEY, []).append(message.id)
    return message


def dispatch_email_outbox() -> int:
    db.session.info.pop(OUTBOX_KEY, [])
    return 0
