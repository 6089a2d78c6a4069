"""Background jobs on RQ: queues named by purpose, jobs enqueued by dotted name.

The web tier imports only this module, never the job functions themselves: it names a job
("jobs.sms.send_sms") and passes ids. With no REDIS_URL (the embedded default) the same
job function runs inline, in the web process, right away.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app, has_request_context
from werkzeug.utils import import_string

log = logging.getLogger(__name__)

QUEUES = ("sms", "email", "imports", "housekeeping")
DAY_S = 86400
LIVE_JOB_STATES = {"queued", "scheduled", "started", "deferred"}


@dataclass(frozen=True)
class JobSpec:
    """How one kind of job runs: its queue, how long it may take, how it is retried."""

    queue: str
    timeout_s: int
    retries: int = 0
    intervals: list[int] = field(default_factory=list)


SPECS = {
    # Twilio answers in well under a second; 30 s covers its 10 s REST timeout with room.
    "jobs.sms.send_sms": JobSpec("sms", 30, retries=4, intervals=[10, 60, 300, 900]),
    # An SMTP session is a few round trips, each within SMTP_TIMEOUT_S (10 s by default).
    "jobs.email.send_email": JobSpec("email", 60, retries=4, intervals=[10, 60, 300, 900]),
    "jobs.imports.run_import": JobSpec("imports", 3600, retries=2, intervals=[60, 600]),
    "jobs.housekeeping.sweep_outbox": JobSpec("housekeeping", 120, retries=1, intervals=[30]),
    "jobs.housekeeping.close_abandoned_calls": JobSpec("housekeeping", 300, retries=1, intervals=[60]),
    "jobs.housekeeping.purge_retention": JobSpec("housekeeping", 1800, retries=1, intervals=[300]),
    "jobs.housekeeping.escalate_complaints": JobSpec("housekeeping", 300, retries=1, intervals=[60]),
    "jobs.housekeeping.close_complaints": JobSpec("housekeeping", 600, retries=1, intervals=[60]),
    "jobs.housekeeping.route_calls": JobSpec("housekeeping", 60, retries=0),
}


def failure_ttl_s(config) -> int:
    """How long a failed job (ids and an error text) is kept: never past the data it names."""
    shortest = min(
        config["JOB_FAILURE_TTL_DAYS"],
        config["SMS_RETENTION_DAYS"],
        config["EMAIL_RETENTION_DAYS"],
        config["CALL_EVENT_RETENTION_DAYS"],
        config["LOOKUP_ATTEMPT_RETENTION_DAYS"],
    )
    return max(1, shortest) * DAY_S


def redis_connection(url: str | None = None):
    """One Redis client per app and URL for work outside web requests (the sweep, the
    scheduler), made on first use (never at import or in the factory). Web requests use
    domain.redis_guard's client, whose timeouts are shorter."""
    import redis

    url = url or current_app.config["REDIS_URL"]
    cache = current_app.extensions.setdefault("hotline.redis", {})
    if url not in cache:
        cache[url] = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    return cache[url]


def queue_name(purpose: str, config=None) -> str:
    """The Redis name of a queue: its purpose, after JOB_QUEUE_PREFIX (empty but in tests,
    where each run gets its own prefix so that runs sharing one Redis never meet)."""
    return (config or current_app.config)["JOB_QUEUE_PREFIX"] + purpose


def redis_job_id(job_id: str, config=None) -> str:
    return (config or current_app.config)["JOB_QUEUE_PREFIX"] + job_id


def rq_queue(purpose: str, connection=None):
    from rq import Queue

    return Queue(queue_name(purpose), connection=connection or redis_connection())


def job_is_live(job_id: str, connection=None) -> bool:
    """Whether Redis holds this job and it will still run: not gone, not failed for good."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(redis_job_id(job_id), connection=connection or redis_connection())
    except NoSuchJobError:
        return False
    state = job.get_status(refresh=False)
    return getattr(state, "value", state) in LIVE_JOB_STATES


def job_options(name: str, config) -> dict:
    from rq import Retry

    spec = SPECS[name]
    options: dict[str, Any] = {
        "job_timeout": spec.timeout_s,
        "failure_ttl": failure_ttl_s(config),
        "result_ttl": DAY_S,
    }
    if spec.retries:
        options["retry"] = Retry(max=spec.retries, interval=spec.intervals)
    return options


def enqueue(name: str, *args, job_id: str | None = None, delay_s: int = 0) -> bool:
    """Hand a job to its queue (or run it inline without Redis).

    True when the job was queued or ran; False when Redis could not be reached, or is
    skipped for a few seconds after it did not answer (domain.redis_guard: in a web request
    the wait is short and paid at most once per pause). The caller has already committed a
    row that says what is to be done, so a False loses nothing: a housekeeping sweep
    enqueues that row again later.
    """
    config = current_app.config
    if name not in SPECS:
        raise KeyError(f"unknown job {name}")
    if not config["REDIS_URL"]:
        return run_inline(name, *args)
    from redis.exceptions import RedisError

    from domain.redis_guard import web_redis

    web = web_redis()
    connection = web.client if has_request_context() else redis_connection()
    job_id = redis_job_id(job_id, config) if job_id else None

    def put() -> None:
        queue = rq_queue(SPECS[name].queue, connection)
        options = job_options(name, config)
        if delay_s:
            queue.enqueue_in(timedelta(seconds=delay_s), name, *args, job_id=job_id, **options)
        else:
            queue.enqueue(name, *args, job_id=job_id, **options)

    try:
        web.guard.call(f"job {name}", put)
        return True
    except RedisError:
        log.warning("job %s not enqueued: Redis unreachable; its row waits for the sweep", name)
        return False


def run_inline(name: str, *args) -> bool:
    """The embedded default: run the job now, in this process; a failure is logged, not raised."""
    try:
        import_string(name)(*args)
    except Exception:
        log.exception("inline job %s failed", name)
    return True
