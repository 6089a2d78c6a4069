"""The `sms` queue's job: send one outbox row through Twilio's Messages API, at most once per claim.

Delivery is at-least-once with reconciliation, which in practice sends once:
- a worker claims the row atomically (pending/queued -> sending); a second run of the same
  job, or a second job for the same row, finds nothing to claim and stops;
- once Twilio has answered, its sid is stored and the row is never sent again;
- a worker killed while Twilio was being asked leaves the row "sending"; the sweep puts it
  back after SMS_SENDING_TIMEOUT_S, and the next attempt first asks Twilio whether a
  message with this body already went to this number since the row was made, and adopts
  it instead of sending again. Only if Twilio's list does not show it yet is it sent again.
Exactly-once cannot be promised: Twilio's Messages API takes no idempotency key.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import requests
from flask import current_app
from rq import get_current_job
from sqlalchemy import update
from twilio.base.exceptions import TwilioException, TwilioRestException

from domain.sms import suppression_reason
from extensions import db
from jobs.context import job
from models import SmsMessage, SmsStatus
from models.sms import CLAIMABLE
from telephony.rest import public_url, twilio_client

log = logging.getLogger(__name__)
# Twilio errors that a retry cannot fix (bad number, unsubscribed, blocked region...).
PERMANENT_HTTP = {400, 401, 403, 404}
RECONCILE_SLACK = timedelta(minutes=2)  # clock skew between us and Twilio


class TransientSmsError(RuntimeError):
    """Twilio could not be reached or failed on its side: RQ retries the job."""


def now() -> datetime:
    return datetime.now(timezone.utc)


@job
def send_sms(message_id: int) -> str:
    """Claim, check the safety rule, find an earlier attempt, or send. Returns what happened."""
    attempt = claim(message_id)
    if attempt is None:
        return "not claimable"  # sent, sending elsewhere, or gone: a duplicate job does nothing
    message = db.session.get(SmsMessage, message_id)
    reason = suppression_reason(message, current_app.config)
    if reason:
        finish(message_id, attempt, SmsStatus.suppressed, error=reason)
        log.info("sms %s suppressed: %s", message_id, reason)
        return "suppressed"
    try:
        # A second attempt may follow one that reached Twilio and died before writing the sid.
        earlier = earlier_send(message) if attempt > 1 else None
        sid = earlier or create_message(message)
    except TwilioRestException as exc:
        if exc.status in PERMANENT_HTTP:
            finish(message_id, attempt, SmsStatus.failed, error=f"twilio {exc.code}: {exc.status}")
            return "failed"
        release(message_id, attempt, f"twilio {exc.code}: {exc.status}")
        raise TransientSmsError(f"sms {message_id}: Twilio answered {exc.status}") from None
    except (requests.RequestException, TwilioException) as exc:
        release(message_id, attempt, type(exc).__name__)
        raise TransientSmsError(f"sms {message_id}: {type(exc).__name__}") from None
    finish(message_id, attempt, SmsStatus.sent, sid=sid)
    return "adopted" if earlier else "sent"


def claim(message_id: int) -> int | None:
    """pending/queued -> sending in one UPDATE; the attempt number, or None if not ours."""
    table = SmsMessage.__table__
    moment = now()
    result = db.session.execute(
        update(table)
        .where(table.c.id == message_id, table.c.status.in_(CLAIMABLE), table.c.twilio_sid.is_(None))
        .values(status=SmsStatus.sending, claimed_at=moment, status_at=moment,
                attempts=table.c.attempts + 1)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.get(SmsMessage, message_id, populate_existing=True).attempts


def _ours(message_id: int, attempt: int):
    # Only the claim that is still current may write: a row the sweep gave to another
    # attempt (this worker was presumed dead) is no longer this attempt's to finish.
    table = SmsMessage.__table__
    return update(table).where(
        table.c.id == message_id, table.c.status == SmsStatus.sending, table.c.attempts == attempt
    )


def finish(message_id: int, attempt: int, status: SmsStatus, *, sid: str | None = None,
           error: str | None = None) -> None:
    moment = now()
    values = {"status": status, "status_at": moment, "error": error}
    if sid:
        values.update(twilio_sid=sid, sent_at=moment)
    db.session.execute(_ours(message_id, attempt).values(**values))
    db.session.commit()


def release(message_id: int, attempt: int, error: str) -> None:
    """Give the row back after a transient failure; out of attempts, it has failed."""
    out_of_attempts = attempt >= current_app.config["SMS_MAX_ATTEMPTS"]
    if out_of_attempts:
        status = SmsStatus.failed
    else:
        # Under RQ its Retry runs the job again; inline, the sweep picks a pending row up.
        status = SmsStatus.queued if get_current_job() is not None else SmsStatus.pending
    db.session.execute(_ours(message_id, attempt).values(status=status, status_at=now(), error=error[:200]))
    db.session.commit()
    if out_of_attempts:
        log.warning("sms %s failed after %s attempts", message_id, attempt)


def create_message(message: SmsMessage) -> str:
    config = current_app.config
    created = twilio_client().messages.create(
        to=message.to_phone, from_=config["SMS_FROM"] or None, body=message.body,
        status_callback=public_url(f"/sms/status?m={message.id}"),
    )
    return created.sid


def earlier_send(message: SmsMessage) -> str | None:
    """The sid of a message an earlier, interrupted attempt may already have made."""
    since = message.created_at - RECONCILE_SLACK
    recent = twilio_client().messages.list(to=message.to_phone, limit=50)
    for found in recent:
        if found.body == message.body and (found.date_created is None or found.date_created >= since):
            return found.sid
    return None
