"""Real services for the failure drills: a private PostgreSQL cluster, a private Redis, gunicorn.

Each one is started for the drill, broken for real (stopped, killed) and started again by
the drill, and always torn down by its fixture, even when the drill fails. A binary that
is missing fails the drill with a message saying what to install: a drill never passes
by skipping.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from conftest import sign
from waiting import wait_for  # noqa: F401  (the drills import it from here too)

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def tail(path: Path, size: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


# --- gunicorn ------------------------------------------------------------------------

class Gunicorn:
    """`gunicorn wsgi:app` on a free port with the settings given, as production runs it."""

    def __init__(self, env: dict, *, workers: int = 2, worker_class: str = "sync", log_dir: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"gunicorn-{self.port}.log"
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("TWILIO_", "REDIS_", "DATABASE_", "DB_", "LIMIT_", "SMS_", "JOB_"))}
        self.env = {**clean, "APP_ENV": "production", "SECRET_KEY": "drill-secret",
                    "PUBLIC_BASE_URL": self.base, "PYTHONUNBUFFERED": "1",
                    **{k: str(v) for k, v in env.items()}}
        self.command = [sys.executable, "-m", "gunicorn", "-k", worker_class, "-w", str(workers),
                        "--worker-connections", "200", "--timeout", "60", "--graceful-timeout", "2",
                        "-b", f"127.0.0.1:{self.port}", "wsgi:app"]
        self.process: subprocess.Popen | None = None

    def start(self) -> "Gunicorn":
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

        def answering():
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited with {self.process.returncode}:\n{tail(self.log)}")
            try:  # unsigned: 403 means the app is loaded and answering
                return requests.post(self.base + "/ivr/fallback", timeout=(0.5, 10)).status_code == 403
            except requests.RequestException:
                return False

        wait_for(answering, 30, f"gunicorn did not answer on {self.base}:\n{tail(self.log)}", step=0.1)
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)


@pytest.fixture
def gunicorn(tmp_path):
    """Starts gunicorn servers for a drill (`gunicorn(env, workers=...)`); all stopped afterwards."""
    servers: list[Gunicorn] = []

    def start(env: dict, **options) -> Gunicorn:
        server = Gunicorn(env, log_dir=tmp_path, **options)
        servers.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@dataclass
class HttpResponse:
    """A `requests` answer shaped like Flask's test response, so `ivr_helpers.Answer` reads it."""

    status_code: int
    mimetype: str
    data: bytes
    elapsed_s: float


class HttpTwilio:
    """Posts webhooks over HTTP exactly as Twilio would: form body, signed full URL.

    Same interface as conftest's `Twilio`, so `ivr_helpers.Caller` walks a call with it.
    """

    def __init__(self, base: str, token: str, sid: str, caller: str = "+9647501234567",
                 session: requests.Session | None = None):
        self.base, self.token, self.sid, self.caller = base, token, sid, caller
        self.session = session or requests.Session()

    def post(self, path: str, signed: bool = True, **params) -> HttpResponse:
        form = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "To": "+9645599",
                "From": self.caller, "Direction": "inbound", "CallStatus": "in-progress"}
        form.update(params)
        form = {k: v for k, v in form.items() if v is not None}
        url = urljoin(self.base + "/", path)
        headers = {"X-Twilio-Signature": sign(url, form, self.token)} if signed else {}
        started = time.monotonic()
        answer = self.session.post(url, data=form, headers=headers, timeout=(2, 30))
        mimetype = answer.headers.get("Content-Type", "").split(";")[0].strip()
        return HttpResponse(answer.status_code, mimetype, answer.content, time.monotonic() - started)


# --- a private PostgreSQL cluster -----------------------------------------------------

def postgres_bindir() -> Path:
    """Where initdb and pg_ctl are: PG_BINDIR, else Debian's versioned folders, else PATH."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]),
                         reverse=True)
    found = shutil.which("pg_ctl")
    candidates.append(str(Path(found).parent) if found else "")
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package "
                "`postgresql` or set PG_BINDIR to the folder that holds them")


@dataclass
class PostgresCluster:
    """Its own data folder and port, run as the `postgres` system user (it refuses root)."""

    bindir: Path
    folder: Path
    port: int
    user: str = "postgres"
    database: str = "hotline_drill"
    started: bool = field(default=False)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.database}"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            pytest.fail(f"{' '.join(args[:2])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n"
                        f"{tail(self.folder / 'server.log')}")
        return result

    def init(self) -> None:
        self.run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--no-sync", "--no-instructions")

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
                   "-c shared_buffers=16MB -c max_connections=50")
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"),
                 "-o", options, "-w", "-t", "60", "start")
        self.started = True

    def stop(self, mode: str = "immediate") -> None:
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        self.started = False

    def running(self) -> bool:
        pid_file = self.data / "postmaster.pid"
        return pid_file.exists()


@pytest.fixture
def postgres_cluster():
    """A fresh cluster with an empty `hotline_drill` database; stopped and deleted afterwards."""
    bindir = postgres_bindir()
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root, PostgreSQL needs the `postgres` system user to run a cluster")
        if shutil.which("runuser") is None:
            pytest.fail("running as root, `runuser` (util-linux) is needed to start PostgreSQL as `postgres`")
    folder = Path(tempfile.mkdtemp(prefix="hotline-drill-pg-"))
    if os.geteuid() == 0:
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    cluster = PostgresCluster(bindir=bindir, folder=folder, port=free_port())
    try:
        cluster.init()
        cluster.start()
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres",
                             autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {cluster.database}")
        yield cluster
    finally:
        if cluster.running():
            subprocess.run((["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else [])
                           + [str(bindir / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "-w",
                              "stop"], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


# --- a private Redis ------------------------------------------------------------------

@dataclass
class RedisServer:
    """redis-server on a free port with its own folder, persistent as the README asks."""

    binary: str
    folder: Path
    port: int
    process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "yes", "--maxmemory-policy", "noeviction"],
            stdout=open(self.folder / "redis.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)

        def ready():
            if self.process.poll() is not None:
                pytest.fail(f"redis-server exited with {self.process.returncode}:\n{tail(self.folder / 'redis.log')}")
            try:
                return client.ping() and client.info("persistence").get("loading") == 0
            except redis.RedisError:
                return False

        wait_for(ready, 15, f"redis-server did not answer on port {self.port}")
        client.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final save; only what the AOF already holds survives."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        wait_for(lambda: not port_open(self.port), 5, "the killed Redis still listens")

    def aof_holds(self, text: str) -> bool:
        needle = text.encode()
        return any(needle in path.read_bytes() for path in self.folder.rglob("*.aof*") if path.is_file())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def redis_server():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server not found: install the Debian package `redis-server`; "
                    "this drill kills a Redis of its own")
    folder = Path(tempfile.mkdtemp(prefix="hotline-drill-redis-"))
    server = RedisServer(binary=binary, folder=folder, port=free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
