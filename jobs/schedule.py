"""Keeps the housekeeping jobs scheduled on RQ's own scheduler (no cron, no rq-scheduler).

Each periodic job has a fixed job id and an RQ `Repeat`: after a run succeeds RQ schedules
the same job again `interval` seconds later, and the scheduler that every worker runs
(`--with-scheduler`) enqueues it when due (one scheduler holds the lock per queue).
A run that failed for good ends its repeats; `ensure_schedule` restores any missing
one when a worker starts and at each worker maintenance (every few minutes), so several
workers starting at once still make one schedule: the fixed ids make it idempotent.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app

from jobs import SPECS, job_is_live, job_options, redis_connection, redis_job_id, rq_queue

log = logging.getLogger(__name__)
FOREVER = 10**9  # RQ's Repeat counts down; this many runs outlive any deployment


def periodic_jobs(config) -> dict[str, int]:
    """Job name -> interval in seconds."""
    return {
        "jobs.housekeeping.sweep_outbox": config["OUTBOX_SWEEP_INTERVAL_S"],
        "jobs.housekeeping.close_abandoned_calls": config["HOUSEKEEPING_INTERVAL_S"],
        "jobs.housekeeping.purge_retention": config["HOUSEKEEPING_INTERVAL_S"],
        "jobs.housekeeping.escalate_complaints": config["COMPLAINT_ESCALATION_INTERVAL_S"],
        "jobs.housekeeping.close_complaints": config["HOUSEKEEPING_INTERVAL_S"],
        "jobs.housekeeping.route_calls": config["ROUTING_SWEEP_INTERVAL_S"],
    }


def periodic_job_id(name: str) -> str:
    return "periodic-" + name.rsplit(".", 1)[-1]


def ensure_schedule(connection=None) -> list[str]:
    """Schedule every periodic job that has no live run; the names scheduled now."""
    from rq import Repeat

    config = current_app.config
    connection = connection or redis_connection()
    made = []
    for name, interval in periodic_jobs(config).items():
        job_id = periodic_job_id(name)
        if job_is_live(job_id, connection):
            continue
        queue = rq_queue(SPECS[name].queue, connection)
        queue.enqueue_in(
            timedelta(seconds=interval),
            name,
            job_id=redis_job_id(job_id, config),
            repeat=Repeat(times=FOREVER, interval=interval),
            **job_options(name, config),
        )
        made.append(name)
    if made:
        log.info("scheduled periodic jobs: %s", ", ".join(made))
    return made


def run_all_now() -> dict:
    """Every housekeeping job, once, in this process (the embedded default has no worker)."""
    from jobs.housekeeping import (
        close_abandoned_calls,
        close_complaints,
        escalate_complaints,
        purge_retention,
        route_calls,
        sweep_outbox,
    )

    return {
        "sweep_outbox": sweep_outbox(),
        "close_abandoned_calls": close_abandoned_calls(),
        "escalate_complaints": escalate_complaints(),
        "close_complaints": close_complaints(),
        "purge_retention": purge_retention(),
        "route_calls": route_calls(),
    }
