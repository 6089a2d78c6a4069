"""Load test of the voice IVR: many simulated calls, signed as Twilio signs, against gunicorn.

    python -m bench.ivr_load [--workers 3] [--concurrency 24] [--duration 90] ...

Starts gunicorn on 127.0.0.1 against the benchmark database, serving `wsgi:app` with the
rungs of bench/serve/ladder.py added, then drives C concurrent calls through the whole flow
(voice, language, menu, number, read-back, date, read-back = the lookup, result, status
callback), following the action URLs the TwiML returns. Then, in the same run, the same
concurrency against /ivr/fallback (static TwiML behind the same signature check): the
floor; then against each rung of the ladder: the floor plus one committed row, done the
cheapest way there is. Stops gunicorn at the end, on Ctrl-C and on any error. Traffic goes
to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

import aiohttp
from twilio.request_validator import RequestValidator
from yarl import URL

from bench.seed_letters import database_url_for, read_samples, sample_file_for

HOST = "127.0.0.1"
BENCH_TOKEN = "bench-auth-token-not-a-secret"
ACCOUNT_SID = "AC" + "b" * 32
HOTLINE = "+9645599"
# The webhooks of one call, in order; `date_confirm` is the lookup.
STEPS = ["incoming", "language", "menu", "number", "number_confirm", "date", "date_confirm", "result", "status"]
PATH_STEPS = {
    "/ivr/voice": "incoming",
    "/ivr/language": "language",
    "/ivr/menu": "menu",
    "/ivr/number": "number",
    "/ivr/number/confirm": "number_confirm",
    "/ivr/date": "date",
    "/ivr/date/confirm": "date_confirm",
    "/ivr/result": "result",
    "/ivr/status": "status",
    "/ivr/not-found": "not_found_menu",
    "/ivr/fallback": "fallback",
}
# The durability ladder (bench/serve/ladder.py): the floor plus one more piece of the least
# database work a step that keeps its record must do. Name, path, what it adds.
LADDER = [
    ("read", "/bench/ladder/read", "one SELECT by key, autocommit, raw psycopg"),
    ("write", "/bench/ladder/write", "one INSERT … ON CONFLICT DO NOTHING, autocommitted: the cheapest durable write"),
    ("transaction", "/bench/ladder/transaction", "BEGIN, that SELECT, that INSERT, COMMIT, raw psycopg"),
    ("session", "/bench/ladder/session", "the same transaction through the app's SQLAlchemy session"),
    (
        "behind",
        "/bench/ladder/behind",
        "the SELECT, then XADD of the event to a Redis stream: written behind (the writer's work left out)",
    ),
]
PATH_STEPS.update({path: f"ladder:{name}" for name, path, _ in LADDER})
LADDER_DIR = Path(__file__).resolve().parent / "serve"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"  # the benchmarks' own database number
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- gunicorn ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """One gunicorn serving wsgi:app (plus the ladder), started and stopped by the benchmark."""

    app_dir: Path
    database_url: str
    workers: int
    worker_class: str
    threads: int
    port: int
    log_dir: Path
    process: subprocess.Popen | None = None
    ladder_redis_url: str = DEFAULT_REDIS_URL  # the ladder's *behind* rung only; the app has no Redis
    # What gunicorn serves: wsgi:app with the ladder's routes added (bench/serve/ladder.py).
    app_target: ClassVar[str] = "ladder:app"

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.log_dir / "access.log"

    @property
    def error_log(self) -> Path:
        return self.log_dir / "gunicorn.log"

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(self.workers),
            "-b",
            f"{HOST}:{self.port}",
            "--chdir",
            str(self.app_dir),
            "-k",
            self.worker_class,
            "--timeout",
            "30",
            "--backlog",
            "2048",
            # Server-side time per request (microseconds), to split queueing from work.
            "--access-logfile",
            str(self.access_log),
            "--access-logformat",
            "%(U)s %(s)s %(D)s",
        ]
        if self.worker_class == "gthread":
            cmd += ["--threads", str(self.threads)]
        if self.worker_class == "gevent":
            cmd += ["--worker-connections", str(max(self.threads, 1))]
        return cmd + [self.app_target]

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "DB_"))}
        env.update(
            {
                "APP_ENV": "production",
                "DATABASE_URL": self.database_url,
                "TWILIO_AUTH_TOKEN": BENCH_TOKEN,
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "SECRET_KEY": "bench",
                "PUBLIC_BASE_URL": self.base_url,
                "PYTHONUNBUFFERED": "1",
                # After gunicorn's --chdir: the app's own modules come first, then the ladder.
                "PYTHONPATH": os.pathsep.join(filter(None, [str(LADDER_DIR), os.environ.get("PYTHONPATH")])),
                "BENCH_LADDER_REDIS_URL": self.ladder_redis_url,
            }
        )
        env.pop("REDIS_URL", None)
        return env

    def start(self, timeout: float = 30.0) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        errors = open(self.error_log, "ab")
        # Own session: a Ctrl-C in the terminal reaches the benchmark, which then stops it.
        self.process = subprocess.Popen(
            self.command(), cwd=self.app_dir, env=self.env(), stdout=errors, stderr=errors, start_new_session=True
        )
        errors.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.error_log}")
            if self.answers_fallback() and len(self.worker_pids()) >= self.workers:
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.error_log}")

    def answers_fallback(self) -> bool:
        import requests  # only for the readiness probe; the load itself uses aiohttp

        url = self.base_url + "/ivr/fallback"
        params = {"CallSid": "CA" + "0" * 32, "AccountSid": ACCOUNT_SID}
        signature = RequestValidator(BENCH_TOKEN).compute_signature(url, params)
        try:
            answer = requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=2)
        except requests.RequestException:
            return False
        return answer.status_code == 200

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        return children_of(self.process.pid)

    def stop(self) -> None:
        """TERM the master (it stops its workers); KILL our own process group if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def process_memory(pid: int) -> dict:
    """RSS and peak RSS from /proc/PID/status, PSS (shared pages split) from smaps_rollup."""
    memory = {"pid": pid}
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    memory[line.split(":")[0].lower().replace("vm", "") + "_mb"] = round(int(line.split()[1]) / 1024, 1)
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    memory["pss_mb"] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return memory


def cpu_by_pid(pids) -> dict[int, float]:
    """CPU seconds (user + system) each live process has used so far."""
    used = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK
        except OSError:
            continue
    return used


def cpu_since(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two looks; a process that started meanwhile counts from zero, one
    that ended is lost (its share shows up as `other`)."""
    return sum(used - before.get(pid, 0.0) for pid, used in after.items())


def postgres_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as handle:
                    if handle.read().strip() == "postgres":
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, not idle or iowait)."""
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / CLK_TCK


def wait_until_quiet(limit_s: float, threshold: float = 0.2, windows: int = 3) -> float:
    """On a shared machine, wait (up to limit_s) until other work uses under `threshold` cores
    for `windows` two-second windows in a row.

    Returns the cores in use at the last look, so the report can say how quiet it was.
    """
    deadline = time.monotonic() + limit_s
    quiet = 0
    said = 0.0
    while True:
        before, start = machine_busy_seconds(), time.monotonic()
        time.sleep(2)
        busy = (machine_busy_seconds() - before) / (time.monotonic() - start)
        quiet = quiet + 1 if busy < threshold else 0
        if quiet >= windows or time.monotonic() >= deadline:
            return round(busy, 2)
        if quiet == 0 and time.monotonic() - said > 30:
            said = time.monotonic()
            print(f"load: machine busy ({busy:.2f} cores in use by other work), waiting ...", flush=True)


class CpuMeter:
    """CPU seconds used by the driver, gunicorn, PostgreSQL and everything else during a phase."""

    def __init__(self, server: Server):
        self.server = server

    def snapshot(self) -> dict:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        gunicorn = [self.server.process.pid, *self.server.worker_pids()]
        return {
            "driver": usage.ru_utime + usage.ru_stime,
            "gunicorn": cpu_by_pid(gunicorn),
            "postgres": cpu_by_pid(postgres_pids()),
            "machine": machine_busy_seconds(),
            "wall": time.monotonic(),
        }

    @staticmethod
    def share(before: dict, after: dict) -> dict:
        """Cores busy on average during the phase (2.0 = both cores of a 2-core machine).

        `other` is what the rest of the machine used meanwhile (a shared box's other jobs);
        PostgreSQL counts every backend, including other databases' clients.
        """
        wall = after["wall"] - before["wall"]
        share = {name: round((after[name] - before[name]) / wall, 2) for name in ("driver", "machine")}
        share.update({name: round(cpu_since(before[name], after[name]) / wall, 2) for name in ("gunicorn", "postgres")})
        share["other"] = round(max(share["machine"] - share["driver"] - share["gunicorn"] - share["postgres"], 0), 2)
        return share


# --- Twilio, simulated --------------------------------------------------------------


class CallFailed(Exception):
    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


@dataclass
class Answer:
    status: int
    gather_action: str | None
    hangup: bool
    enqueue: bool
    text: str


@dataclass
class Stats:
    latencies: dict = field(default_factory=lambda: defaultdict(list))  # step -> [ms]
    errors: Counter = field(default_factory=Counter)
    calls_completed: int = 0
    calls_failed: int = 0
    found_calls: int = 0
    not_found_calls: int = 0
    requests: int = 0


class Simulator:
    """Posts webhooks to the app exactly as Twilio would: form body, signed full URL."""

    def __init__(
        self,
        base_url: str,
        session: aiohttp.ClientSession,
        apologies: list[str],
        found: list,
        missing: list,
        not_found_share: float,
        seed: int,
    ):
        self.base_url = base_url
        self.session = session
        self.validator = RequestValidator(BENCH_TOKEN)
        self.apologies = [text.lower() for text in apologies]
        self.found = found
        self.missing = missing
        self.not_found_share = not_found_share
        self.rng = random.Random(seed)
        self.run_tag = self.rng.randrange(10)
        self.calls_started = 0
        self.missing_next = 0
        self.stats = Stats()

    def form(self, sid: str, caller: str) -> dict:
        """The parameters Twilio sends with every voice webhook of an inbound call."""
        form = {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "CallSid": sid,
            "CallStatus": "in-progress",
            "Direction": "inbound",
        }
        for prefix, number in (("Called", HOTLINE), ("Caller", caller), ("From", caller), ("To", HOTLINE)):
            form[prefix] = number
            form.update({f"{prefix}City": "", f"{prefix}Country": "IQ", f"{prefix}State": "", f"{prefix}Zip": ""})
        return form

    async def post(self, step: str, url: str, params: dict) -> tuple[int, str]:
        signature = self.validator.compute_signature(url, params)
        started = time.perf_counter()
        async with self.session.post(
            URL(url, encoded=True), data=params, headers={"X-Twilio-Signature": signature}
        ) as response:
            body = await response.text()
        self.stats.latencies[step].append((time.perf_counter() - started) * 1000)
        self.stats.requests += 1
        return response.status, body

    def parse(self, status: int, body: str) -> Answer:
        if status != 200:
            raise CallFailed(f"http_{status}")
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            raise CallFailed("not_twiml") from None
        text = " ".join(t.strip() for t in root.itertext() if t.strip())
        gather = root.find("Gather")
        return Answer(
            status,
            gather.get("action") if gather is not None else None,
            root.find("Hangup") is not None,
            root.find("Enqueue") is not None,
            text,
        )

    async def gather_step(self, step: str, url: str, params: dict, expect: str | tuple) -> str:
        """One webhook whose answer must be a <Gather> leading to `expect`; the next URL."""
        answer = self.parse(*await self.post(step, url, params))
        lowered = answer.text.lower()
        if "sorry" in lowered or any(apology in lowered for apology in self.apologies):
            raise CallFailed(f"apology:{step}")
        if answer.gather_action is None:
            raise CallFailed(f"unexpected_hangup:{step}" if answer.hangup or answer.enqueue else f"no_gather:{step}")
        next_url = urljoin(url, answer.gather_action)
        expected = (expect,) if isinstance(expect, str) else expect
        if urlsplit(next_url).path not in expected:
            raise CallFailed(f"wrong_action:{step}->{urlsplit(next_url).path}")
        if urlsplit(next_url).netloc != urlsplit(self.base_url).netloc:
            raise CallFailed("action_leaves_host")  # never follow a URL off 127.0.0.1
        return next_url

    def next_letter(self) -> tuple[bool, str, date]:
        if self.missing and self.rng.random() < self.not_found_share:
            number, on = self.missing[self.missing_next % len(self.missing)]
            self.missing_next += 1  # distinct numbers: the per-number limit stays out of play
            return False, number, on
        number, on = self.found[self.rng.randrange(len(self.found))]
        return True, number, on

    async def call(self) -> None:
        """One caller, from ringing to hang-up, as Twilio would drive it."""
        n = self.calls_started
        self.calls_started += 1
        found, number, on = self.next_letter()
        sid = "CA" + uuid.uuid4().hex
        # Distinct, valid Iraqi mobile numbers, so no caller's hourly bucket fills up.
        caller = f"+96477{self.run_tag % 10}{n % 10**7:07d}"
        form = self.form(sid, caller)
        gathered = {"msg": "Gather End", "FinishedOnKey": ""}
        url = self.base_url + "/ivr/voice"
        completed = False
        try:
            url = await self.gather_step("incoming", url, {**form, "CallStatus": "ringing"}, "/ivr/language")
            url = await self.gather_step("language", url, {**form, **gathered, "Digits": "312"[n % 3]}, "/ivr/menu")
            url = await self.gather_step("menu", url, {**form, **gathered, "Digits": "1"}, "/ivr/number")
            url = await self.gather_step(
                "number", url, {**form, **gathered, "Digits": number, "FinishedOnKey": "#"}, "/ivr/number/confirm"
            )
            url = await self.gather_step("number_confirm", url, {**form, **gathered, "Digits": "1"}, "/ivr/date")
            url = await self.gather_step(
                "date", url, {**form, **gathered, "Digits": on.strftime("%d%m%Y")}, "/ivr/date/confirm"
            )
            url = await self.gather_step(
                "date_confirm", url, {**form, **gathered, "Digits": "1"}, ("/ivr/result", "/ivr/not-found")
            )
            heard_status = urlsplit(url).path == "/ivr/result"
            if heard_status != found:
                raise CallFailed("found_expected_missing" if heard_status else "missing_expected_found")
            if found:
                # Silence after the status: actionOnEmptyResult posts empty Digits until the
                # app says goodbye (it may ask again first; those re-asks are result steps too).
                for _ in range(5):
                    answer = self.parse(*await self.post("result", url, {**form, **gathered, "Digits": ""}))
                    if "sorry" in answer.text.lower():
                        raise CallFailed("apology:result")
                    if answer.hangup or answer.gather_action is None:
                        break
                    url = urljoin(url, answer.gather_action)
                    if urlsplit(url).path != "/ivr/result":
                        raise CallFailed(f"wrong_action:result->{urlsplit(url).path}")
                if not answer.hangup:
                    raise CallFailed("result_no_goodbye")
            completed = True
        except CallFailed as failure:
            self.stats.errors[failure.kind] += 1
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self.stats.errors[f"transport:{type(exc).__name__}"] += 1
        # Hang-up: Twilio's status callback, sent for failed calls too.
        try:
            status, body = await self.post(
                "status",
                self.base_url + "/ivr/status",
                {
                    **form,
                    "CallStatus": "completed",
                    "CallDuration": "95",
                    "CallbackSource": "call-progress-events",
                    "SequenceNumber": "0",
                },
            )
            self.parse(status, body)
        except CallFailed as failure:
            self.stats.errors[f"status:{failure.kind}"] += 1
            completed = False
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self.stats.errors[f"transport:{type(exc).__name__}"] += 1
            completed = False
        if completed:
            self.stats.calls_completed += 1
            if found:
                self.stats.found_calls += 1
            else:
                self.stats.not_found_calls += 1
        else:
            self.stats.calls_failed += 1

    async def fallback(self, sid: str, path: str = "/ivr/fallback") -> None:
        """Twilio's fallback request: the same call parameters plus the error that caused it.

        The ladder's rungs are posted the same request, and answer the same TwiML.
        """
        url = self.base_url + path
        params = {**self.form(sid, "+9647700000000"), "ErrorCode": "11200", "ErrorUrl": self.base_url + "/ivr/voice"}
        try:
            answer = self.parse(*await self.post(PATH_STEPS[path], url, params))
            if not answer.hangup:
                self.stats.errors["fallback_no_hangup"] += 1
            else:
                self.stats.calls_completed += 1  # here: one answered fallback request
        except CallFailed as failure:
            self.stats.errors[f"fallback:{failure.kind}"] += 1
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self.stats.errors[f"transport:{type(exc).__name__}"] += 1


async def run_phase(
    simulator: Simulator, *, kind: str, concurrency: int, duration: float, max_count: int, path: str = "/ivr/fallback"
) -> float:
    """C workers, each repeating a call (or a fallback request) until time or count runs out."""
    deadline = time.monotonic() + duration
    started = time.monotonic()
    issued = 0

    async def worker(index: int) -> None:
        nonlocal issued
        sid = "CA" + uuid.uuid4().hex
        while time.monotonic() < deadline and issued < max_count:
            issued += 1
            if kind == "ivr":
                await simulator.call()
            else:
                await simulator.fallback(sid, path)

    tasks = [asyncio.create_task(worker(i)) for i in range(concurrency)]
    try:
        # In-flight calls finish after the deadline; the grace bounds a stuck server.
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + 60)
    except asyncio.TimeoutError:
        simulator.stats.errors["phase_timeout"] += 1
    return time.monotonic() - started


async def drive(server: Server, args, found, missing, apologies, meter: CpuMeter) -> dict:
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=args.concurrency, force_close=False)
    phases = {}
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        def simulator(seed_offset: int) -> Simulator:
            return Simulator(
                server.base_url, session, apologies, found, missing, args.not_found_share, args.seed + seed_offset
            )

        many = args.max_calls * len(STEPS)
        fallback = "/ivr/fallback"
        plan = [  # name, kind, concurrency, seconds, most calls (or requests), floor path
            ("warmup", "ivr", args.concurrency, args.warmup, many, fallback),
            # One call at a time: each step's own cost, without queueing behind other calls.
            ("probe_ivr", "ivr", 1, args.probe_duration, many, fallback),
            ("probe_floor", "floor", 1, args.probe_duration / 2, many, fallback),
            ("ivr", "ivr", args.concurrency, args.duration, args.max_calls, fallback),
            ("floor", "floor", args.concurrency, args.floor_duration, many, fallback),
            *(
                (f"ladder_{rung}", "floor", args.concurrency, args.ladder_duration, many, path)
                for rung, path, _ in LADDER
                if rung in args.ladder_rungs
            ),
        ]
        for name, kind, concurrency, duration, count, path in plan:
            if duration <= 0:
                continue
            sim = simulator(len(phases))
            offset = server.access_log.stat().st_size if server.access_log.exists() else 0
            before = meter.snapshot()
            print(f"load: {name} for {duration:g} s at concurrency {concurrency} ...", flush=True)
            elapsed = await run_phase(
                sim, kind=kind, concurrency=concurrency, duration=duration, max_count=count, path=path
            )
            phases[name] = {
                "stats": sim.stats,
                "elapsed": elapsed,
                "log_offset": offset,
                "log_end": server.access_log.stat().st_size,
                "cpu_cores": CpuMeter.share(before, meter.snapshot()),
            }
            print(
                f"load: {name}: {sim.stats.calls_completed} done, {sim.stats.requests} requests, "
                f"{sum(sim.stats.errors.values())} errors in {elapsed:.1f} s",
                flush=True,
            )
            if name == "floor":  # the app's own memory: before the ladder's rungs load anything
                phases[name]["memory"] = {
                    "workers": [process_memory(pid) for pid in server.worker_pids()],
                    "master": process_memory(server.process.pid),
                }
    return phases


# --- figures ------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}
    return {
        "count": len(ordered),
        "p50_ms": round(percentile(ordered, 0.5), 2),
        "p90_ms": round(percentile(ordered, 0.9), 2),
        "p99_ms": round(percentile(ordered, 0.99), 2),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(sum(ordered) / len(ordered), 2),
    }


def server_times(access_log: Path, start: int, end: int) -> dict:
    """Per step, the time gunicorn's worker spent on the request (no queueing, no client)."""
    times = defaultdict(list)
    statuses = Counter()
    with open(access_log, "rb") as handle:
        handle.seek(start)
        for line in handle.read(end - start).decode("utf-8", "replace").splitlines():
            parts = line.split()
            if len(parts) != 3:
                continue
            path, status, micros = parts
            statuses[status] += 1
            times[PATH_STEPS.get(path, path)].append(int(micros) / 1000)
    return {"steps": {step: summary(values) for step, values in times.items()}, "http_statuses": dict(statuses)}


def phase_figures(phase: dict, access_log: Path) -> dict:
    stats: Stats = phase["stats"]
    elapsed = phase["elapsed"]
    server = server_times(access_log, phase["log_offset"], phase["log_end"])
    steps = {}
    for step, values in stats.latencies.items():
        steps[step] = {**summary(values), "server": server["steps"].get(step, {"count": 0})}
    return {
        "elapsed_s": round(elapsed, 2),
        "completed": stats.calls_completed,
        "failed": stats.calls_failed,
        "per_s": round(stats.calls_completed / elapsed, 2) if elapsed else 0,
        "requests": stats.requests,
        "requests_per_s": round(stats.requests / elapsed, 1) if elapsed else 0,
        "found_calls": stats.found_calls,
        "not_found_calls": stats.not_found_calls,
        "errors": dict(stats.errors),
        "http_statuses": server["http_statuses"],
        "cpu_cores": phase["cpu_cores"],
        # CPU per webhook: a figure other work on a shared machine distorts far less than latency.
        "cpu_ms_per_request": {
            name: round(phase["cpu_cores"][name] * elapsed / stats.requests * 1000, 2) if stats.requests else None
            for name in ("gunicorn", "postgres", "driver")
        },
        "steps": steps,
    }


def ratio(numerator: dict, denominator: dict, key: str) -> float | None:
    try:
        return round(numerator[key] / denominator[key], 2)
    except (KeyError, ZeroDivisionError, TypeError):
        return None


def truncate_history(database_url: str) -> None:
    """Each run starts without earlier runs' calls, so throttles and table sizes match."""
    import psycopg

    from bench.seed_letters import libpq_url

    with psycopg.connect(libpq_url(database_url)) as conn:
        # CASCADE: whatever else points at calls (SMS, audit rows of the bench) goes too;
        # the letters and entities are only referenced, never referencing, so they stay.
        conn.execute("TRUNCATE call_event, callback_request, lookup_attempt, call RESTART IDENTITY CASCADE")


def prepare_ladder(database_url: str, redis_url: str) -> list[str]:
    """The ladder's own table (shaped like call_event's key) and stream, emptied; its rungs.

    Without a Redis answering at `redis_url`, the *behind* rung is left out, and says so.
    """
    import psycopg
    import redis

    from bench.seed_letters import libpq_url

    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_ladder_row (id bigserial PRIMARY KEY, "
            "dedupe_key varchar(40) NOT NULL UNIQUE, step varchar(32) NOT NULL, "
            "created_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute("TRUNCATE bench_ladder_row RESTART IDENTITY")
    rungs = [name for name, _, _ in LADDER]
    try:
        empty_ladder_stream(redis_url)
    except redis.RedisError as exc:
        print(f"ladder: no Redis at {redis_url} ({exc}); the 'behind' rung is left out", flush=True)
        rungs.remove("behind")
    return rungs


def empty_ladder_stream(redis_url: str) -> None:
    import redis

    with redis.Redis.from_url(redis_url, socket_connect_timeout=2) as client:
        client.delete("bench:ladder:steps")


def ladder_figures(floor_phase: dict | None, rung_phases: dict, lookup: dict) -> list[dict]:
    """Each rung measured: its latency, and how it and the lookup step compare with the floor."""
    floor = (floor_phase or {}).get("steps", {}).get("fallback", {})
    rungs = []
    for name, path, adds in LADDER:
        phase = rung_phases.get(f"ladder_{name}")
        if not phase:
            continue
        step = phase["steps"].get(f"ladder:{name}", {})
        rungs.append(
            {
                "name": name,
                "path": path,
                "adds": adds,
                "requests_per_s": phase["requests_per_s"],
                "errors": phase["errors"],
                "client": step,
                "cpu_ms_per_request": phase["cpu_ms_per_request"],
                "over_floor": {"p50": ratio(step, floor, "p50_ms"), "p99": ratio(step, floor, "p99_ms")},
                "lookup_over_rung": {"p50": ratio(lookup, step, "p50_ms"), "p99": ratio(lookup, step, "p99_ms")},
            }
        )
    return rungs


def apology_texts(app_dir: Path) -> list[str]:
    texts = []
    for language in ("ar", "en"):
        try:
            with open(app_dir / "voice_prompts" / f"{language}.toml", "rb") as handle:
                texts.append(tomllib.load(handle)["prompts"]["apology"])
        except (OSError, KeyError):
            continue
    return texts


def log_problems(error_log: Path, limit: int = 5) -> dict:
    """Exceptions the app logged during the run (counted; a few first lines kept)."""
    if not error_log.exists():
        return {"count": 0, "first": []}
    lines = error_log.read_text("utf-8", "replace").splitlines()
    problems = [line for line in lines if " ERROR " in line or "Traceback" in line or "[CRITICAL]" in line]
    return {"count": len(problems), "first": problems[:limit]}


def run(args, app_dir: Path, log_dir: Path) -> dict:
    found, missing = read_samples(args.sample_file)
    if not found:
        raise SystemExit(f"no letters in {args.sample_file}; run python -m bench.seed_letters first")
    if not args.keep_history:
        truncate_history(args.database_url)
    redis_url = getattr(args, "redis_url", None) or os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    args.ladder_rungs = prepare_ladder(args.database_url, redis_url)
    server = Server(
        app_dir,
        args.database_url,
        args.workers,
        args.worker_class,
        args.threads,
        args.port or free_port(),
        log_dir,
        ladder_redis_url=redis_url,
    )
    print(f"gunicorn: {' '.join(server.command()[2:])}", flush=True)
    quiet = wait_until_quiet(args.wait_quiet) if args.wait_quiet > 0 else None
    try:
        server.start()
        meter = CpuMeter(server)
        phases = asyncio.run(drive(server, args, found, missing, apology_texts(app_dir), meter))
        memory = phases.get("floor", {}).get("memory") or {
            "workers": [process_memory(pid) for pid in server.worker_pids()],
            "master": process_memory(server.process.pid),
        }
    finally:
        server.stop()
        if "behind" in args.ladder_rungs:
            empty_ladder_stream(redis_url)
    # Each phase's access log read once; the ladder's rungs are reported on their own.
    figures = {name: phase_figures(phase, server.access_log) for name, phase in phases.items() if name != "warmup"}
    rungs = {name: figures.pop(name) for name in list(figures) if name.startswith("ladder_")}
    ivr, floor = figures["ivr"], figures.get("floor")
    lookup = ivr["steps"].get("date_confirm", {})
    floor_step = (floor or {}).get("steps", {}).get("fallback", {})
    probe = None
    if "probe_ivr" in figures and "probe_floor" in figures:
        probe_lookup = figures["probe_ivr"]["steps"].get("date_confirm", {})
        probe_floor = figures["probe_floor"]["steps"].get("fallback", {})
        probe = {
            "ivr": figures["probe_ivr"],
            "floor": figures["probe_floor"],
            "lookup_over_floor": {
                "p50": ratio(probe_lookup, probe_floor, "p50_ms"),
                "p99": ratio(probe_lookup, probe_floor, "p99_ms"),
            },
        }
    return {
        "ivr": ivr,
        "floor": floor,
        "one_at_a_time": probe,
        "warmup": {"elapsed_s": round(phases["warmup"]["elapsed"], 1), "errors": dict(phases["warmup"]["stats"].errors)}
        if "warmup" in phases
        else None,
        "lookup_over_floor": {
            "p50": ratio(lookup, floor_step, "p50_ms"),
            "p99": ratio(lookup, floor_step, "p99_ms"),
            "server_p50": ratio(lookup.get("server", {}), floor_step.get("server", {}), "p50_ms"),
            "server_p99": ratio(lookup.get("server", {}), floor_step.get("server", {}), "p99_ms"),
        },
        "ladder": ladder_figures(floor, rungs, lookup),
        "memory": memory,
        "app_log_problems": log_problems(server.error_log),
        "port": server.port,
        "other_load_before_cores": quiet,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=database_url_for(1_000_000),
        help="default: hotline_bench_<size> on the server of BENCH_DATABASE_URL",
    )
    parser.add_argument(
        "--sample-file",
        type=Path,
        default=sample_file_for(1_000_000),
        help="default: results/letters_sample_<size>.csv, written by the seeding",
    )
    parser.add_argument("--workers", "-w", type=int, default=3)
    parser.add_argument("--worker-class", "-k", default="sync", choices=["sync", "gthread", "gevent"])
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per gthread worker (connections per gevent worker)"
    )
    parser.add_argument("--concurrency", "-c", type=int, default=24, help="simultaneous calls")
    parser.add_argument("--duration", type=float, default=90, help="seconds of IVR calls")
    parser.add_argument("--floor-duration", type=float, default=30, help="seconds of /ivr/fallback")
    parser.add_argument(
        "--ladder-duration", type=float, default=15, help="seconds of each rung of the durability ladder, 0: skip it"
    )
    parser.add_argument("--warmup", type=float, default=5, help="seconds of calls not counted")
    parser.add_argument(
        "--probe-duration",
        type=float,
        default=10,
        help="seconds of calls one at a time (then half that of /ivr/fallback), 0: skip",
    )
    parser.add_argument("--max-calls", type=int, default=200_000)
    parser.add_argument("--not-found-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=5599)
    parser.add_argument("--port", type=int, default=0, help="0: any free port on 127.0.0.1")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=120,
        help="wait up to this many seconds for other work on the machine to stop (0: don't)",
    )
    parser.add_argument(
        "--keep-history", action="store_true", help="keep earlier runs' calls and lookup attempts in the database"
    )


def main(argv=None) -> None:
    signal.signal(signal.SIGTERM, stop_on_term)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as logs:
        results = run(args, Path(__file__).resolve().parent.parent, Path(logs))
    from bench.report import print_summary

    print_summary(results)


def stop_on_term(signum, frame):
    raise KeyboardInterrupt  # so that `finally` blocks stop gunicorn


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; gunicorn stopped")
