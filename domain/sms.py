"""Text messages: the bodies (from catalogs), the outbox and its rules, the safety rule, subscriptions.

Every SMS is a row in `sms_message` first; only after that row is committed is a job
enqueued to send it (`dispatch_outbox`). If Redis is down the row stays `pending` and the
housekeeping sweep enqueues it later, so nothing is lost between the two steps.

The rules of a row's life are all here: what may be sent (the safety rule), who may send it
(`claim_for_sending`), how an attempt ends (`finish_sending`, `release_after_failure`: retry or
give up), and what Twilio's delivery callbacks change (`record_delivery_status`). The model
holds the columns, the `sms` job talks to Twilio, the callback route parses Twilio's form.
"""

from __future__ import annotations

import logging
import math
import tomllib
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

import phonenumbers
from flask import current_app
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from domain.clock import utcnow
from domain.db.ids import row_id as parse_row_id
from domain.languages import language_or_default
from domain.outbox import Outbox
from domain.phones import is_mobile
from extensions import db
from models import (
    SmsKind,
    SmsMessage,
    SmsStatus,
    Subscription,
    Transaction,
    TransactionEvent,
)
from voice_prompts import CATALOG_DIR

log = logging.getLogger(__name__)
# The rules every outbox shares (domain/outbox.py): a row made once, its job, the claim, a retry.
OUTBOX = Outbox("sms", SmsMessage, SmsStatus, "SMS_MAX_ATTEMPTS", "SMS_SENDING_TIMEOUT_S", "jobs.sms.send_sms")
OUTBOX_KEY = OUTBOX.session_key  # session.info: rows to enqueue once they are committed
MAX_SEGMENTS = 2
ELLIPSIS = "…"
# TransactionEvent.source of every change the demo seeds (demo/letters.py): how demo letters are known.
DEMO_SOURCE = "demo"

# GSM 03.38: the basic set costs one septet a character, the extension set two.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = set("^{}\\[~]|€\f")


# --- bodies ------------------------------------------------------------------------


@lru_cache(maxsize=None)
def sms_catalog(language: str) -> dict:
    with open(CATALOG_DIR / f"sms_{language}.toml", "rb") as handle:
        return tomllib.load(handle)


def segments(text: str) -> int:
    """How many SMS parts a text costs: GSM-7 when every character allows, else UCS-2."""
    if all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text):
        septets = sum(2 if ch in GSM_EXTENSION else 1 for ch in text)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def sms_date(value) -> str:
    return value.strftime("%d/%m/%Y")  # as dates are written on Iraqi letters


def sms_body(kind: SmsKind, transaction: Transaction, language: str) -> str:
    """Status, holder and date only; the holder's name is shortened to stay within two parts."""
    language = language_or_default(language)
    texts = sms_catalog(language)
    template = texts["messages"]["notification" if kind is SmsKind.notification else "status"]
    holder = transaction.holder.name(language)
    values = {"status": texts["status"][transaction.status.value], "date": sms_date(transaction.status_date)}
    body = template.format(holder=holder, **values)
    while segments(body) > MAX_SEGMENTS and len(holder) > 1:
        holder = holder[:-2].rstrip() + ELLIPSIS
        body = template.format(holder=holder, **values)
    return body


# --- the safety rule ---------------------------------------------------------------


def is_real_twilio(base_url: str) -> bool:
    host = (urlsplit(base_url).hostname or "").lower()
    return host == "twilio.com" or host.endswith(".twilio.com")


def is_demo_letter(transaction_id: int | None) -> bool:
    if transaction_id is None:
        return False
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    TransactionEvent.transaction_id == transaction_id,
                    TransactionEvent.source == DEMO_SOURCE,
                )
            )
        )
    )


def suppression_reason(message: SmsMessage, config) -> str | None:
    """Why this message must not reach Twilio, or None when it may.

    The rule: nothing is sent when SMS_ENABLED is off; nothing about a letter the demo
    seeded (its phones look like real Iraqi mobiles); and outside production nothing
    goes to Twilio's real API: only to a stand-in at another TWILIO_API_BASE_URL.
    """
    if not config["SMS_ENABLED"]:
        return "sms disabled"
    if config["APP_ENV"] != "production" and is_real_twilio(config["TWILIO_API_BASE_URL"]):
        return f"real Twilio API outside production ({config['APP_ENV']})"
    if is_demo_letter(message.transaction_id):
        return "demo letter"
    return None


# --- who may be sent a message: allowed countries, a daily cap per number -------------

CAP_WINDOW = timedelta(hours=24)


def country_code(e164: str) -> str | None:
    try:
        return str(phonenumbers.parse(e164, None).country_code)
    except phonenumbers.NumberParseException:
        return None


def may_text(phone: str | None) -> bool:
    """Whether a number may be sent SMS at all: a mobile in one of SMS_ALLOWED_COUNTRY_CODES.

    Anything else (a landline, a withheld number, a mobile abroad: SMS pumping runs up the
    bill on foreign premium ranges) gets no message, whoever asks.
    """
    if phone is None or not is_mobile(phone):
        return False
    return country_code(phone) in current_app.config["SMS_ALLOWED_COUNTRY_CODES"]


# Letters' SMS and complaints' SMS (notices, one-time codes) are capped apart: a citizen
# following a complaint must not lose the letters' messages, nor the other way round.
COMPLAINT_KINDS = (SmsKind.complaint, SmsKind.code)


def sent_today(phone: str, kinds=None, now: datetime | None = None) -> int:
    """Rows to this number in the last 24 h (of `kinds`), counted in the database so every node agrees."""
    since = (now or utcnow()) - CAP_WINDOW
    query = select(func.count()).where(SmsMessage.to_phone == phone, SmsMessage.created_at >= since)
    if kinds is not None:
        query = query.where(SmsMessage.kind.in_(kinds))
    return db.session.scalar(query) or 0


def over_daily_cap(phone: str, kind: SmsKind = SmsKind.status) -> bool:
    config = current_app.config
    if kind in COMPLAINT_KINDS:
        return sent_today(phone, COMPLAINT_KINDS) >= config["COMPLAINT_SMS_MAX_PER_DESTINATION_DAY"]
    letter_kinds = [k for k in SmsKind if k not in COMPLAINT_KINDS]
    return sent_today(phone, letter_kinds) >= config["SMS_MAX_PER_DESTINATION_DAY"]


# --- the outbox --------------------------------------------------------------------


def queue_sms(
    *,
    to: str,
    kind: SmsKind,
    language: str,
    key: str,
    transaction: Transaction | None = None,
    body: str | None = None,
    complaint_id: int | None = None,
    call_id: int | None = None,
    user_id: int | None = None,
) -> SmsMessage | None:
    """The outbox row for one message, made once per idempotency key; the caller commits.

    The body is a letter's status (`transaction`) or given (`body`: a complaint's notice, a
    one-time code). None, and no row, for a number that may not be sent SMS (`may_text`) or
    that had its day's SMS of this family already; a replay of an earlier request still
    finds its row. After the commit, `dispatch_outbox()` enqueues the rows made in this session.
    """
    key = key[:64]
    found = OUTBOX.made_for(key)
    if found is not None:
        return found
    if not may_text(to):
        return None
    if over_daily_cap(to, kind):
        log.warning("sms to %s refused: daily cap reached", to[:-4] + "****")
        return None
    language = language_or_default(language)
    if body is None:
        if transaction is None:
            raise ValueError("an SMS needs a letter or a body")
        body = sms_body(kind, transaction, language)
    message = SmsMessage(
        idempotency_key=key,
        to_phone=to,
        body=body,
        language=language,
        kind=kind,
        status=SmsStatus.pending,
        transaction_id=transaction.id if transaction is not None else None,
        complaint_id=complaint_id,
        call_id=call_id,
        user_id=user_id,
    )
    return OUTBOX.add_once(message)


# After the request's commit: the rows this session made, to the `sms` queue (never raises).
dispatch_outbox = OUTBOX.dispatch
# One committed row to the `sms` queue, `pending` -> `queued` once Redis took it (the sweep's too).
enqueue_sms = OUTBOX.enqueue
job_id = OUTBOX.job_id


# --- sending: one attempt's claim, its end, a retry or giving up ---------------------

# Statuses a worker may claim; everything else is taken or finished.
CLAIMABLE = OUTBOX.claimable()
# Twilio errors that a retry cannot fix (bad number, unsubscribed, blocked region...).
PERMANENT_HTTP = {400, 401, 403, 404}
RECONCILE_SLACK = timedelta(minutes=2)  # clock skew between us and Twilio


def claim_for_sending(message_id: int) -> int | None:
    """pending/queued -> sending in one UPDATE; the attempt number, or None if not ours.
    A row that has a Twilio sid was sent: never claimed again."""
    return OUTBOX.claim(message_id, SmsMessage.__table__.c.twilio_sid.is_(None))


def finish_sending(
    message_id: int, attempt: int, status: SmsStatus, *, sid: str | None = None, error: str | None = None
) -> None:
    values = {"twilio_sid": sid, "sent_at": utcnow()} if sid else {}
    OUTBOX.finish(message_id, attempt, status, error=error, **values)


def is_permanent(http_status: int | None) -> bool:
    """Whether Twilio's refusal is one that no retry can fix."""
    return http_status in PERMANENT_HTTP


def release_after_failure(message_id: int, attempt: int, error: str, config, *, retried_by_rq: bool) -> bool:
    """Give the row back after a transient failure; out of attempts, it has failed (True)."""
    return OUTBOX.release_after_failure(message_id, attempt, error, config, retried_by_rq=retried_by_rq)


def is_earlier_send(message: SmsMessage, body: str, created: datetime | None) -> bool:
    """Whether a message Twilio lists for this number is this row, sent by an interrupted attempt."""
    return body == message.body and (created is None or created >= message.created_at - RECONCILE_SLACK)


# --- Twilio's delivery callbacks -------------------------------------------------------

# Twilio's MessageStatus values that we keep, and how far along each is: a late "sent"
# must not overwrite an earlier "delivered" (Twilio does not promise the order).
RANK = {
    SmsStatus.sending: 1,
    SmsStatus.sent: 2,
    SmsStatus.delivered: 3,
    SmsStatus.undelivered: 3,
    SmsStatus.failed: 3,
}
TWILIO_STATUS = {
    "sent": SmsStatus.sent,
    "delivered": SmsStatus.delivered,
    "undelivered": SmsStatus.undelivered,
    "failed": SmsStatus.failed,
}


def message_for(sid: str, row_id: str) -> SmsMessage | None:
    # The row id travels in the callback URL too: Twilio may call back before our
    # worker has stored the sid it was given.
    conditions = [SmsMessage.twilio_sid == sid] if sid else []
    if (message_id := parse_row_id(row_id)) is not None:
        conditions.append(SmsMessage.id == message_id)
    if not conditions:
        return None
    return db.session.scalars(select(SmsMessage).where(or_(*conditions))).first()


def record_delivery_status(*, sid: str, row_id: str, twilio_status: str, error_code: str) -> bool:
    """What Twilio says became of a message, onto its row (committed); False when it changes nothing."""
    new = TWILIO_STATUS.get(twilio_status)
    message = message_for(sid, row_id)
    if message is None or new is None:
        return False
    if message.twilio_sid and sid and message.twilio_sid != sid:
        return False  # a callback for another message of ours: not this row
    if RANK.get(new, 0) < RANK.get(message.status, 0):
        return False
    message.status = new
    message.status_at = utcnow()
    if sid and message.twilio_sid is None:
        message.twilio_sid = sid
    if new in {SmsStatus.failed, SmsStatus.undelivered} and error_code:
        message.error = f"twilio {error_code}"
    db.session.commit()
    return True


# --- what the IVR and the console ask for --------------------------------------------


def send_status_sms(
    *,
    transaction: Transaction,
    phone: str | None,
    language: str,
    kind: SmsKind,
    key: str,
    call_id: int | None = None,
    user_id: int | None = None,
) -> SmsMessage | None:
    """The status of a letter by SMS to a mobile number; None when none may be sent to it.

    None: no mobile, a country outside SMS_ALLOWED_COUNTRY_CODES, or its daily cap reached.

    The console's "send status by SMS" button calls this with kind=SmsKind.agent and a key
    such as f"agent-{call_id}-{transaction.id}", then commits and calls dispatch_outbox().
    """
    if phone is None or not may_text(phone):
        return None
    return queue_sms(
        to=phone, kind=kind, language=language, transaction=transaction, key=key, call_id=call_id, user_id=user_id
    )


def subscribe(*, phone: str, transaction: Transaction, language: str, call_id: int | None = None) -> Subscription:
    """One subscription per phone and letter; asking again re-activates it."""
    query = select(Subscription).where(Subscription.phone == phone, Subscription.transaction_id == transaction.id)
    found = db.session.scalar(query)
    if found is None:
        found = Subscription(
            phone=phone, transaction_id=transaction.id, language=language, call_id=call_id, active=True
        )
        try:
            with db.session.begin_nested():
                db.session.add(found)
        except IntegrityError:  # the same subscription, made at the same moment elsewhere
            again = db.session.scalar(query)
            if again is None:  # another constraint failed: not a duplicate
                raise
            found = again
    found.active = True
    found.language = language
    return found


def notify_subscribers(transaction_ids) -> int:
    """A notification row for each active subscriber of each changed letter; the caller commits.

    Keyed by subscription and by the letter's latest event, so running this twice for the
    same change (a retried job, a re-sent request) makes no second message.
    """
    ids = sorted(set(transaction_ids))
    if not ids:
        return 0
    subscriptions = db.session.scalars(
        select(Subscription).where(Subscription.transaction_id.in_(ids), Subscription.active.is_(True))
    ).all()
    made = 0
    for subscription in subscriptions:
        latest = db.session.scalar(
            select(TransactionEvent.id)
            .where(TransactionEvent.transaction_id == subscription.transaction_id)
            .order_by(TransactionEvent.id.desc())
            .limit(1)
        )
        message = queue_sms(
            to=subscription.phone,
            kind=SmsKind.notification,
            language=subscription.language,
            transaction=subscription.transaction,
            key=f"notify-{subscription.id}-{latest or 0}",
        )
        made += message is not None
    return made
