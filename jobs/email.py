"""The `email` queue's job: send one outbox row to the SMTP server, at most once per claim.

Delivery is at-least-once, as for SMS:
- a worker claims the row atomically (pending/queued -> sending); a second run of the same
  job, or a second job for the same row, finds nothing to claim and stops;
- once the server has accepted the message the row is `sent` and never sent again;
- a worker killed after the server took the message but before the row said so leaves the
  row "sending"; the sweep puts it back after EMAIL_SENDING_TIMEOUT_S and it is sent again.
  SMTP has no way to ask what was delivered; the copy carries the same Message-ID, which
  mail systems use to spot a duplicate.

Refusals: a 5xx for the recipient or the message (no such mailbox, content refused) has
failed for good; anything else (no connection, a timeout, a 4xx, a 5xx about our login or
sender: settings an operator can fix) is retried, by RQ's Retry or by the sweep.
Nothing personal reaches a log or an error text: ids and SMTP codes only, never the
address, the body or the server's words (which often repeat the address).
"""

from __future__ import annotations

import logging
import smtplib
import ssl

from flask import current_app
from rq import get_current_job

from domain.email import (
    claim_for_sending,
    finish_sending,
    is_permanent,
    mime_message,
    release_after_failure,
    suppression_reason,
)
from extensions import db
from jobs.context import job
from models import EmailMessage, EmailStatus

log = logging.getLogger(__name__)


class TransientEmailError(RuntimeError):
    """The SMTP server could not be reached or asked us to come back later: RQ retries the job."""


@job
def send_email(message_id: int) -> str:
    """Claim, check the safety rule, send. Returns what happened."""
    attempt = claim_for_sending(message_id)
    if attempt is None:
        return "not claimable"  # sent, sending elsewhere, or gone: a duplicate job does nothing
    config = current_app.config
    reason = suppression_reason(config)
    if reason:
        finish_sending(message_id, attempt, EmailStatus.suppressed, error=reason)
        log.info("e-mail %s suppressed: %s", message_id, reason)
        return "suppressed"
    message = db.session.get(EmailMessage, message_id)
    if message is None:
        return "not claimable"
    mime = mime_message(message, config)
    db.session.commit()  # no transaction stays open while the SMTP server is asked
    try:
        deliver(mime, config)
    except smtplib.SMTPRecipientsRefused as exc:
        code = min((answer[0] for answer in exc.recipients.values()), default=0)
        return refused(message_id, attempt, code, "recipient refused")
    except smtplib.SMTPDataError as exc:
        return refused(message_id, attempt, exc.smtp_code, "message refused")
    except smtplib.SMTPResponseException as exc:
        # A refusal of our login or sender, or a 4xx: the settings or the server may change.
        return retry(message_id, attempt, f"smtp {exc.smtp_code}")
    except OSError as exc:  # no connection, a timeout, TLS, a dropped session (SMTPException too)
        return retry(message_id, attempt, type(exc).__name__)
    finish_sending(message_id, attempt, EmailStatus.sent)
    log.info("e-mail %s sent (attempt %s)", message_id, attempt)
    return "sent"


def refused(message_id: int, attempt: int, code: int, what: str) -> str:
    if is_permanent(code):
        finish_sending(message_id, attempt, EmailStatus.failed, error=f"smtp {code}: {what}")
        log.warning("e-mail %s failed: smtp %s, %s", message_id, code, what)
        return "failed"
    return retry(message_id, attempt, f"smtp {code}: {what}")


def retry(message_id: int, attempt: int, error: str) -> str:
    """Give the row back (or fail it, out of attempts); under RQ, raise so that RQ retries."""
    under_rq = get_current_job() is not None
    gave_up = release_after_failure(message_id, attempt, error, current_app.config, retried_by_rq=under_rq)
    log.warning("e-mail %s not sent (attempt %s): %s", message_id, attempt, error)
    if gave_up:
        return "failed"
    if under_rq:
        raise TransientEmailError(f"e-mail {message_id}: {error}") from None
    return "retry"


def deliver(mime, config) -> None:
    """One SMTP session: connect as SMTP_SECURITY says, log in when SMTP_USERNAME is set, send."""
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT_S"]
    security = config["SMTP_SECURITY"]
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        smtp.ehlo()
        if security == "starttls":
            # A server that offers no STARTTLS gets nothing: never the message in clear instead.
            smtp.starttls(context=context)
            smtp.ehlo()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(mime)
    finally:
        close(smtp)


def close(smtp: smtplib.SMTP) -> None:
    """QUIT, politely; a server gone by now changes nothing (the message was taken or not)."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
