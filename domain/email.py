"""E-mail: the outbox and its rules, the safety rule, the message as it goes out.

As for SMS (domain/sms.py), every e-mail is a row in `email_message` first; only after that
row is committed is a job enqueued to send it (`dispatch_email_outbox`). If Redis is down the
row stays `pending` and the housekeeping sweep enqueues it later, so nothing is lost between
the two steps. The claim, the end of an attempt and a retry are the rules every outbox
shares (domain/outbox.py); the `email` job talks to the SMTP server (jobs/email.py).

Addresses are personal data: logs carry row ids, and at most a masked address.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta
from email import policy
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime, parseaddr

from flask import current_app
from sqlalchemy import func, select

from domain.clock import utcnow
from domain.languages import language_or_default
from domain.outbox import Outbox
from extensions import db
from models import EmailMessage, EmailStatus

log = logging.getLogger(__name__)
OUTBOX = Outbox(
    "email", EmailMessage, EmailStatus, "EMAIL_MAX_ATTEMPTS", "EMAIL_SENDING_TIMEOUT_S", "jobs.email.send_email"
)
OUTBOX_KEY = OUTBOX.session_key  # session.info: rows to enqueue once they are committed
CAP_WINDOW = timedelta(hours=24)
SUBJECT_MAX = 200  # email_message.subject
# 7bit: a body in Arabic or Kurdish goes base64-encoded, so that any SMTP server (one without
# 8BITMIME too) carries it intact; headers in another script go as RFC 2047 encoded words.
MIME_POLICY = policy.SMTP.clone(cte_type="7bit")


# --- addresses ---------------------------------------------------------------------

# The local part as RFC 5322's dot-atom (no quoted strings: no citizen has one); the domain
# as host names are written (after IDNA), with a top-level label that is not all digits.
LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def normal_address(text: str | None) -> str | None:
    """The address as stored and counted (lower case, the domain in its ASCII form), or None
    when it is not a plausible address: one @, a dot-atom local part, a domain with a dot."""
    if not text or not isinstance(text, str):
        return None
    text = text.strip()
    if len(text) > 254 or text.count("@") != 1:
        return None
    local, domain = text.split("@")
    if not 0 < len(local) <= 64 or not LOCAL_PART.fullmatch(local):
        return None
    try:
        domain = domain.lower().encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = domain.split(".")
    if len(labels) < 2 or not all(LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        return None
    address = f"{local.lower()}@{domain}"
    return address if len(address) <= 254 else None


def is_plausible_address(text: str | None) -> bool:
    return normal_address(text) is not None


def mask_address(address: str) -> str:
    """What a log may say about an address: its first character and its top-level domain."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@***.{domain.rsplit('.', 1)[-1]}" if domain else "***"


# --- who may be sent an e-mail: a daily cap per address ------------------------------


def sent_today(address: str) -> int:
    """Rows to this address in the last 24 h, counted in the database so every node agrees."""
    since = utcnow() - CAP_WINDOW
    query = select(func.count()).where(EmailMessage.to_address == address, EmailMessage.created_at >= since)
    return db.session.scalar(query) or 0


def over_daily_cap(address: str) -> bool:
    return sent_today(address) >= current_app.config["EMAIL_MAX_PER_DESTINATION_DAY"]


def suppression_reason(config) -> str | None:
    """Why no e-mail may go out now, or None when it may: without SMTP_HOST there is no server
    to send to (development, the demo): the row is kept, marked suppressed with this reason."""
    if not config["SMTP_HOST"]:
        return "no SMTP_HOST"
    return None


# --- the outbox --------------------------------------------------------------------


def one_line(text: str) -> str:
    """A subject on one line (a line break in a header would start another header)."""
    return " ".join(text.split())[:SUBJECT_MAX]


def queue_email(
    *, to: str, subject: str, body: str, language: str, key: str, complaint_id: int | None = None
) -> EmailMessage | None:
    """The outbox row for one e-mail, made once per idempotency key; the caller commits.

    None, and no row, for an address that is not plausible or that had its
    EMAIL_MAX_PER_DESTINATION_DAY already; a replay of an earlier request still finds its
    row. After the commit, `dispatch_email_outbox()` enqueues the rows made in this session.
    """
    key = key[:64]
    found = OUTBOX.made_for(key)
    if found is not None:
        return found
    address = normal_address(to)
    if address is None:
        return None
    if over_daily_cap(address):
        log.warning("e-mail to %s refused: daily cap reached", mask_address(address))
        return None
    message = EmailMessage(
        idempotency_key=key,
        to_address=address,
        subject=one_line(subject),
        body=body,
        language=language_or_default(language),
        status=EmailStatus.pending,
        complaint_id=complaint_id,
    )
    return OUTBOX.add_once(message)


# After the request's commit: the rows this session made, to the `email` queue (never raises).
dispatch_email_outbox = OUTBOX.dispatch
# One committed row to the `email` queue, `pending` -> `queued` once Redis took it (the sweep's too).
enqueue_email = OUTBOX.enqueue
job_id = OUTBOX.job_id


# --- sending: one attempt's claim, its end, a retry or giving up ---------------------


def claim_for_sending(message_id: int) -> int | None:
    """pending/queued -> sending in one UPDATE; the attempt number, or None if not ours."""
    return OUTBOX.claim(message_id)


def finish_sending(message_id: int, attempt: int, status: EmailStatus, *, error: str | None = None) -> None:
    values = {"sent_at": utcnow()} if status is EmailStatus.sent else {}
    OUTBOX.finish(message_id, attempt, status, error=error, **values)


def release_after_failure(message_id: int, attempt: int, error: str, config, *, retried_by_rq: bool) -> bool:
    """Give the row back after a transient failure; out of attempts, it has failed (True)."""
    return OUTBOX.release_after_failure(message_id, attempt, error, config, retried_by_rq=retried_by_rq)


def is_permanent(smtp_code: int) -> bool:
    """A 5xx refusal of the recipient or of the message: no retry will change the answer."""
    return 500 <= smtp_code < 600


# --- the message as it goes out ------------------------------------------------------


def message_id_header(message: EmailMessage, mail_from: str) -> str:
    """The same Message-ID for every attempt at one row: a copy sent twice (a worker lost after
    the server took it) is one message to the recipient's mail system."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "5599.invalid"
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:16]
    return f"<email-{message.id}.{digest}@{domain}>"


def mime_message(message: EmailMessage, config) -> MimeMessage:
    """The row as an RFC 5322 message: plain text in UTF-8, From MAIL_FROM, a stable Message-ID."""
    mime = MimeMessage(policy=MIME_POLICY)
    mime["From"] = config["MAIL_FROM"]
    mime["To"] = message.to_address
    mime["Subject"] = message.subject
    mime["Date"] = format_datetime(utcnow())
    mime["Message-ID"] = message_id_header(message, config["MAIL_FROM"])
    mime["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office replies stay away
    mime.set_content(message.body, charset="utf-8")
    mime["Content-Language"] = message.language  # after set_content, which clears Content-*
    return mime
