"""The RQ worker the hotline runs: RQ's own, plus keeping the housekeeping schedule alive."""

from __future__ import annotations

import logging

from rq import Worker

log = logging.getLogger(__name__)


# How long the worker's pub/sub thread (RQ's command channel: stop a job, shut down) waits
# on Redis between checks that it should go on. RQ waits 60 s; redis-py 8.2 made stopping that
# thread wait for it, so a worker that is told to stop could hang for up to a minute.
PUBSUB_POLL_SECONDS = 0.5
# How long stopping waits for that thread to end before closing the subscription itself.
PUBSUB_STOP_WAIT_SECONDS = 5.0


class HotlineWorker(Worker):
    """At each maintenance round (every few minutes) it restores any periodic job that
    was lost, e.g. after a run failed for good or Redis was restarted empty. It stops
    within a second (see PUBSUB_POLL_SECONDS)."""

    app = None  # the worker-side Flask app, set by `flask worker`

    def subscribe(self):
        """RQ's subscription to the worker's command channel, polled every half second."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_POLL_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def unsubscribe(self):
        """RQ's, but the thread is let finish before the subscription is closed: the thread
        closes it on its way out, and two closes at once crash the worker as it exits
        (redis-py's PubSub.reset() is not safe to run from two threads)."""
        if not self.pubsub_thread:
            return
        self.log.info("Worker %s: unsubscribing from channel %s", self.name, self.pubsub_channel_name)
        self.pubsub.unsubscribe()
        self.pubsub_thread.stop()
        self.pubsub_thread.join(timeout=PUBSUB_STOP_WAIT_SECONDS)
        if not self.pubsub_thread.is_alive():
            self.pubsub.close()  # already closed by the thread: nothing left but to make sure

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
