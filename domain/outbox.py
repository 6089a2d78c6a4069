"""What the SMS and the e-mail outboxes share: a row made once, its job, one attempt's claim, and how it ends.

A message is a row first, made once per idempotency key (`add_once`); after the request's
commit, `dispatch` hands the rows it made to their job's queue. Both outboxes are tables
with `status` (pending, queued, sending, ... failed), `attempts`, `claimed_at` and `error`.
A worker claims a row (pending/queued -> sending, one UPDATE, the attempt number counted
up); only the claim still current may then write the row's end; a transient failure gives
the row back (queued when RQ retries the job, pending for the sweep otherwise) until the
outbox's most attempts, then it has failed. The rules of each kind (the bodies, the caps,
the safety rule, what counts as permanent) stay in domain/sms.py and domain/email.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError

from domain.clock import utcnow
from domain.db.once import rows_changed
from extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outbox:
    """One outbox table: its model, its status enum, and the setting that caps its attempts."""

    name: str  # in logs: "sms", "email"
    model: Any
    statuses: Any  # the status enum: pending, queued, sending and failed, by those names
    max_attempts_setting: str
    sending_timeout_setting: str
    send_job: str  # the job that sends one row, by dotted name

    @property
    def table(self):
        return self.model.__table__

    @property
    def session_key(self) -> str:
        """Where session.info keeps the ids of the rows made in this session, to enqueue once committed."""
        return f"hotline.{self.name}_outbox"

    def job_id(self, message_id: int) -> str:
        return f"{self.name}-{message_id}"

    # --- a row made once, then handed to its queue ------------------------------------

    def made_for(self, key: str):
        """The row an earlier request made with this idempotency key, or None."""
        return db.session.scalar(select(self.model).where(self.model.idempotency_key == key))

    def add_once(self, row):
        """Add a new row (none had its idempotency key yet); the caller commits, then `dispatch`es.

        The same request made at the same moment elsewhere wins the unique key: its row is
        returned instead, and this one is not added.
        """
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # the same request, made at the same moment elsewhere
            found = self.made_for(row.idempotency_key)
            if found is None:  # another constraint failed: not the same request
                raise
            return found
        db.session.info.setdefault(self.session_key, []).append(row.id)
        return row

    def dispatch(self) -> int:
        """Enqueue the rows this session made, after its commit. Never raises; returns how many."""
        ids = db.session.info.pop(self.session_key, [])
        sent = 0
        for message_id in ids:
            try:
                sent += self.enqueue(message_id)
            except Exception:  # the row is committed: the sweep will find it
                log.exception("%s %s not dispatched", self.name, message_id)
                db.session.rollback()
        return sent

    def enqueue(self, message_id: int) -> bool:
        """Hand one committed row to its job's queue; `pending` -> `queued` once Redis took it."""
        from jobs import enqueue

        if not enqueue(self.send_job, message_id, job_id=self.job_id(message_id)):
            return False
        self.mark_queued(message_id)
        return True

    # --- one attempt: its claim, its end, a retry -------------------------------------

    def stamped(self, values: dict, moment: datetime) -> dict:
        """The values with the time of the status change, for a table that keeps one."""
        if "status_at" in self.table.c:
            return {**values, "status_at": moment}
        return values

    def claimable(self) -> tuple:
        return (self.statuses.pending, self.statuses.queued)

    def claim(self, message_id: int, *also: ColumnElement[bool]) -> int | None:
        """pending/queued -> sending in one UPDATE; the attempt number, or None if not ours."""
        table = self.table
        moment = utcnow()
        values = {"status": self.statuses.sending, "claimed_at": moment, "attempts": table.c.attempts + 1}
        result = db.session.execute(
            update(table)
            .where(table.c.id == message_id, table.c.status.in_(self.claimable()), *also)
            .values(**self.stamped(values, moment))
        )
        db.session.commit()
        if rows_changed(result) != 1:
            return None
        claimed = db.session.get(self.model, message_id, populate_existing=True)
        return claimed.attempts if claimed is not None else None

    def ours(self, message_id: int, attempt: int):
        """An UPDATE of this row only while this attempt's claim is current: a row the sweep
        gave to another attempt (this worker was presumed dead) is no longer this one's to finish."""
        table = self.table
        return update(table).where(
            table.c.id == message_id, table.c.status == self.statuses.sending, table.c.attempts == attempt
        )

    def finish(self, message_id: int, attempt: int, status, *, error: str | None = None, **values) -> None:
        moment = utcnow()
        values = self.stamped({"status": status, "error": error, **values}, moment)
        db.session.execute(self.ours(message_id, attempt).values(**values))
        db.session.commit()

    def release_after_failure(self, message_id: int, attempt: int, error: str, config, *, retried_by_rq: bool) -> bool:
        """Give the row back after a transient failure; out of attempts, it has failed (True)."""
        out_of_attempts = attempt >= config[self.max_attempts_setting]
        if out_of_attempts:
            status = self.statuses.failed
        else:
            # Under RQ its Retry runs the job again; inline, the sweep picks a pending row up.
            status = self.statuses.queued if retried_by_rq else self.statuses.pending
        values = self.stamped({"status": status, "error": error[:200]}, utcnow())
        db.session.execute(self.ours(message_id, attempt).values(**values))
        db.session.commit()
        if out_of_attempts:
            log.warning("%s %s failed after %s attempts", self.name, message_id, attempt)
        return out_of_attempts

    # --- what the housekeeping sweep does to the table --------------------------------

    def reset_stuck(self, before: datetime, moment: datetime) -> int:
        """Rows "sending" since before `before`: their worker died. Back to pending (no commit)."""
        table = self.table
        values = self.stamped({"status": self.statuses.pending, "error": "worker lost mid-send"}, moment)
        return rows_changed(
            db.session.execute(
                update(table)
                .where(table.c.status == self.statuses.sending, table.c.claimed_at < before)
                .values(**values)
            )
        )

    def fail_exhausted(self, config, moment: datetime) -> int:
        """Pending rows that have had all their attempts have failed (no commit)."""
        table = self.table
        values = self.stamped({"status": self.statuses.failed}, moment)
        return rows_changed(
            db.session.execute(
                update(table)
                .where(table.c.status == self.statuses.pending, table.c.attempts >= config[self.max_attempts_setting])
                .values(**values)
            )
        )

    def pending_ids(self, made_before: datetime, limit: int) -> list[int]:
        model = self.model
        return list(
            db.session.scalars(
                select(model.id)
                .where(model.status == self.statuses.pending, model.created_at < made_before)
                .order_by(model.id)
                .limit(limit)
            )
        )

    def queued_ids(self, before: datetime, limit: int) -> list[int]:
        """Rows queued since before `before` (by their last status change, or their claim)."""
        model = self.model
        if "status_at" in self.table.c:
            since = model.status_at.is_(None) | (model.status_at < before)
        else:
            since = func.coalesce(model.claimed_at, model.created_at) < before
        return list(
            db.session.scalars(
                select(model.id).where(model.status == self.statuses.queued, since).order_by(model.id).limit(limit)
            )
        )

    def back_to_pending(self, message_id: int) -> None:
        """A queued row whose job is gone: pending again, for the caller to enqueue (committed)."""
        table = self.table
        db.session.execute(
            update(table)
            .where(table.c.id == message_id, table.c.status == self.statuses.queued)
            .values(status=self.statuses.pending)
        )
        db.session.commit()

    def mark_queued(self, message_id: int) -> None:
        """pending -> queued once Redis took the job (committed). Only a row still pending: a
        fast worker may have claimed it already. Without Redis the job has run inline and left
        the row as it ended: a row it gave back stays pending, for the sweep."""
        if not current_app.config["REDIS_URL"]:
            return
        table = self.table
        values = self.stamped({"status": self.statuses.queued}, utcnow())
        db.session.execute(
            update(table).where(table.c.id == message_id, table.c.status == self.statuses.pending).values(**values)
        )
        db.session.commit()
