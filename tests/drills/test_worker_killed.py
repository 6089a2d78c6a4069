"""Drill: an RQ worker SIGKILLed in the middle of a CSV import.

The SMS job killed mid-send is drilled in tests/jobs/test_sms_delivery.py
(test_a_worker_killed_mid_send_leads_to_a_retry_not_a_loss_nor_a_double). Here the
other long job, an import, loses its worker after its first batches are committed. The
upload is stored in many chunks, which the worker reads in order:

- RQ notices the abandoned job (a worker's maintenance cleans the started registry once
  the dead worker's heartbeat has lapsed; the drill runs that cleanup with the clock
  moved past the lapse) and retries it: the rerun resumes after the last committed batch,
  so each row is loaded once;
- if Redis lost the job as well (restarted without its data), the housekeeping sweep
  must find the import left `running` and enqueue it again.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

import jobs
from domain.letters.import_jobs import start_import
from extensions import db
from jobs import JobSpec, queue_name, redis_connection
from jobs.housekeeping import sweep_outbox
from models import ImportChunk, ImportJob, ImportKey, ImportState, Transaction, TransactionEvent
from tests.support.jobs import children, forget_jobs, kill_hard, run_worker, start_worker, worker_env
from tests.support.waiting import wait_for

ROWS = 6000
HEADER = "number,date,direction,subject,sender,recipient,holder,status,status_date,phone\n"


def letters_csv(rows: int = ROWS) -> bytes:
    line = (
        "{n},2024-03-15,to_federal,طلب,وزارة الداخلية في إقليم كوردستان,وزارة المالية الاتحادية,"
        "وزارة المالية الاتحادية,forwarded,2024-04-02,\n"
    )
    return (HEADER + "".join(line.format(n=100000 + n) for n in range(rows))).encode()


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def kill_worker_and_horse(process) -> None:
    """SIGKILL the worker and the work-horse running the job."""
    assert children(process.pid), "the worker had no work-horse to kill"
    kill_hard(process)


def the_import(import_id: int) -> ImportJob:
    db.session.expire_all()
    return db.session.get(ImportJob, import_id)


@pytest.fixture
def immediate_retry(monkeypatch):
    """The import's retries without their minute's wait, so the drill need not sleep."""
    spec = jobs.SPECS["jobs.imports.run_import"]
    monkeypatch.setitem(
        jobs.SPECS, "jobs.imports.run_import", JobSpec(spec.queue, spec.timeout_s, retries=spec.retries, intervals=[0])
    )


def chunks() -> int:
    return db.session.scalar(select(func.count()).select_from(ImportChunk))


def killed_mid_import(app, database_url, redis_url, monkeypatch) -> int:  # noqa: F811
    """An import uploaded in chunks, its worker SIGKILLed once some batches are committed."""
    monkeypatch.setitem(app.config, "IMPORT_CHUNK_BYTES", 16 * 1024)
    content = letters_csv()
    pieces = (content[start : start + 5000] for start in range(0, len(content), 5000))
    import_id = start_import(pieces, filename="office.csv", source="api", requested_by="drill").id
    assert chunks() == -(-len(content) // (16 * 1024)) > 10
    worker = start_worker(worker_env(app, database_url, redis_url, "http://127.0.0.1:1"), "imports")
    try:
        wait_for(lambda: the_import(import_id).processed >= 500, 60, "the import never got half way", step=0.02)
    finally:
        kill_worker_and_horse(worker)
    record = the_import(import_id)
    assert record.state == ImportState.running and record.processed < ROWS, (
        f"the import was not caught mid-run ({record.state.value}, {record.processed} rows)"
    )
    return import_id


def test_an_import_whose_worker_was_killed_is_retried_and_loads_each_row_once(
    app, app_context, database_url, redis_url, immediate_retry, monkeypatch
):  # noqa: F811
    import_id = killed_mid_import(app, database_url, redis_url, monkeypatch)
    loaded_before = db.session.scalar(select(func.count()).select_from(Transaction))
    assert 0 < loaded_before < ROWS

    # A worker's maintenance, after the dead worker's heartbeat has lapsed.
    StartedJobRegistry(queue_name("imports"), connection=redis_connection()).cleanup(timestamp=time.time() + 24 * 3600)
    run_worker(worker_env(app, database_url, redis_url, "http://127.0.0.1:1"), "imports")

    record = the_import(import_id)
    assert record.state == ImportState.done, record.error
    assert record.processed == ROWS and record.rejected_count == 0
    assert db.session.scalar(select(func.count()).select_from(Transaction)) == ROWS
    # Resumed, not started again: every row was added once, none seen a second time.
    assert (record.added, record.unchanged, record.committed_line) == (ROWS, 0, ROWS + 1)
    assert db.session.scalar(select(func.count()).select_from(TransactionEvent)) == ROWS
    assert db.session.scalar(select(func.count()).select_from(ImportKey)) == 0  # let go when done
    assert chunks() == 0  # and the file


def test_an_import_left_running_whose_job_redis_lost_is_swept_again(
    app, app_context, database_url, redis_url, monkeypatch
):  # noqa: F811
    import_id = killed_mid_import(app, database_url, redis_url, monkeypatch)
    forget_jobs(redis_connection())  # Redis restarted without its data: no job, no registry

    counts = sweep_outbox()
    assert counts["imports"] == 1, f"the sweep did not enqueue the import left running by the killed worker: {counts}"
    run_worker(worker_env(app, database_url, redis_url, "http://127.0.0.1:1"), "imports")
    assert the_import(import_id).state == ImportState.done
    assert db.session.scalar(select(func.count()).select_from(Transaction)) == ROWS
    assert chunks() == 0
