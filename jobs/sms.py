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

import requests
from flask import current_app
from rq import get_current_job
from twilio.base.exceptions import TwilioException, TwilioRestException

from domain.sms import (
    claim_for_sending,
    finish_sending,
    is_earlier_send,
    is_permanent,
    release_after_failure,
    suppression_reason,
)
from extensions import db
from jobs.context import job
from models import SmsMessage, SmsStatus
from telephony.rest import public_url, twilio_client

log = logging.getLogger(__name__)


class TransientSmsError(RuntimeError):
    """Twilio could not be reached or failed on its side: RQ retries the job."""


@job
def send_sms(message_id: int) -> str:
    """Claim, check the safety rule, find an earlier attempt, or send. Returns what happened."""
    attempt = claim_for_sending(message_id)
    if attempt is None:
        return "not claimable"  # sent, sending elsewhere, or gone: a duplicate job does nothing
    message = db.session.get(SmsMessage, message_id)
    reason = suppression_reason(message, current_app.config)
    if reason:
        finish_sending(message_id, attempt, SmsStatus.suppressed, error=reason)
        log.info("sms %s suppressed: %s", message_id, reason)
        return "suppressed"
    try:
        # A second attempt may follow one that reached Twilio and died before writing the sid.
        earlier = earlier_send(message) if attempt > 1 else None
        sid = earlier or create_message(message)
    except TwilioRestException as exc:
        if is_permanent(exc.status):
            finish_sending(message_id, attempt, SmsStatus.failed, error=f"twilio {exc.code}: {exc.status}")
            return "failed"
        release(message_id, attempt, f"twilio {exc.code}: {exc.status}")
        raise TransientSmsError(f"sms {message_id}: Twilio answered {exc.status}") from None
    except (requests.RequestException, TwilioException) as exc:
        release(message_id, attempt, type(exc).__name__)
        raise TransientSmsError(f"sms {message_id}: {type(exc).__name__}") from None
    finish_sending(message_id, attempt, SmsStatus.sent, sid=sid)
    return "adopted" if earlier else "sent"


def release(message_id: int, attempt: int, error: str) -> None:
    release_after_failure(message_id, attempt, error, current_app.config, retried_by_rq=get_current_job() is not None)


def create_message(message: SmsMessage) -> str:
    config = current_app.config
    created = twilio_client().messages.create(
        to=message.to_phone,
        from_=config["SMS_FROM"] or None,
        body=message.body,
        status_callback=public_url(f"/sms/status?m={message.id}"),
    )
    return created.sid


def earlier_send(message: SmsMessage) -> str | None:
    """The sid of a message an earlier, interrupted attempt may already have made."""
    recent = twilio_client().messages.list(to=message.to_phone, limit=50)
    for found in recent:
        if is_earlier_send(message, found.body, found.date_created):
            return found.sid
    return None
