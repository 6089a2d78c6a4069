"""Reading a letter's record for the console: letters and calls by phone, calls about a letter.

The lookup by (number, date) itself is `domain.letters.lookup.find_transactions`, shared with the IVR.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from domain.clock import utcnow
from extensions import db
from models import Call, Transaction, TransactionEvent

RECENT_CALLS = 20
RECENT_CALL_DAYS = 90
PHONE_MATCHES = 50


def transactions_for_phone(e164: str) -> list[Transaction]:
    """Letters whose citizen phone is this number, newest first."""
    rows = db.session.scalars(
        select(Transaction)
        .where(Transaction.citizen_phone == e164)
        .order_by(Transaction.date.desc(), Transaction.id.desc())
        .limit(PHONE_MATCHES)
    )
    return list(rows.unique())


def recent_calls_from(e164: str, now: datetime | None = None) -> list[Call]:
    """This caller's calls of the last few months, newest first, with the letter each asked for."""
    since = (now or utcnow()) - timedelta(days=RECENT_CALL_DAYS)
    return list(
        db.session.scalars(
            select(Call)
            .where(Call.caller == e164, Call.started_at >= since)
            .options(selectinload(Call.transaction), selectinload(Call.agent))
            .order_by(Call.started_at.desc())
            .limit(RECENT_CALLS)
        )
    )


def recent_calls_about(transaction_id: int) -> list[Call]:
    return list(
        db.session.scalars(
            select(Call)
            .where(Call.transaction_id == transaction_id)
            .options(selectinload(Call.agent))
            .order_by(Call.started_at.desc())
            .limit(RECENT_CALLS)
        )
    )


def transaction_history(transaction_id: int) -> list[TransactionEvent]:
    """Status and holder changes, newest first, with the entities loaded for display."""
    return list(
        db.session.scalars(
            select(TransactionEvent)
            .where(TransactionEvent.transaction_id == transaction_id)
            .options(selectinload(TransactionEvent.holder), selectinload(TransactionEvent.previous_holder))
            .order_by(TransactionEvent.status_date.desc(), TransactionEvent.id.desc())
        )
    )
