"""Do the housekeeping jobs close forgotten queue calls, purge by age, and stay scheduled once?"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from extensions import db
from jobs import failure_ttl_s, queue_name, redis_job_id
from jobs.housekeeping import close_abandoned_calls, purge_retention
from jobs.schedule import ensure_schedule, periodic_job_id
from models import Call, CallEvent, CallRecording, LookupAttempt, Outcome, SmsKind, SmsMessage, SmsStatus
from tests.support.jobs import add_letter, run_worker, worker_env

NOW = datetime.now(timezone.utc)


def a_call(sid: str, queued_hours_ago: float, **fields) -> Call:
    call = Call(
        sid=sid,
        caller="+9647501234567",
        started_at=NOW - timedelta(hours=queued_hours_ago + 0.1),
        queued_at=NOW - timedelta(hours=queued_hours_ago),
        **fields,
    )
    db.session.add(call)
    db.session.commit()
    return call


def test_calls_left_in_the_queue_for_hours_are_closed_as_abandoned(app_context):
    forgotten = a_call("CA" + "a" * 32, 5)
    waiting = a_call("CA" + "b" * 32, 0.5)
    answered = a_call("CA" + "c" * 32, 6, answered_at=NOW - timedelta(hours=5))
    assert close_abandoned_calls() == 1
    db.session.expire_all()
    assert forgotten.outcome == Outcome.abandoned_in_queue and forgotten.queue_left_at is not None
    assert waiting.queue_left_at is None and answered.outcome is None
    assert close_abandoned_calls() == 0  # running it again changes nothing


def test_old_call_events_lookups_and_sent_sms_are_purged(app, app_context):
    call = a_call("CA" + "d" * 32, 1)
    old, recent = NOW - timedelta(days=400), NOW - timedelta(days=5)
    db.session.add_all(
        [
            CallEvent(call_id=call.id, dedupe_key="old", step="menu", created_at=old),
            CallEvent(call_id=call.id, dedupe_key="new", step="menu", created_at=recent),
            LookupAttempt(dedupe_key="l-old", caller_key="x", number="1", found=False, created_at=old),
            LookupAttempt(dedupe_key="l-new", caller_key="x", number="1", found=False, created_at=recent),
        ]
    )
    letter = add_letter()
    for key, status in (("s-sent", SmsStatus.delivered), ("s-pending", SmsStatus.pending)):
        db.session.add(
            SmsMessage(
                idempotency_key=key,
                to_phone="+9647501234567",
                body="x",
                language="ar",
                kind=SmsKind.status,
                status=status,
                transaction_id=letter.id,
                created_at=old,
            )
        )
    db.session.commit()
    counts = purge_retention()
    assert counts == {
        "call_events": 1,
        "lookup_attempts": 1,
        "sms_messages": 1,
        "email_messages": 0,
        "recordings": 0,
        "abandoned_uploads": 0,
        "complaints": 0,
        "one_time_codes": 0,
        "complaint_track_requests": 0,
        "complaint_drafts": 0,
    }
    assert db.session.scalar(select(func.count()).select_from(CallEvent)) == 1
    # A message not yet sent is never purged, however old: it is still owed to someone.
    assert db.session.scalars(select(SmsMessage.idempotency_key)).all() == ["s-pending"]


def test_failed_jobs_are_kept_no_longer_than_the_data_they_name(app):
    assert failure_ttl_s(app.config) == 7 * 86400
    app.config["SMS_RETENTION_DAYS"] = 3
    try:
        assert failure_ttl_s(app.config) == 3 * 86400
    finally:
        app.config["SMS_RETENTION_DAYS"] = 180


def test_periodic_jobs_are_scheduled_once_however_many_workers_start(app, app_context, redis_url):
    connection = app.extensions.get("hotline.redis", {}).get(redis_url) or __import__("jobs").redis_connection()
    first = ensure_schedule(connection)
    assert len(first) == 6
    assert ensure_schedule(connection) == []  # a second worker starting finds them scheduled
    scheduled = ScheduledJobRegistry(queue_name("housekeeping"), connection=connection).get_job_ids()
    assert sorted(scheduled) == sorted(
        redis_job_id(periodic_job_id(name))
        for name in (
            "jobs.housekeeping.sweep_outbox",
            "jobs.housekeeping.close_abandoned_calls",
            "jobs.housekeeping.purge_retention",
            "jobs.housekeeping.escalate_complaints",
            "jobs.housekeeping.close_complaints",
            "jobs.housekeeping.route_calls",
        )
    )
    sweep = Job.fetch(redis_job_id(periodic_job_id("jobs.housekeeping.sweep_outbox")), connection=connection)
    assert sweep.repeats_left > 1000 and sweep.retries_left == 1 and sweep.timeout == 120


def test_a_housekeeping_worker_runs_a_due_job_and_schedules_its_next_run(app, app_context, database_url, redis_url):
    a_call("CA" + "e" * 32, 9)
    db.session.remove()
    # Every periodic job is due at once: the worker's scheduler enqueues them, the worker runs them.
    env = worker_env(
        app,
        database_url,
        redis_url,
        "http://127.0.0.1:1",
        OUTBOX_SWEEP_INTERVAL_S=1,
        HOUSEKEEPING_INTERVAL_S=1,
        COMPLAINT_ESCALATION_INTERVAL_S=1,
    )
    run_worker(env, "housekeeping")  # schedules them (1 s ahead) and stops: nothing is due yet
    time.sleep(1.5)
    run_worker(env, "housekeeping")  # its scheduler enqueues the due jobs; it runs them
    assert db.session.scalars(select(Call)).one().outcome == Outcome.abandoned_in_queue
    connection = __import__("jobs").redis_connection()
    # Each run was repeated: the next one is scheduled again under the same id.
    scheduled = ScheduledJobRegistry(queue_name("housekeeping"), connection=connection).get_job_ids()
    assert redis_job_id(periodic_job_id("jobs.housekeeping.close_abandoned_calls")) in scheduled


def test_what_a_citizen_typed_or_was_sent_on_the_way_to_a_complaint_goes_within_hours(app_context):
    from models import CodePurpose, OneTimeCode, PendingAttachment, PendingComplaint, TrackRequest

    now = datetime.now(timezone.utc)
    for age in (timedelta(hours=4), timedelta(minutes=30)):
        draft = PendingComplaint(token=f"t{age.seconds}", fields="{}", updated_at=now - age)
        db.session.add(draft)
        db.session.flush()
        db.session.add(
            PendingAttachment(
                pending_id=draft.id, filename="a.png", content_type="image/png", size=1, sha256="0" * 64, data=b"x"
            )
        )
    db.session.add_all(
        [
            OneTimeCode(
                purpose=CodePurpose.complaint,
                channel="sms",
                destination="+9647501234567",
                code_hash="h",
                expires_at=now - timedelta(days=2),
            ),
            OneTimeCode(
                purpose=CodePurpose.complaint,
                channel="sms",
                destination="+9647501234567",
                code_hash="h",
                expires_at=now + timedelta(minutes=5),
            ),
            TrackRequest(requester="r", destination="d", created_at=now - timedelta(days=2)),
            TrackRequest(requester="r", destination="d", created_at=now),
        ]
    )
    db.session.commit()
    counts = purge_retention()
    assert (counts["one_time_codes"], counts["complaint_track_requests"], counts["complaint_drafts"]) == (1, 1, 1)
    assert db.session.scalar(select(func.count()).select_from(PendingAttachment)) == 1
    assert db.session.scalar(select(func.count()).select_from(PendingComplaint)) == 1


def test_recordings_past_their_retention_are_deleted_at_twilio_and_marked(app, app_context, twilio_api, monkeypatch):
    import jobs.housekeeping as housekeeping

    moment = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(housekeeping, "utcnow", lambda: moment)
    monkeypatch.setitem(app.config, "RECORDING_RETENTION_DAYS", 90)
    call = a_call("CA" + "e" * 32, 1)
    old, kept, gone = twilio_api.add_recording(), twilio_api.add_recording(), twilio_api.add_recording()
    rows = {
        sid: CallRecording(
            call_id=call.id, recording_sid=sid, status="completed", created_at=moment - timedelta(days=d)
        )
        for sid, d in ((old, 91), (kept, 89), (gone, 200))
    }
    db.session.add_all(rows.values())
    db.session.commit()
    twilio_api.recordings.pop(gone)  # already deleted at Twilio: its 404 counts as deleted
    assert purge_retention()["recordings"] == 2
    assert set(twilio_api.recordings) == {kept}
    deletes = [r.path for r in twilio_api.recording_requests() if r.method == "DELETE"]
    assert (
        sorted(deletes) == sorted(p for p in deletes if p.endswith((f"/{old}.json", f"/{gone}.json")))
        and len(deletes) == 2
    )
    db.session.expire_all()
    assert {sid: row.deleted_at for sid, row in rows.items()} == {old: moment, kept: None, gone: moment}
    # Twilio refusing: the row stays undeleted, tried again at the next purge.
    monkeypatch.setattr(housekeeping, "utcnow", lambda: moment + timedelta(days=2))
    twilio_api.fail("DELETE", r"/Recordings/", 500)
    assert purge_retention()["recordings"] == 0
    db.session.expire_all()
    assert rows[kept].deleted_at is None and kept in twilio_api.recordings
