"""The outbox rules both kinds share: a row made once per key, then handed to its queue after the commit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

import jobs
from domain.email import OUTBOX
from extensions import db
from models import EmailMessage, EmailStatus


def email(key: str, subject: str | None = "s") -> EmailMessage:
    return EmailMessage(idempotency_key=key, to_address="ali@example.org", subject=subject, body="b", language="en")


def rows() -> int:
    return db.session.scalar(select(func.count()).select_from(EmailMessage))


def test_a_key_another_request_took_at_the_same_moment_gives_its_row(app_context):
    earlier = email("same")
    db.session.add(earlier)
    db.session.commit()  # the other request, committed between our lookup and our insert

    found = OUTBOX.add_once(email("same"))

    assert found.id == earlier.id and rows() == 1
    assert OUTBOX.session_key not in db.session.info  # nothing of ours to enqueue
    db.session.commit()  # the session is still usable: only the savepoint was rolled back
    assert OUTBOX.dispatch() == 0


def test_another_constraint_failing_is_not_taken_for_the_same_request(app_context):
    with pytest.raises(IntegrityError):
        OUTBOX.add_once(email("no-subject", subject=None))
    db.session.rollback()
    assert rows() == 0


def test_dispatch_enqueues_each_new_row_once_and_a_failure_leaves_its_row_for_the_sweep(app_context, monkeypatch):
    first = OUTBOX.add_once(email("first"))
    second = OUTBOX.add_once(email("second"))
    db.session.commit()
    real_enqueue = jobs.enqueue

    def enqueue(name, message_id, **options):
        if message_id == first.id:
            raise RuntimeError("queue unreachable")
        return real_enqueue(name, message_id, **options)

    monkeypatch.setattr(jobs, "enqueue", enqueue)

    assert OUTBOX.dispatch() == 1  # the failure is logged, not raised
    assert OUTBOX.dispatch() == 0  # each row is handed over once
    assert db.session.get(EmailMessage, first.id, populate_existing=True).status is EmailStatus.pending
    # Without Redis the job ran inline; without SMTP_HOST it kept the row, suppressed.
    assert db.session.get(EmailMessage, second.id, populate_existing=True).status is EmailStatus.suppressed
