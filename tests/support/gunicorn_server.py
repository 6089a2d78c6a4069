"""A real gunicorn serving `wsgi:app`, for the tests that need one: started, waited for, stopped.

Used by the whole-call test over HTTP, the console streams on gevent workers, the two web
nodes behind nginx and the failure drills (through the `gunicorn` fixture of tests/conftest.py,
or `Gunicorn` itself). The server runs as production does
(`APP_ENV=production`) with only the settings a test gives it: the test run's own
Twilio, Redis, database and limit settings are not inherited.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30
# Settings a test gives the server itself, never inherited from the test run's environment.
NOT_INHERITED = ("TWILIO_", "REDIS_", "DATABASE_", "DB_", "LIMIT_", "SMS_", "JOB_")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, size: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


class Gunicorn:
    """`gunicorn wsgi:app` on a free port of 127.0.0.1 (kept across restarts)."""

    def __init__(
        self,
        env: dict,
        *,
        log_dir: Path,
        name: str | None = None,
        workers: int = 2,
        worker_class: str = "sync",
        worker_connections: int = 200,
        options: tuple = (),
    ):
        self.port = free_port()
        self.name = name or f"gunicorn-{self.port}"
        self.base = f"http://{self.address}"
        self.log = log_dir / f"{self.name}.log"  # a file, not a pipe nobody reads: never blocks
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(NOT_INHERITED)}
        self.env = {
            **inherited,
            "APP_ENV": "production",
            "SECRET_KEY": "test-server-secret",
            "PUBLIC_BASE_URL": self.base,
            "PYTHONUNBUFFERED": "1",
            "ROUTING_MODE": "list",  # as the test app: routing by offer is tested with it set
            **{k: str(v) for k, v in env.items()},
        }
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-k",
            worker_class,
            "-w",
            str(workers),
            "--worker-connections",
            str(worker_connections),
            "--timeout",
            "60",
            "--graceful-timeout",
            "2",
            "-b",
            self.address,
            *options,
            "wsgi:app",
        ]
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> "Gunicorn":
        with open(self.log, "ab") as log:
            # Its own process group: stop() reaches the master and every worker at once.
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        if wait:
            self.wait_until_answering()
        return self

    def wait_until_answering(self) -> None:
        def answering():
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{tail(self.log)}")
            try:  # unsigned: 403 means the app is loaded and answering
                return requests.post(self.base + "/ivr/fallback", timeout=(0.5, 10)).status_code == 403
            except requests.RequestException:
                return False

        wait_for(answering, START_TIMEOUT_S, f"{self.name} did not answer on {self.base}:\n{tail(self.log)}", step=0.1)

    def stop(self, how: int = signal.SIGTERM) -> None:
        """SIGTERM: graceful; SIGQUIT: gunicorn's quick shutdown. SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, how)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
