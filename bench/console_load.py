"""Load test of the agents' console: hundreds of live queue streams on gevent workers, through Redis.

    python -m bench console [--agents 200] [--console-duration 60] ...

Starts gunicorn for `wsgi:app` as the README's deployment section does (`-k gevent -w 4
--worker-connections 1000`, production settings, REDIS_URL on a Redis database of the
bench's own, emptied before and after), a local Twilio REST stand-in for the console's
Take (TWILIO_API_BASE_URL; production refuses the app's own /dev/twilio), and the bench
agents (bench/console_users.py). Each agent logs in once through the real login form
(CSRF token from the page) and opens `/console/stream`. Then callers arrive at a steady
rate through signed IVR webhooks (voice, language, menu 0 = an agent: <Enqueue>); some
are taken by an agent through the console's Take endpoint, the others hang up after a
while (status callback). For every (event, stream) pair the driver notes when the queue
event that shows the change arrived, and reports the delay from the moment the webhook
(or the Take) was sent: p50/p90/p99/max. Also memory and CPU of every gunicorn worker
with all the streams open. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from twilio.request_validator import RequestValidator

from bench.ivr_load import (
    ACCOUNT_SID,
    BENCH_TOKEN,
    DEFAULT_REDIS_URL,
    HOTLINE,
    CpuMeter,
    Server,
    cpu_by_pid,
    cpu_since,
    free_port,
    log_problems,
    process_memory,
    summary,
    truncate_history,
)

TARGET_P99_MS = 250.0
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


# --- the servers ----------------------------------------------------------------------


@dataclass
class ConsoleServer(Server):
    """gunicorn with gevent workers, Redis for live events and limits, Twilio's REST at a stand-in."""

    app_target = "wsgi:app"  # as deployed: the ladder is the IVR benchmark's
    redis_url: str = DEFAULT_REDIS_URL
    twilio_url: str = ""

    def env(self) -> dict:
        env = super().env()
        env.update(
            {
                "REDIS_URL": self.redis_url,  # live events, login limits and jobs, as in production
                "TWILIO_API_BASE_URL": self.twilio_url,
                "AGENT_HOURS": "00:00-24:00",  # the queue is open whenever the bench runs
                "AGENT_CLOSED_DATES": "",
                "JOB_QUEUE_PREFIX": "bench:",
                "SMS_ENABLED": "0",
            }
        )
        return env


def serve_twilio(ready) -> None:
    """In a process of its own, so that its answers do not wait for the driver's event loop."""
    from tests.support.twilio_stand_in import TwilioStandIn  # the tests' stand-in: shaped like Twilio's REST API

    stand_in = TwilioStandIn(ACCOUNT_SID, BENCH_TOKEN).start()
    ready.send(stand_in.url)
    while True:
        time.sleep(3600)


def start_twilio() -> tuple[multiprocessing.Process, str]:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=serve_twilio, args=(send,), daemon=True, name="twilio-stand-in")
    process.start()
    if not receive.poll(30):
        process.kill()
        raise RuntimeError("the Twilio stand-in did not start")
    return process, receive.recv()


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()


def redis_pids() -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as handle:
                    if handle.read().strip().startswith("redis-server"):
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def ensure_agents(app_dir: Path, database_url: str, agents: int) -> dict:
    script = Path(__file__).resolve().parent / "console_users.py"
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            "--app-dir",
            str(app_dir),
            "--database-url",
            database_url,
            "--agents",
            str(agents),
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError("could not create the bench agents: " + (done.stderr.strip().splitlines() or ["?"])[-1])
    return json.loads(done.stdout)


# --- agents in browsers -----------------------------------------------------------------


def cookies_from(response: aiohttp.ClientResponse, jar: dict) -> None:
    """Keep the cookies a response sets. By hand: the production cookie is `Secure`, and
    the bench talks plain HTTP to 127.0.0.1 (in production a TLS proxy sits in front)."""
    for name, morsel in response.cookies.items():
        jar[name] = morsel.value


def cookie_header(jar: dict) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


@dataclass
class Agent:
    index: int
    username: str
    cookies: dict = field(default_factory=dict)
    csrf: str = ""
    events: list = field(default_factory=list)  # (monotonic, wall, event name, data text)
    opened_at: float | None = None
    ended: str | None = None


async def log_in(session: aiohttp.ClientSession, base: str, agent: Agent, password: str) -> None:
    async with session.get(base + "/console/login") as response:
        page = await response.text()
        cookies_from(response, agent.cookies)
    found = CSRF_FIELD.search(page)
    if found is None:
        raise RuntimeError(f"login page without a CSRF token (HTTP {response.status})")
    form = {"username": agent.username, "password": password, "csrf_token": found.group(1)}
    async with session.post(
        base + "/console/login", data=form, allow_redirects=False, headers={"Cookie": cookie_header(agent.cookies)}
    ) as response:
        await response.read()
        if response.status != 302:
            raise RuntimeError(f"login of {agent.username} answered HTTP {response.status}")
        cookies_from(response, agent.cookies)
    async with session.get(base + "/console/", headers={"Cookie": cookie_header(agent.cookies)}) as response:
        page = await response.text()
        cookies_from(response, agent.cookies)
    found = CSRF_META.search(page)
    if response.status != 200 or found is None:
        raise RuntimeError(f"console page for {agent.username}: HTTP {response.status}")
    agent.csrf = found.group(1)
    # Logged in is Away: the agent clicks Available, as at the start of a shift, or nobody
    # answers the queue and callers are offered a callback instead of waiting.
    async with session.post(
        base + "/console/presence",
        data={"presence": "available", "csrf_token": agent.csrf},
        allow_redirects=False,
        headers={"Cookie": cookie_header(agent.cookies)},
    ) as response:
        await response.read()
        if response.status != 303:
            raise RuntimeError(f"{agent.username} could not be made available: HTTP {response.status}")
        cookies_from(response, agent.cookies)


async def listen(session: aiohttp.ClientSession, base: str, agent: Agent, opened: asyncio.Event, count: list) -> None:
    """Hold the stream open as a browser's EventSource does; note each event's arrival."""
    try:
        async with session.get(
            base + "/console/stream", headers={"Cookie": cookie_header(agent.cookies), "Accept": "text/event-stream"}
        ) as response:
            if response.status != 200:
                agent.ended = f"http_{response.status}"
                return
            name = "message"
            while True:
                line = await response.content.readline()
                if not line:
                    agent.ended = "closed_by_server"
                    return
                if line.startswith(b"data: "):
                    # The clock first; parsing waits until the run is over.
                    agent.events.append((time.monotonic(), time.time(), name, line[6:].decode()))
                    if agent.opened_at is None:
                        agent.opened_at = time.monotonic()
                        count[0] += 1
                        if count[0] >= count[1]:
                            opened.set()
                elif line.startswith(b"event: "):
                    name = line[7:].strip().decode()
                elif line == b"\n":
                    name = "message"
    except asyncio.CancelledError:
        agent.ended = agent.ended or "stopped"
        raise
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        agent.ended = f"transport:{type(exc).__name__}"


# --- callers --------------------------------------------------------------------------


@dataclass
class CallRecord:
    sid: str
    caller: str
    queued_sent: float | None = None  # monotonic, when the webhook that queued the call was sent
    queued_returned: float | None = None
    call_id: int | None = None
    fate: str = ""  # taken | left
    change_sent: float | None = None  # when the Take (or the hang-up callback) was sent
    change_returned: float | None = None
    change_status: int | None = None
    error: str | None = None


class Callers:
    def __init__(self, base: str, session: aiohttp.ClientSession):
        self.base, self.session = base, session
        self.validator = RequestValidator(BENCH_TOKEN)
        self.run_tag = random.randrange(10)

    def form(self, record: CallRecord, **extra) -> dict:
        form = {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "CallSid": record.sid,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "From": record.caller,
            "Caller": record.caller,
            "To": HOTLINE,
            "Called": HOTLINE,
            "FromCountry": "IQ",
        }
        return {**form, **extra}

    async def webhook(self, url: str, params: dict) -> tuple[int, str, float, float]:
        signature = self.validator.compute_signature(url, params)
        sent = time.monotonic()
        async with self.session.post(url, data=params, headers={"X-Twilio-Signature": signature}) as response:
            body = await response.text()
        return response.status, body, sent, time.monotonic()

    async def enqueue(self, record: CallRecord, n: int) -> bool:
        """voice -> language -> menu 0 (an agent): the answer to the last one is <Enqueue>."""
        url = self.base + "/ivr/voice"
        steps = [
            ({"CallStatus": "ringing"}, "/ivr/language"),
            ({"Digits": "312"[n % 3]}, "/ivr/menu"),
            ({"Digits": "0"}, None),
        ]
        for extra, expect in steps:
            status, body, sent, returned = await self.webhook(url, self.form(record, **extra))
            if status != 200:
                record.error = f"http_{status}"
                return False
            if expect is None:
                if "<Enqueue" not in body:
                    record.error = "not_enqueued"
                    return False
                record.queued_sent, record.queued_returned = sent, returned
                return True
            action = re.search(r'action="([^"]+)"', body)
            if action is None:
                record.error = "no_gather"
                return False
            url = self.base + action.group(1).replace("&amp;", "&")
            if not url.startswith(self.base + expect):
                record.error = f"wrong_action:{action.group(1)[:40]}"
                return False
        return False

    async def hang_up(self, record: CallRecord) -> tuple[int, float, float]:
        status, _, sent, returned = await self.webhook(
            self.base + "/ivr/status",
            self.form(
                record,
                CallStatus="completed",
                CallDuration="60",
                CallbackSource="call-progress-events",
                SequenceNumber="0",
            ),
        )
        return status, sent, returned


async def call_id_of(conn, sid: str) -> int | None:
    cursor = await conn.execute("SELECT id FROM call WHERE sid = %s", (sid,))
    row = await cursor.fetchone()
    return row[0] if row else None


async def offered_agent(conn, call_id: int | None, agents: dict[str, Agent], wait_s: float = 2.0) -> Agent | None:
    """Routing by offer (ROUTING_MODE=offer, the default): the caller is offered to one agent,
    and only that agent's Take succeeds. The offer row names them; routing runs as the call
    is queued, so it is there at once or within a moment."""
    deadline = time.monotonic() + wait_s
    while call_id is not None:
        cursor = await conn.execute(
            'SELECT u.username FROM call_offer o JOIN "user" u ON u.id = o.agent_id WHERE o.call_id = %s', (call_id,)
        )
        row = await cursor.fetchone()
        if row is not None and row[0] in agents:
            return agents[row[0]]
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(0.05)
    return None


async def take(session: aiohttp.ClientSession, base: str, agent: Agent, record: CallRecord) -> None:
    headers = {"Cookie": cookie_header(agent.cookies), "X-CSRFToken": agent.csrf, "Accept": "application/json"}
    record.change_sent = time.monotonic()
    async with session.post(f"{base}/console/calls/{record.call_id}/take", headers=headers) as response:
        await response.read()
        record.change_status = response.status
    record.change_returned = time.monotonic()


async def one_caller(
    callers: Callers,
    conn,
    record: CallRecord,
    n: int,
    args,
    agents: list[Agent],
    takes: list[int],
    rng: random.Random,
    session: aiohttp.ClientSession,
) -> None:
    try:
        if not await callers.enqueue(record, n):
            return
        record.call_id = await call_id_of(conn, record.sid)
        wait = rng.uniform(0.5, 1.5) * args.hold
        await asyncio.sleep(wait)
        offered = await offered_agent(conn, record.call_id, {agent.username: agent for agent in agents})
        if takes[0] < len(agents) and rng.random() < args.take_share:
            # The agent the caller is offered to takes it (routing by offer); each agent takes at
            # most one call (then on a call, never offered again): no wrap-up in between.
            agent = offered or agents[takes[0]]
            takes[0] += 1
            record.fate = "taken"
            await take(session, callers.base, agent, record)
            await asyncio.sleep(args.hold)
            await callers.hang_up(record)  # the call with the agent ends; no queue change
        else:
            record.fate = "left"
            record.change_status, record.change_sent, record.change_returned = await callers.hang_up(record)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        record.error = f"transport:{type(exc).__name__}"


# --- figures ---------------------------------------------------------------------------


def stream_delays(records: list[CallRecord], agents: list[Agent]) -> dict:
    """For every call and every stream, when the first queue event showing the change arrived."""
    parsed = []  # per stream: [(monotonic, wall, server 'at', set of waiting call ids)]
    for agent in agents:
        events = []
        for mono, wall, name, data in agent.events:
            if name != "queue":
                continue
            try:
                message = json.loads(data)
            except ValueError:
                continue
            events.append((mono, wall, message.get("at"), {row["id"] for row in message.get("calls", [])}))
        parsed.append(events[1:])  # the first is the snapshot sent when the stream opened
    delays = {"queued": [], "queued_after_return": [], "taken": [], "left": [], "fanout": []}
    missed = {"queued": 0, "taken": 0, "left": 0}
    for record in records:
        if record.call_id is None or record.queued_sent is None:
            continue
        for events in parsed:
            seen_at = None
            for mono, wall, at, ids in events:
                if mono >= record.queued_sent and record.call_id in ids:
                    seen_at = mono
                    delays["queued"].append((mono - record.queued_sent) * 1000)
                    delays["queued_after_return"].append((mono - record.queued_returned) * 1000)
                    if at:
                        delays["fanout"].append((wall - at) * 1000)
                    break
            if seen_at is None:
                missed["queued"] += 1
                continue
            if record.fate in ("taken", "left") and record.change_sent is not None and record.change_status == 200:
                for mono, wall, at, ids in events:
                    if mono >= max(record.change_sent, seen_at) and record.call_id not in ids:
                        delays[record.fate].append((mono - record.change_sent) * 1000)
                        if at:
                            delays["fanout"].append((wall - at) * 1000)
                        break
                else:
                    missed[record.fate] += 1
    figures = {name: summary(values) for name, values in delays.items()}
    everything = delays["queued"] + delays["taken"] + delays["left"]
    figures["all"] = summary(everything)
    figures["missed"] = missed
    return figures


def worker_memory(server: Server) -> list[dict]:
    connections = connections_per_worker(server)
    return [{**process_memory(pid), "client_connections": connections.get(pid)} for pid in server.worker_pids()]


def connections_per_worker(server: Server) -> dict[int, int]:
    """Established client connections each worker holds on gunicorn's port (the open streams,
    mostly): its socket inodes matched against the kernel's TCP table."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                next(handle)
                for line in handle:
                    fields = line.split()
                    if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == server.port:
                        established.add(fields[9])
        except OSError:
            continue
    counts = {}
    for pid in server.worker_pids():
        inodes = set()
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
        counts[pid] = len(inodes & established)
    return counts


def app_warnings(error_log: Path, limit: int = 8) -> dict:
    """The app's WARNING lines by message (e.g. live events not published, streams refused)."""
    from collections import Counter

    if not error_log.exists():
        return {}
    found = Counter()
    for line in error_log.read_text("utf-8", "replace").splitlines():
        if " WARNING " in line and "voice_prompts" not in line:  # untranslated prompts: not load
            found[line.split(" WARNING ", 1)[1][:160]] += 1
    return dict(found.most_common(limit))


# --- the run ---------------------------------------------------------------------------


async def drive(server: ConsoleServer, args, meter: CpuMeter, password: str) -> dict:
    import psycopg

    from bench.seed_letters import libpq_url

    base = server.base_url
    agents = [Agent(i, f"bench-agent-{i:03d}") for i in range(args.agents)]
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=None)
    result: dict = {}
    async with (
        aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=60),
            cookie_jar=aiohttp.DummyCookieJar(),
            connector=aiohttp.TCPConnector(limit=64),
        ) as requests_session,
        aiohttp.ClientSession(
            timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(), connector=aiohttp.TCPConnector(limit=0)
        ) as stream_session,
    ):
        # 1. Every agent logs in once, a few at a time (Argon2 on the server sets the pace).
        started = time.monotonic()
        gate = asyncio.Semaphore(args.login_concurrency)

        async def login_one(agent: Agent) -> None:
            async with gate:
                try:
                    await log_in(requests_session, base, agent, password)
                except (RuntimeError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    agent.ended = f"login: {exc}"

        await asyncio.gather(*(login_one(agent) for agent in agents))
        result["login_s"] = round(time.monotonic() - started, 1)
        result["login_failures"] = sorted({a.ended for a in agents if a.ended})
        agents = [agent for agent in agents if not agent.ended]  # only those logged in listen and take
        print(
            f"console: {len(agents)} agents logged in in {result['login_s']} s"
            + (f"; failures: {result['login_failures']}" if result["login_failures"] else ""),
            flush=True,
        )
        if not agents:
            raise RuntimeError("no agent could log in: " + "; ".join(result["login_failures"])[:300])
        result["memory_before_streams"] = worker_memory(server)

        # 2. Every agent opens the live queue.
        opened, count = asyncio.Event(), [0, len(agents)]
        started = time.monotonic()
        listeners = [asyncio.create_task(listen(stream_session, base, agent, opened, count)) for agent in agents]
        try:
            await asyncio.wait_for(opened.wait(), timeout=60)
        except asyncio.TimeoutError:
            pass
        result["streams_open"] = count[0]
        result["streams_open_s"] = round(time.monotonic() - started, 2)
        print(f"console: {count[0]} of {len(agents)} streams open in {result['streams_open_s']} s", flush=True)
        if count[0] < len(agents):
            result["stream_failures"] = sorted({a.ended or "no_event" for a in agents if a.opened_at is None})
        await asyncio.sleep(1)

        # 3. Callers arrive at a steady rate; some are taken, the others hang up.
        callers = Callers(base, requests_session)
        records: list[CallRecord] = []
        rng = random.Random(args.seed)
        takes = [0]
        tasks = []
        print(f"console: callers for {args.console_duration:g} s, one every {args.call_interval:g} s ...", flush=True)
        before = meter.snapshot()
        redis_before = cpu_by_pid(redis_pids())
        async with await psycopg.AsyncConnection.connect(libpq_url(args.console_database_url), autocommit=True) as conn:
            deadline = time.monotonic() + args.console_duration
            n = 0
            next_at = time.monotonic()
            while time.monotonic() < deadline:
                record = CallRecord("CA" + uuid.uuid4().hex, f"+96477{callers.run_tag}{n % 10**7:07d}")
                records.append(record)
                tasks.append(
                    asyncio.create_task(
                        one_caller(callers, conn, record, n, args, agents, takes, rng, requests_session)
                    )
                )
                n += 1
                next_at += args.call_interval
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            result["memory_with_streams"] = worker_memory(server)  # every stream open, mid-traffic
            await asyncio.wait(tasks, timeout=args.hold * 3 + 30)
        await asyncio.sleep(1)  # the last events reach the streams
        after = meter.snapshot()
        wall = after["wall"] - before["wall"]
        result["cpu_cores"] = CpuMeter.share(before, after)
        result["cpu_cores"]["redis"] = round(cpu_since(redis_before, cpu_by_pid(redis_pids())) / wall, 2)
        result["cpu_per_worker_cores"] = {
            str(pid): round(cpu_since({pid: before["gunicorn"].get(pid, 0.0)}, {pid: used}) / wall, 2)
            for pid, used in after["gunicorn"].items()
            if pid != server.process.pid
        }
        result["traffic_s"] = round(wall, 1)
        result["still_open"] = sum(1 for agent in agents if agent.opened_at is not None and agent.ended is None)
        for listener in listeners:
            listener.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)

    result["calls"] = {
        "started": len(records),
        "queued": sum(1 for r in records if r.call_id is not None),
        "taken": sum(1 for r in records if r.fate == "taken" and r.change_status == 200),
        "take_refused": sum(1 for r in records if r.fate == "taken" and r.change_status != 200),
        "left": sum(1 for r in records if r.fate == "left" and r.change_status == 200),
        "errors": sorted({r.error for r in records if r.error}),
        "error_count": sum(1 for r in records if r.error),
    }
    result["webhook_ms"] = summary(
        [(r.queued_returned - r.queued_sent) * 1000 for r in records if r.queued_returned is not None]
    )
    result["take_ms"] = summary(
        [
            (r.change_returned - r.change_sent) * 1000
            for r in records
            if r.fate == "taken" and r.change_returned is not None
        ]
    )
    result["delays_ms"] = stream_delays(records, agents)
    result["events_received"] = sum(len(agent.events) for agent in agents)
    result["stream_endings"] = sorted({agent.ended for agent in agents if agent.ended not in (None, "stopped")})
    return result


def run(args, app_dir: Path, log_dir: Path) -> dict:
    from bench.console_users import PASSWORD
    from bench.seed_letters import ensure_database, run_migrations

    ensure_database(args.console_database_url)
    run_migrations(args.console_database_url, app_dir)
    truncate_history(args.console_database_url)
    print(f"console: making sure {args.agents} agents exist (Argon2 per new agent) ...", flush=True)
    users = ensure_agents(app_dir, args.console_database_url, args.agents)
    flush_redis(args.redis_url)
    twilio, twilio_url = start_twilio()
    server = ConsoleServer(
        app_dir,
        args.console_database_url,
        args.console_workers,
        "gevent",
        args.worker_connections,
        args.port or free_port(),
        log_dir,
        redis_url=args.redis_url,
        twilio_url=twilio_url,
    )
    print(f"console: gunicorn {' '.join(server.command()[2:])}", flush=True)
    try:
        server.start()
        meter = CpuMeter(server)
        result = asyncio.run(drive(server, args, meter, PASSWORD))
        result["memory_master"] = process_memory(server.process.pid)
    finally:
        server.stop()
        twilio.kill()
        twilio.join(5)
        try:
            flush_redis(args.redis_url)
        except Exception:
            pass
    delays = result["delays_ms"]
    result["target"] = {
        "p99_ms": TARGET_P99_MS,
        "met": bool(delays["all"].get("count")) and delays["all"]["p99_ms"] < TARGET_P99_MS,
    }
    result["users"] = users
    result["app_log_problems"] = log_problems(server.error_log)
    result["app_warnings"] = app_warnings(server.error_log)
    from bench.report import shown_command

    result["gunicorn"] = shown_command(server.command())
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("console")
    server = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/hotline_bench")
    from sqlalchemy.engine import make_url

    group.add_argument(
        "--console-database-url",
        default=make_url(server).set(database="hotline_bench_console").render_as_string(False),
        help="the console bench's own database (calls and agents; no letters needed)",
    )
    group.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        help="a Redis database of the bench's own: it is emptied before and after",
    )
    group.add_argument("--agents", type=int, default=200, help="agents, each with one open stream")
    group.add_argument("--console-workers", type=int, default=4, help="gevent workers (README: 4)")
    group.add_argument("--worker-connections", type=int, default=1000, help="per gevent worker (README: 1000)")
    group.add_argument("--console-duration", type=float, default=60, help="seconds of arriving callers")
    group.add_argument("--call-interval", type=float, default=0.5, help="seconds between two new callers")
    group.add_argument("--take-share", type=float, default=0.5, help="share of queued calls an agent takes")
    group.add_argument(
        "--hold",
        type=float,
        default=2.0,
        help="seconds a caller waits in the queue before being taken or hanging up (±50 %%)",
    )
    group.add_argument("--login-concurrency", type=int, default=8)


def main(argv=None) -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=5599)
    parser.add_argument("--log-dir", type=Path, default=None, help="keep gunicorn's logs here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hotline-bench-console-") as logs:
        result = run(args, Path(__file__).resolve().parent.parent, args.log_dir or Path(logs))
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
