"""Real services for the failure drills: a private PostgreSQL cluster, a private Redis, a network
namespace, and webhooks over HTTP.

Each one is started for the drill, broken for real (stopped, killed) and started again by
the drill, and always torn down by its fixture (tests/drills/conftest.py; gunicorn is
tests/conftest.py's), even when the drill fails. A binary that
is missing fails the drill with a message saying what to install: a drill never passes
by skipping.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from flask_migrate import upgrade
from sqlalchemy import select

from config import Hours
from extensions import db
from factory import create_app
from models import Call, CallEvent
from tests.support.console import PASSWORD
from tests.support.gunicorn_server import free_port, tail
from tests.support.ivr import Answer, add_letter
from tests.support.waiting import wait_for
from tests.support.webhooks import AUTH_TOKEN, sign

# What a caller hears when the database failed them (tests/ivr checks the prompt itself).
APOLOGY_EN = "We are sorry, we cannot complete your request right now."
APOLOGY_AR = "نعتذر"
# The steps of a call that has keyed and confirmed its number: where the database drills break in.
HALF_A_CALL = ["incoming", "language", "menu", "number", "number_confirm"]


def sid(n: int) -> str:
    return f"CA{n:032d}"


LOGIN_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def logged_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/console/login", timeout=5).text
    match = LOGIN_CSRF.search(page)
    assert match, "no CSRF token on the login page"
    answer = session.post(
        base + "/console/login",
        timeout=10,
        allow_redirects=False,
        data={"username": username, "password": PASSWORD, "csrf_token": match.group(1)},
    )
    assert answer.status_code == 302, answer.text[:300]
    return session


class StreamReader(threading.Thread):
    """One agent's browser holding /console/stream open: every event it gets, in order."""

    def __init__(self, base: str, cookies):
        super().__init__(daemon=True)
        self.session = requests.Session()
        self.session.cookies.update(cookies)
        self.base = base
        self.events: list[tuple[str, dict]] = []
        self.opened, self.went_down, self.ended = threading.Event(), threading.Event(), threading.Event()
        self.status: int | None = None
        self.down_at: float | None = None  # time.monotonic() of the "down" event

    def run(self) -> None:
        try:
            with self.session.get(self.base + "/console/stream", stream=True, timeout=(2, 30)) as response:
                self.status = response.status_code
                name = "message"
                for line in response.iter_lines(chunk_size=64, decode_unicode=True):
                    if line.startswith("event: "):
                        name = line[len("event: ") :]
                    elif line.startswith("data: "):
                        self.events.append((name, json.loads(line[len("data: ") :])))
                        if name == "down" and self.down_at is None:
                            self.down_at = time.monotonic()
                        (self.went_down if name == "down" else self.opened).set()
        except requests.RequestException:
            pass
        finally:
            self.ended.set()

    def saw_waiting(self, call_id: int) -> bool:
        return any(
            name == "queue" and call_id in [c["id"] for c in data.get("calls", [])] for name, data in self.events
        )


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class HttpResponse:
    """A `requests` answer shaped like Flask's test response, so `tests.support.ivr.Answer` reads it."""

    status_code: int
    mimetype: str
    data: bytes
    elapsed_s: float


class HttpTwilio:
    """Posts webhooks over HTTP exactly as Twilio would: form body, signed full URL.

    Same interface as `tests.support.webhooks.Twilio`, so `tests.support.ivr.Caller` walks a call with it.
    """

    def __init__(
        self, base: str, token: str, sid: str, caller: str = "+9647501234567", session: requests.Session | None = None
    ):
        self.base, self.token, self.sid, self.caller = base, token, sid, caller
        self.session = session or requests.Session()

    def post(self, path: str, signed: bool = True, **params) -> HttpResponse:
        form = {
            "CallSid": self.sid,
            "AccountSid": "AC" + "0" * 32,
            "To": "+9645599",
            "From": self.caller,
            "Direction": "inbound",
            "CallStatus": "in-progress",
        }
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
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    found = shutil.which("pg_ctl")
    candidates.append(str(Path(found).parent) if found else "")
    for folder in filter(None, candidates):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    pytest.fail(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package "
        "`postgresql` or set PG_BINDIR to the folder that holds them"
    )


@dataclass
class PostgresCluster:
    """Its own data folder and port, run as the `postgres` system user (it refuses root)."""

    bindir: Path
    folder: Path
    port: int
    user: str = "postgres"
    database: str = "hotline_drill"
    started: bool = field(default=False)
    address: str = "127.0.0.1"  # where it listens, and where the app connects
    network: "NetworkNamespace | None" = None  # runs in this namespace when given

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{self.address}:{self.port}/{self.database}"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", self.user, "--", *command]
        if self.network is not None:
            command = self.network.exec_prefix + command
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            pytest.fail(
                f"{' '.join(args[:2])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n"
                f"{tail(self.folder / 'server.log')}"
            )
        return result

    def init(self) -> None:
        self.run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        if self.network is not None:  # the app connects from the other end of the link
            with open(self.data / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {self.network.outside}/32 trust\n")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses={self.address} -k {self.folder} "
            "-c shared_buffers=16MB -c max_connections=50"
        )
        self.run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        self.started = True

    def stop(self, mode: str = "immediate") -> None:
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        self.started = False

    def running(self) -> bool:
        pid_file = self.data / "postmaster.pid"
        return pid_file.exists()


@contextmanager
def private_cluster(network: "NetworkNamespace | None" = None):
    """A fresh cluster (in `network`, listening on its address, when given); removed afterwards."""
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
    cluster = PostgresCluster(
        bindir=bindir,
        folder=folder,
        port=free_port(),
        network=network,
        address=network.inside if network else "127.0.0.1",
    )
    try:
        cluster.init()
        cluster.start()
        import psycopg

        with psycopg.connect(
            f"host={cluster.address} port={cluster.port} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute(f"CREATE DATABASE {cluster.database}")
        yield cluster
    finally:
        if cluster.running():
            subprocess.run(
                (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else [])
                + [str(bindir / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def migrated_app(database_url: str):
    """The app on a private cluster, migrated as the suite migrates its own, with letter 1234."""
    app = create_app(
        {
            "APP_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "AGENT_HOURS": Hours.parse("00:00-24:00"),
        }
    )
    with app.app_context():
        upgrade()
        add_letter()
        db.session.remove()
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def call_steps(app, call_sid: str) -> list[str]:
    """The call's steps, read on a connection of its own (none is kept across the fault)."""
    with app.app_context():
        found = db.session.scalars(
            select(CallEvent.step).join(Call).where(Call.sid == call_sid).order_by(CallEvent.id)
        ).all()
        db.session.remove()
        db.engine.dispose()
        return list(found)


def answered_within(response: HttpResponse, seconds: float, settings: str) -> Answer:
    """TwiML answered with 200 in under `seconds` (what `settings` allow with the fault on)."""
    answer = Answer.of(response)  # 200, text/xml, parsed
    assert answer.root.tag == "Response"
    assert response.elapsed_s < seconds, (
        f"the webhook took {response.elapsed_s:.2f} s with the database out of reach ({settings})"
    )
    return answer


# --- a network namespace: a database host that can vanish from the network -------------


@dataclass
class NetworkNamespace:
    """A namespace joined to this one by a veth pair: its own address, like another host.

    `cut()` takes the far end of the pair down: whatever is sent to the namespace is then
    dropped without a word (no refusal, no reset), as when a database host or the network
    to it fails. `mend()` brings it back.
    """

    name: str
    outside: str  # this end's address
    inside: str  # the namespace's address
    link: str  # this end of the pair
    far_link: str  # the namespace's end

    @property
    def exec_prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.name]

    def ip(self, *args: str, inside: bool = False) -> None:
        command = (self.exec_prefix if inside else []) + ["ip", *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=20)
        if result.returncode != 0:
            pytest.fail(
                f"`{' '.join(command)}` failed: {result.stderr.strip()} (the drill needs the "
                "iproute2 package and the CAP_NET_ADMIN and CAP_SYS_ADMIN capabilities)"
            )

    def cut(self) -> None:
        self.ip("link", "set", self.far_link, "down", inside=True)

    def mend(self) -> None:
        self.ip("link", "set", self.far_link, "up", inside=True)


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
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=open(self.folder / "redis.log", "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
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

    def freeze(self) -> None:
        """SIGSTOP: alive but silent. Connections are still accepted (the kernel's backlog) and
        what is sent is taken; nothing is answered until `thaw()`."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT: the server goes on, first with everything sent to it meanwhile."""
        self.process.send_signal(signal.SIGCONT)

    def aof_holds(self, text: str) -> bool:
        needle = text.encode()
        return any(needle in path.read_bytes() for path in self.folder.rglob("*.aof*") if path.is_file())

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen server is killed awake
            self.process.kill()
            self.process.wait(10)
