"""Helpers for the job tests: this run's queues on the shared Redis, real worker processes, SMS rows.

The fixtures that point the app at Redis (`redis_url`) and at the Twilio stand-in for SMS
(`sms_ready`) are in tests/conftest.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.services import RUN_PREFIX
from tests.support.webhooks import AUTH_TOKEN, PUBLIC_BASE_URL

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"  # nothing listens there: "Redis is down"
SMS_FROM = "+15005550006"
# Queues and job ids of this run only: other runs may share this Redis database at the same time.
PREFIX = RUN_PREFIX


def use_redis(app, url: str | None) -> None:
    app.config["REDIS_URL"] = url or ""
    app.extensions.pop("hotline.redis", None)
    app.extensions.pop("hotline.redis_web", None)  # clients and breakers, one per URL


def forget_jobs(connection) -> None:
    """Every key of this run's queues and jobs, gone (as after a Redis restart without data)."""
    keys = list(connection.scan_iter(match=f"*{PREFIX}*", count=1000))
    if keys:
        connection.delete(*keys)


def worker_env(app, database_url: str, redis_url: str, twilio_url: str, **extra) -> dict:
    """The environment a worker process reads its settings from, as the test app has them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "REDIS_"))}
    env.update(
        {
            "APP_ENV": "testing",
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "TWILIO_API_BASE_URL": twilio_url,
            "TWILIO_ACCOUNT_SID": app.config["TWILIO_ACCOUNT_SID"],
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "SMS_FROM": SMS_FROM,
            "PYTHONUNBUFFERED": "1",
            "JOB_QUEUE_PREFIX": PREFIX,
        }
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def worker_command(*queues: str, burst: bool = True) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", "worker", *queues] + (["--burst"] if burst else [])


def run_worker(env: dict, *queues: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """A real worker process that works the queues empty and stops (`--burst`)."""
    result = subprocess.run(worker_command(*queues), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def start_worker(env: dict, *queues: str) -> subprocess.Popen:
    """A worker in the background, in its own process group (so that it can be killed whole)."""
    return subprocess.Popen(
        worker_command(*queues, burst=False),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.append(int(stat.parent.name))
    return found


def kill_hard(process: subprocess.Popen) -> None:
    """SIGKILL the worker and its work-horse: no handler runs, nothing is cleaned up.

    RQ starts each work-horse in a session of its own, so killing the worker's process
    group alone would leave the horse running the job to its end.
    """
    horses = children(process.pid)
    os.killpg(process.pid, signal.SIGKILL)
    for pid in horses:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)


def add_letter(number="1234", on=None, holder_name_en="Federal Ministry of Finance", source="import"):
    """One letter with its first TransactionEvent, as an import would leave it."""
    from datetime import date

    from extensions import db
    from models import Direction, Entity, Status, Transaction, TransactionEvent

    on = on or date(2024, 3, 15)
    holder = db.session.query(Entity).filter_by(code="fed-finance").one_or_none()
    if holder is None:
        holder = Entity(
            code="fed-finance",
            name_ar="وزارة المالية الاتحادية",
            name_ckb="وەزارەتی دارایی فیدراڵ",
            name_en=holder_name_en,
        )
        db.session.add(holder)
        db.session.flush()
    letter = Transaction(
        number=number,
        date=on,
        direction=Direction.to_federal,
        subject="طلب",
        sender_id=holder.id,
        recipient_id=holder.id,
        holder_id=holder.id,
        status=Status.forwarded,
        status_date=date(2024, 4, 2),
    )
    db.session.add(letter)
    db.session.flush()
    db.session.add(
        TransactionEvent(
            transaction_id=letter.id,
            status=letter.status,
            holder_id=holder.id,
            status_date=letter.status_date,
            source=source,
        )
    )
    db.session.commit()
    return letter


def status_sms(letter, phone="+9647501234567", key="test-1", language="en"):
    """What the IVR's key 2 does: an outbox row, committed, then dispatched."""
    from domain.sms import dispatch_outbox, send_status_sms
    from extensions import db
    from models import SmsKind

    message = send_status_sms(transaction=letter, phone=phone, language=language, kind=SmsKind.status, key=key)
    db.session.commit()
    message_id = message.id
    dispatch_outbox()
    return message_id


def the_message(message_id):
    from extensions import db
    from models import SmsMessage

    db.session.expire_all()
    return db.session.get(SmsMessage, message_id)
