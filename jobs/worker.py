"""The RQ worker the hotline runs: RQ's own, plus keeping the housekeeping schedule alive."""
from __future__ import annotations

import logging

from rq import Worker

log = logging.getLogger(__name__)


class HotlineWorker(Worker):
    """At each maintenance round (every few minutes) it restores any periodic job that
    was lost, e.g. after a run failed for good or Redis was restarted empty."""

    app = None  # the worker-side Flask app, set by `flask worker`

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        if self.app is None:
            return
        from jobs import queue_name
        from jobs.schedule import ensure_schedule

        try:
            with self.app.app_context():
                if queue_name("housekeeping") in self.queue_names():
                    ensure_schedule(self.connection)
        except Exception:  # a worker keeps working even if the schedule could not be checked
            log.exception("periodic jobs not checked")
