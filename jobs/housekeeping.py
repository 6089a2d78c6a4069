"""The `housekeeping` queue's periodic jobs: the outbox sweep, abandoned queue calls, complaints'
SLA and appeal days, retention.

Each is idempotent (it works from what the database says now), so running one twice, or
on two workers at once, does no harm. `jobs.schedule` keeps them scheduled.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, or_, select, update

from domain.calls.recordings import purge_recordings
from domain.clock import utcnow
from domain.complaints.upkeep import purge_personal_data
from domain.email import OUTBOX as EMAIL_OUTBOX
from domain.letters.import_jobs import COMMAND_LINE, enqueue_import, purge_abandoned_uploads
from domain.outbox import Outbox
from domain.sms import OUTBOX as SMS_OUTBOX
from extensions import db
from jobs.context import job
from models import (
    Call,
    CallEvent,
    EmailMessage,
    EmailStatus,
    ImportJob,
    ImportState,
    LookupAttempt,
    OneTimeCode,
    Outcome,
    PendingAttachment,
    PendingComplaint,
    SmsMessage,
    SmsStatus,
    TrackRequest,
)
from models.complaint_pending import PENDING_HOURS, TRACK_REQUEST_DAYS

log = logging.getLogger(__name__)
PENDING_GRACE = timedelta(seconds=10)  # the request that made a row enqueues it itself
SWEEP_LIMIT = 1000  # rows per run: a backlog drains over several runs, none of them long


# --- the outbox sweep --------------------------------------------------------------


@job
def sweep_outbox() -> dict:
    """Rows that never reached a queue, or whose worker died, are enqueued (again): SMS and e-mail."""
    config = current_app.config
    moment = utcnow()
    counts = sweep_one(SMS_OUTBOX, config, moment)
    email = sweep_one(EMAIL_OUTBOX, config, moment)
    counts.update({f"email_{name}": count for name, count in email.items()})
    counts["imports"] = requeue_imports(moment)
    if any(counts.values()):
        log.info("outbox sweep: %s", counts)
    return counts


def sweep_one(outbox: Outbox, config, moment: datetime) -> dict:
    """One outbox: rows stuck "sending" back to pending, rows out of attempts failed, pending
    rows enqueued, queued rows whose job Redis lost enqueued again."""
    stuck_before = moment - timedelta(seconds=config[outbox.sending_timeout_setting])
    reset = outbox.reset_stuck(stuck_before, moment)
    exhausted = outbox.fail_exhausted(config, moment)
    db.session.commit()
    pending = outbox.pending_ids(moment - PENDING_GRACE, SWEEP_LIMIT)
    enqueued = sum(outbox.enqueue(message_id) for message_id in pending)
    lost = requeue_lost(stuck_before, outbox)
    return {"reset": reset, "failed": exhausted, "enqueued": enqueued, "lost": lost}


def job_exists(job_id: str) -> bool:
    from jobs import job_is_live

    return job_is_live(job_id)


def requeue_lost(before: datetime, outbox: Outbox) -> int:
    """Rows marked queued whose job will not run: Redis restarted without its data, or RQ
    gave up its retries while the outbox's most attempts allow more."""
    if not current_app.config["REDIS_URL"]:
        return 0
    queued = outbox.queued_ids(before, SWEEP_LIMIT)
    lost = [message_id for message_id in queued if not job_exists(outbox.job_id(message_id))]
    for message_id in lost:
        outbox.back_to_pending(message_id)
        outbox.enqueue(message_id)
    return len(lost)


def requeue_imports(moment: datetime) -> int:
    """Imports whose job is gone: still pending a minute after they were asked for (the job
    never got queued), or running with no job left in Redis (its worker died and Redis lost
    the job). Running one again is safe: the importer resumes after the last line it committed."""
    # A pending import's job is queued just after its row is committed: give it a minute.
    orphaned = and_(ImportJob.state == ImportState.pending, ImportJob.created_at < moment - timedelta(minutes=1))
    if current_app.config["REDIS_URL"]:  # inline (no Redis), a running import is in a live process
        orphaned = or_(orphaned, ImportJob.state == ImportState.running)
    # A command-line import has no job: it is resumed by running the command again. An upload
    # still arriving (no SHA-256 yet) is not run; if it never completes, the purge removes it.
    orphaned = and_(orphaned, ImportJob.source != COMMAND_LINE, ImportJob.file_sha256.is_not(None))
    waiting = db.session.scalars(select(ImportJob.id).where(orphaned)).all()
    if current_app.config["REDIS_URL"]:
        waiting = [i for i in waiting if not job_exists(f"import-{i}")]
    return sum(enqueue_import(import_id) for import_id in waiting)


# --- calls left in the queue -------------------------------------------------------


@job
def close_abandoned_calls() -> int:
    """Calls "in queue" for hours with no status callback: Twilio's callback was lost.

    They are closed as abandoned so that the consoles' queue and the KPIs stop counting them.
    """
    moment = utcnow()
    cutoff = moment - timedelta(hours=current_app.config["ABANDONED_QUEUE_HOURS"])
    closed = db.session.execute(
        update(Call.__table__)
        .where(
            Call.__table__.c.queued_at < cutoff,
            Call.__table__.c.queue_left_at.is_(None),
            Call.__table__.c.ended_at.is_(None),
            Call.__table__.c.answered_at.is_(None),
        )
        .values(queue_left_at=moment, queue_result="abandoned", ended_at=moment, outcome=Outcome.abandoned_in_queue)
    ).rowcount
    db.session.commit()
    if closed:
        log.info("closed %s calls left in the queue without a status callback", closed)
        from domain.live import publish

        publish("queue")  # the consoles redraw their queue
    return closed


# --- complaints ------------------------------------------------------------------------


@job
def escalate_complaints() -> int:
    """Open complaints past their SLA: escalated once each, supervisors told."""
    from domain.complaints.upkeep import escalate_overdue

    return len(escalate_overdue())


@job
def close_complaints() -> int:
    """Resolved or rejected complaints nobody contested within the appeal days: closed."""
    from domain.complaints.upkeep import close_after_appeal_days

    closed = close_after_appeal_days()
    if closed:
        log.info("closed %s complaints after their appeal days", len(closed))
    return len(closed)


# --- routing -----------------------------------------------------------------------


@job
def route_calls() -> dict:
    """The periodic routing round: agents whose consoles went quiet are set Offline, offers that
    ran out end ("missed"), and waiting callers are offered, when no event did it already."""
    from domain.calls.offers import route

    return route()


# --- retention ---------------------------------------------------------------------


@job
def purge_retention() -> dict:
    """Delete what is older than its configured retention: call steps, lookups, SMS, e-mail, call
    recordings (at Twilio),
    the chunks of uploads that never completed or whose import ended, and closed complaints'
    personal data (the complaints themselves stay, for the reports)."""
    config = current_app.config
    moment = utcnow()
    counts = {
        "call_events": _purge(CallEvent, CallEvent.created_at, moment, config["CALL_EVENT_RETENTION_DAYS"]),
        "lookup_attempts": _purge(
            LookupAttempt, LookupAttempt.created_at, moment, config["LOOKUP_ATTEMPT_RETENTION_DAYS"]
        ),
        "sms_messages": _purge(
            SmsMessage, SmsMessage.created_at, moment, config["SMS_RETENTION_DAYS"], SmsMessage.status.in_(FINISHED_SMS)
        ),
        "email_messages": _purge(
            EmailMessage,
            EmailMessage.created_at,
            moment,
            config["EMAIL_RETENTION_DAYS"],
            EmailMessage.status.in_(FINISHED_EMAIL),
        ),
        "recordings": purge_recordings(moment, config["RECORDING_RETENTION_DAYS"]),
        "abandoned_uploads": purge_abandoned_uploads(moment, config["IMPORT_UPLOAD_ABANDONED_HOURS"]),
        "complaints": purge_personal_data(moment),
        # What a citizen typed or was sent on the way to a complaint: kept hours, not days.
        "one_time_codes": _purge(OneTimeCode, OneTimeCode.expires_at, moment, 1),
        "complaint_track_requests": _purge(TrackRequest, TrackRequest.created_at, moment, TRACK_REQUEST_DAYS),
        "complaint_drafts": purge_stale_drafts(moment),
    }
    log.info("retention purge: %s", counts)
    return counts


FINISHED_SMS = (SmsStatus.sent, SmsStatus.delivered, SmsStatus.undelivered, SmsStatus.failed, SmsStatus.suppressed)
FINISHED_EMAIL = (EmailStatus.sent, EmailStatus.failed, EmailStatus.suppressed)


def purge_stale_drafts(moment: datetime) -> int:
    """Complaints being written on the public form, untouched for PENDING_HOURS, with their files
    (deleted first: SQLite does not cascade)."""
    stale = select(PendingComplaint.id).where(PendingComplaint.updated_at < moment - timedelta(hours=PENDING_HOURS))
    db.session.execute(
        delete(PendingAttachment)
        .where(PendingAttachment.pending_id.in_(stale))
        .execution_options(synchronize_session=False)
    )
    deleted = db.session.execute(
        delete(PendingComplaint).where(PendingComplaint.id.in_(stale)).execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return deleted


def _purge(model, column, moment: datetime, days: int, *conditions) -> int:
    if days <= 0:  # 0 or less: keep for ever
        return 0
    deleted = db.session.execute(
        delete(model)
        .where(column < moment - timedelta(days=days), *conditions)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return deleted
