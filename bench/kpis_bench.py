"""The supervisors' queries on a million calls in PostgreSQL: call log pages, KPIs, the export.

    .venv/bin/python -m bench.kpis_bench [--calls 1000000] [--runs 100] [--database-url URL] [--reload]

Creates a dedicated database (default `hotline_kpis_bench` on 127.0.0.1:5432 as the
`postgres` user), runs the project's migrations as an operator would (`flask --app wsgi
db upgrade` with DATABASE_URL), then loads, with COPY, 40 agents, 5,000 letters, a year
of synthetic calls (busy mornings, quiet nights; every outcome, language and queue time)
and their callback requests, and ANALYZEs. A second run reuses the data when the call
table already holds exactly that many calls.

It then times, in-process with production settings (statement timeout included), the
domain functions the pages call and the pages themselves through Flask's test client as
a logged-in supervisor: the call log's first page, filtered pages, a keyset page 500,000
calls deep (half the table when it is smaller), the KPI report for a day and for a month,
and CSV exports. Each figure is p50 / p99 / max over repeated runs after warm-up runs. It EXPLAINs the queries it timed
(which index each one used) and writes bench/results/kpis.md and kpis.json with the
machine's CPU, cores and memory (`--results-dir` for elsewhere).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hotline_kpis_bench"
BAGHDAD = ZoneInfo("Asia/Baghdad")
LAST_DAY = date(2025, 12, 31)  # the synthetic year ends here, so runs are comparable
AGENTS = 40
LETTERS = 5_000
CALLERS = 300_000
PASSWORD = "bench supervisor password"
COPY_CHUNK = 50_000

HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 2, 4, 9, 12, 12, 11, 9, 8, 9, 8, 6, 4, 3, 2, 2, 2, 1, 1]
OUTCOMES = [
    "self_served",
    "agent_answered",
    "abandoned_in_queue",
    "callback_requested",
    "after_hours",
    "failed_input",
    "throttled",
    "hung_up_in_ivr",
    "error",
]
OUTCOME_WEIGHTS = [45, 35, 8, 3, 2, 3, 0.5, 3, 0.5]
LANGUAGES = ["ar", "ckb", "en", None]
LANGUAGE_WEIGHTS = [60, 30, 6, 4]
DISPOSITIONS = [
    "status_given",
    "status_explained",
    "wrong_office",
    "complaint_logged",
    "callback_promised",
    "transferred",
    "no_record",
    "silent_or_dropped",
]
CALL_COLUMNS = (
    "sid",
    "caller",
    "called",
    "language",
    "started_at",
    "ended_at",
    "twilio_status",
    "duration_s",
    "outcome",
    "asked_number",
    "asked_date",
    "found",
    "transaction_id",
    "queued_at",
    "queue_left_at",
    "queue_result",
    "answered_at",
    "agent_id",
    "taken_at",
    "agent_ended_at",
    "wrapped_up_at",
    "disposition",
    "survey_score",
)


# --- the database --------------------------------------------------------------------------


def libpq_url(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def ensure_database(url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(libpq_url(url, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def run_migrations(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "development"}
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def ts(moment: datetime | None) -> str:
    return moment.isoformat() if moment else "\\N"


def text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def call_lines(count: int, rng: random.Random, agent_ids: list[int], letters: list[tuple[int, str, date]]):
    """COPY lines of `count` calls over the year ending LAST_DAY, Baghdad's busy hours weighted."""
    first = datetime.combine(LAST_DAY - timedelta(days=364), datetime.min.time(), BAGHDAD)
    outcomes = rng.choices(OUTCOMES, OUTCOME_WEIGHTS, k=count)
    languages = rng.choices(LANGUAGES, LANGUAGE_WEIGHTS, k=count)
    hours = rng.choices(range(24), HOUR_WEIGHTS, k=count)
    # In time order, as the IVR inserts them: a month of calls sits in a month of table pages.
    starts = sorted(
        (
            first
            + timedelta(
                days=rng.randrange(365), hours=hours[n], seconds=rng.randrange(3600), microseconds=rng.randrange(10**6)
            )
        ).astimezone(timezone.utc)
        for n in range(count)
    )
    for n, start in enumerate(starts):
        outcome = outcomes[n]
        asked = rng.random() < 0.7
        found = asked and rng.random() < 0.85
        letter = rng.choice(letters) if found else None
        asked_number = letter[1] if letter else (str(rng.randrange(10**3, 10**9)) if asked else None)
        asked_date = (letter[2] if letter else date(2024, 3, 15)) if asked else None
        queued = answered = left = taken = ended_agent = wrapped = None
        agent = disposition = score = None
        queue_result = None
        length = rng.randint(40, 240)
        if outcome in ("agent_answered", "abandoned_in_queue"):
            queued = start + timedelta(seconds=rng.randint(30, 150))
            if outcome == "agent_answered":
                wait = rng.choice([3, 8, 12, 18, 25, 29, 35, 45, 70, 120]) + rng.random()
                answered = taken = left = queued + timedelta(seconds=wait)
                queue_result = "redirected"
                agent = rng.choice(agent_ids)
                ended_agent = answered + timedelta(seconds=rng.randint(45, 600))
                wrapped = ended_agent + timedelta(seconds=rng.randint(5, 150)) if rng.random() < 0.95 else None
                disposition = rng.choice(DISPOSITIONS) if wrapped else None
                score = rng.choice([1, 2, 3, 4, 4, 5, 5, 5]) if rng.random() < 0.3 else None
                length = int((ended_agent - start).total_seconds()) + 5
            else:
                left = queued + timedelta(seconds=rng.randint(5, 300))
                queue_result = "hangup"
                length = int((left - start).total_seconds())
        end = start + timedelta(seconds=length)
        caller = None if rng.random() < 0.03 else f"+9647{rng.randrange(50, 80)}{rng.randrange(CALLERS):07d}"
        values = (
            f"CA{n:032x}",
            caller,
            "+9645599",
            languages[n],
            ts(start),
            ts(end),
            "completed",
            length,
            outcome,
            asked_number,
            asked_date.isoformat() if asked_date else None,
            found if asked else None,
            letter[0] if letter else None,
            ts(queued),
            ts(left),
            queue_result,
            ts(answered),
            agent,
            ts(taken),
            ts(ended_agent),
            ts(wrapped),
            disposition,
            score,
        )
        yield "\t".join(text(v) for v in values) + "\n"


def load(url: str, calls: int, seed: int, log=print) -> dict:
    """Users, letters, calls and callback requests; skipped when the calls are already there."""
    rng = random.Random(seed)
    with psycopg.connect(libpq_url(url)) as conn:
        existing = conn.execute("SELECT count(*) FROM call").fetchone()[0]
        if existing == calls:
            log(f"kpis bench: {existing:,} calls already loaded")
            return {"loaded": False}
        log(f"kpis bench: loading {calls:,} calls (table held {existing:,}) ...")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute(
            'TRUNCATE call_event, callback_request, sms_message, subscription, call, "transaction", '
            'transaction_event, entity, audit_entry, "user" RESTART IDENTITY CASCADE'
        )
        from domain.staff.passwords import hash_password  # in-process: the real hash the login checks

        supervisor_hash = hash_password(PASSWORD)
        conn.execute(
            'INSERT INTO "user" (username, display_name, role, password_hash, language, endpoint_kind, endpoint,'
            " presence, presence_since, active, created_at) VALUES ('bench-supervisor', 'Bench Supervisor',"
            " 'supervisor', %s, 'en', 'client', 'bench-supervisor', 'offline', now(), true, now())",
            (supervisor_hash,),
        )
        with conn.cursor() as cur:
            cur.executemany(
                'INSERT INTO "user" (username, display_name, role, password_hash, language, endpoint_kind,'
                " endpoint, presence, presence_since, active, created_at) VALUES (%s, %s, 'agent', 'x', 'ar',"
                " 'client', %s, 'offline', now(), true, now())",
                [(f"agent{n:02d}", f"Agent {n:02d}", f"agent{n:02d}") for n in range(AGENTS)],
            )
        agent_ids = [row[0] for row in conn.execute("SELECT id FROM \"user\" WHERE role = 'agent'")]
        conn.execute(
            "INSERT INTO entity (code, name_ar, name_ckb, name_en) VALUES"
            " ('bench-fed', 'وزارة اتحادية', 'وەزارەتی فیدراڵ', 'A federal ministry'),"
            " ('bench-krg', 'وزارة في الإقليم', 'وەزارەتی هەرێم', 'A KRG ministry')"
        )
        fed, krg = (row[0] for row in conn.execute("SELECT id FROM entity ORDER BY id"))
        with conn.cursor() as cur:
            cur.executemany(
                'INSERT INTO "transaction" (number, date, direction, subject, sender_id, recipient_id, holder_id,'
                " status, status_date, created_at, updated_at) VALUES (%s, %s, 'to_federal', 'bench', %s, %s, %s,"
                " 'forwarded', %s, now(), now())",
                [
                    (
                        str(1000 + n),
                        date(2024, 1, 1) + timedelta(days=n % 600),
                        krg,
                        fed,
                        fed,
                        date(2024, 1, 1) + timedelta(days=n % 600),
                    )
                    for n in range(LETTERS)
                ],
            )
        letters = [(row[0], row[1], row[2]) for row in conn.execute('SELECT id, number, date FROM "transaction"')]
        conn.commit()

        started = time.perf_counter()
        sql = f"COPY call ({', '.join(CALL_COLUMNS)}) FROM STDIN"
        with conn.cursor() as cur, cur.copy(sql) as copy:
            chunk: list[str] = []
            for line in call_lines(calls, rng, agent_ids, letters):
                chunk.append(line)
                if len(chunk) >= COPY_CHUNK:
                    copy.write("".join(chunk).encode())
                    chunk.clear()
            if chunk:
                copy.write("".join(chunk).encode())
        # Callback requests: the IVR's for its callback_requested calls, a few by agents.
        conn.execute(
            "INSERT INTO callback_request (call_id, phone, language, source, status, created_at, attempts)"
            " SELECT id, coalesce(caller, '+9647500000000'), coalesce(language, 'ar'), 'ivr', 'done',"
            " ended_at, 1 FROM call WHERE outcome = 'callback_requested'"
        )
        conn.execute(
            "INSERT INTO callback_request (phone, language, source, status, created_at, requested_by_id, attempts)"
            " SELECT coalesce(caller, '+9647500000000'), coalesce(language, 'ar'), 'agent', 'done',"
            " wrapped_up_at, agent_id, 1 FROM call WHERE disposition = 'callback_promised'"
        )
        conn.commit()
        copy_s = time.perf_counter() - started
        conn.autocommit = True
        conn.execute("VACUUM (ANALYZE) call")
        conn.execute("VACUUM (ANALYZE) callback_request")
        conn.execute('ANALYZE "user"')
        log(f"kpis bench: COPY and callbacks {copy_s:.1f} s")
        return {"loaded": True, "copy_s": round(copy_s, 1)}


# --- timing ---------------------------------------------------------------------------------


class Timer:
    """p50 / p99 / max of a function over repeated runs, and the statements its last run sent."""

    def __init__(self, engine, warmup: int, runs: int):
        from sqlalchemy import event

        self.warmup, self.runs = warmup, runs
        self.recording: list | None = None
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        if self.recording is not None:
            self.recording.append((statement, parameters))

    def measure(self, function, runs: int | None = None) -> dict:
        runs = runs or self.runs
        for _ in range(self.warmup):
            function()
        times = []
        for n in range(runs):
            self.recording = [] if n == runs - 1 else None
            started = time.perf_counter()
            function()
            times.append((time.perf_counter() - started) * 1000)
        statements, self.recording = self.recording, None
        times.sort()
        return {
            "p50": statistics.median(times),
            "p99": times[min(len(times) - 1, round(0.99 * (len(times) - 1)))],
            "max": times[-1],
            "runs": runs,
            "statements": statements,
        }


def indexes_used(url: str, statements: list) -> list[str]:
    """The indexes PostgreSQL's plans use for the SELECTs a measurement sent."""
    found: list[str] = []
    with psycopg.connect(libpq_url(url)) as conn:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT") or "FROM call" not in statement.replace('"', ""):
                continue
            with conn.cursor() as cur:
                cur.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
                plan = cur.fetchone()[0]
            found += [name for name in walk_indexes(plan[0]["Plan"]) if name not in found]
    return found


def walk_indexes(node: dict):
    if "Index Name" in node:
        yield node["Index Name"]
    for child in node.get("Plans", []):
        yield from walk_indexes(child)


def build_app(url: str):
    os.environ.update(
        {
            "APP_ENV": "production",
            "DATABASE_URL": url,
            "SECRET_KEY": "kpis-bench",
            "TWILIO_AUTH_TOKEN": "kpis-bench",
            "SESSION_COOKIE_SECURE": "false",
        }
    )
    os.environ.pop("REDIS_URL", None)
    from factory import create_app

    return create_app()


def logged_in(app):
    client = app.test_client()
    page = client.get("/console/login").get_data(as_text=True)
    token = page.split('name="csrf-token" content="')[1].split('"')[0]
    response = client.post(
        "/console/login", data={"username": "bench-supervisor", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.status_code
    page = client.get("/console/kpis").get_data(as_text=True)  # logging in starts a new session and token
    return client, page.split('name="csrf-token" content="')[1].split('"')[0]


def scenarios(app, url: str, timer: Timer, depth: int, log=print) -> list[dict]:
    from sqlalchemy import text as sql
    from sqlalchemy.exc import OperationalError

    from domain.db.keyset import Cursor
    from domain.reporting.call_log import CallFilters, call_log_page
    from domain.reporting.kpis import Period, kpi_report
    from extensions import db
    from models import Outcome

    tz = app.config["TIMEZONE"]
    level = app.config["SERVICE_LEVEL_SECONDS"]
    results = []

    def record(name: str, kind: str, function, runs: int | None = None, explain: bool = True):
        try:
            figures = timer.measure(function, runs)
        except OperationalError:  # cancelled by the app's statement timeout: that is the finding
            db.session.rollback()
            timer.recording = None
            limit = app.config["DB_STATEMENT_TIMEOUT_MS"]
            results.append({"name": name, "kind": kind, "timeout_ms": limit})
            log(f"  {name} [{kind}]: cancelled by the {limit} ms statement timeout")
            return
        figures["indexes"] = indexes_used(url, figures.pop("statements")) if explain else []
        results.append({"name": name, "kind": kind, **figures})
        log(f"  {name} [{kind}]: p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms")

    with app.app_context():
        deep = db.session.execute(
            sql("SELECT started_at, id FROM call ORDER BY started_at DESC, id DESC OFFSET :depth LIMIT 1"),
            {"depth": depth},
        ).one()
        busy_agent = db.session.execute(
            sql("SELECT agent_id FROM call WHERE agent_id IS NOT NULL GROUP BY agent_id ORDER BY count(*) DESC LIMIT 1")
        ).scalar()
        caller = db.session.execute(
            sql("SELECT caller FROM call WHERE caller IS NOT NULL GROUP BY caller ORDER BY count(*) DESC LIMIT 1")
        ).scalar()
        number = db.session.execute(
            sql("SELECT asked_number FROM call WHERE asked_number IS NOT NULL LIMIT 1")
        ).scalar()
        db.session.remove()

    day = Period(date(2025, 11, 12), date(2025, 11, 12))
    month = Period(date(2025, 11, 1), date(2025, 11, 30))
    pages = {
        "call log, first page": CallFilters(),
        "filtered: outcome abandoned in queue": CallFilters(outcome=Outcome.abandoned_in_queue),
        "filtered: one agent, one month": CallFilters(agent_id=busy_agent, start=month.start, end=month.end),
        "filtered: English, one day": CallFilters(language="en", start=day.start, end=day.end),
        "filtered: caller number": CallFilters(caller=caller),
        "filtered: letter number": CallFilters(number=number),
    }
    with app.app_context():
        for name, filters in pages.items():
            record(name, "query", lambda f=filters: call_log_page(f, tz_name=tz, size=50))
        record(
            f"keyset page {depth:,} calls deep",
            "query",
            lambda: call_log_page(CallFilters(), tz_name=tz, size=50, cursor=Cursor(deep.started_at, deep.id)),
        )
        record(
            "the same depth with OFFSET (for comparison)",
            "query",
            lambda: db.session.execute(
                sql("SELECT id FROM call ORDER BY started_at DESC, id DESC OFFSET :depth LIMIT 50"), {"depth": depth}
            ).all(),
            runs=5,
            explain=False,
        )
        record(
            "KPI report, one day (5 grouped queries)",
            "query",
            lambda: kpi_report(day, tz_name=tz, service_level_s=level),
        )
        record(
            "KPI report, one month (5 grouped queries)",
            "query",
            lambda: kpi_report(month, tz_name=tz, service_level_s=level),
        )
        db.session.remove()

    client, token = logged_in(app)
    record("GET /console/calls", "page", lambda: client.get("/console/calls").get_data(), explain=False)
    search = client.post(
        "/console/calls",
        data={
            "csrf_token": token,
            "outcome": "abandoned_in_queue",
            "start": month.start.isoformat(),
            "end": month.end.isoformat(),
        },
    )
    filtered_url = search.headers["Location"]
    record(
        "GET /console/calls (abandoned, one month)", "page", lambda: client.get(filtered_url).get_data(), explain=False
    )
    record(
        "GET /console/kpis (one day)",
        "page",
        lambda: client.get(f"/console/kpis?period=custom&start={day.start}&end={day.end}").get_data(),
        explain=False,
    )
    record(
        "GET /console/kpis (one month)",
        "page",
        lambda: client.get(f"/console/kpis?period=custom&start={month.start}&end={month.end}").get_data(),
        explain=False,
    )
    day_search = client.post(
        "/console/calls", data={"csrf_token": token, "start": day.start.isoformat(), "end": day.end.isoformat()}
    ).headers["Location"]
    month_search = client.post(
        "/console/calls", data={"csrf_token": token, "start": month.start.isoformat(), "end": month.end.isoformat()}
    ).headers["Location"]
    rows = {}
    for label, location in (("one day", day_search), ("one month", month_search)):
        export_url = "/console/calls.csv?" + location.split("?", 1)[1]
        rows[label] = client.get(export_url).get_data().count(b"\n") - 1
        record(
            f"CSV export, {label} ({rows[label]:,} calls, streamed)",
            "page",
            lambda u=export_url: client.get(u).get_data(),
            runs=5,
            explain=False,
        )
    return results


# --- the report ----------------------------------------------------------------------------


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kb = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
    }


def data_shape(url: str) -> dict:
    with psycopg.connect(libpq_url(url)) as conn:
        calls, first, last = conn.execute("SELECT count(*), min(started_at), max(started_at) FROM call").fetchone()
        callbacks = conn.execute("SELECT count(*) FROM callback_request").fetchone()[0]
        size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('call'))").fetchone()[0]
        version = conn.execute("SHOW server_version").fetchone()[0]
        month = conn.execute(
            "SELECT count(*) FROM call WHERE started_at >= '2025-10-31 21:00+00' AND started_at < '2025-11-30 21:00+00'"
        ).fetchone()[0]
        day = conn.execute(
            "SELECT count(*) FROM call WHERE started_at >= '2025-11-11 21:00+00' AND started_at < '2025-11-12 21:00+00'"
        ).fetchone()[0]
    return {
        "calls": calls,
        "first": first,
        "last": last,
        "callbacks": callbacks,
        "size": size,
        "postgres": version,
        "month_calls": month,
        "day_calls": day,
    }


def write_report(
    results: list[dict], shape: dict, host: dict, args, load_report: dict, directory: Path = RESULTS_DIR
) -> str:
    lines = [
        "# Supervisors' queries on a million calls",
        "",
        f"Written by `bench/kpis_bench.py` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        f"- Machine: {host['nproc']} cores ({host['cpu']}), {host['ram_gib']} GiB RAM; PostgreSQL "
        f"{shape['postgres']} on the same machine; Python {host['python']}.",
        f"- Data: {shape['calls']:,} calls from {shape['first']:%Y-%m-%d} to {shape['last']:%Y-%m-%d} "
        f"(table and indexes {shape['size']}), {shape['callbacks']:,} callback requests, {AGENTS} agents. "
        f"The day measured (12/11/2025) holds {shape['day_calls']:,} calls, the month (November 2025) "
        f"{shape['month_calls']:,}.",
        f"- Each figure: {args.runs} timed runs after {args.warmup} warm-up runs (exports: 5), in milliseconds. "
        '"query" is the domain function the page calls; "page" is the whole request through Flask\'s '
        "test client as a logged-in supervisor (template rendering included, no network).",
        "",
        "| what | kind | p50 ms | p99 ms | max ms | indexes in the plan |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        if "timeout_ms" in r:
            lines.append(
                f"| {r['name']} | {r['kind']} | > {r['timeout_ms']:,} | | | cancelled by the app's statement timeout |"
            )
            continue
        lines.append(
            f"| {r['name']} | {r['kind']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | "
            f"{', '.join(r['indexes']) or '—'} |"
        )
    lines += [
        "",
        "p99 is the nearest-rank 99th percentile of the timed runs (with 100 runs, the second slowest).",
        "The machine is shared with other work (tests of other branches may run meanwhile): the p50 is "
        "the figure to read; a high max is usually another process taking the CPU.",
        f"Load: {'COPY took ' + str(load_report.get('copy_s')) + ' s' if load_report.get('loaded') else 'reused'}.",
        "",
    ]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "kpis.md").write_text("\n".join(lines), encoding="utf-8")
    return "\n".join(lines)


def write_json(results: list[dict], shape: dict, args, load_report: dict, directory: Path) -> Path:
    """The same figures as JSON, with the machine and the commit as the other parts write them."""
    from bench import report
    from bench.checkout import app_code

    code = app_code(None)
    document = {
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "app": {"commit": code.commit, "dirty": code.dirty, "exported": False},
        "machine": report.machine(),
        "settings": {
            "calls": args.calls,
            "runs": args.runs,
            "warmup": args.warmup,
            "seed": args.seed,
            "database": make_url(args.database_url).database,
        },
        "data": shape,
        "load": load_report,
        "results": results,
    }
    path = directory / "kpis.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_KPIS_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=5599)
    parser.add_argument("--reload", action="store_true", help="load the calls again even when present")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)

    os.chdir(ROOT)
    ensure_database(args.database_url)
    run_migrations(args.database_url)
    if args.reload:
        with psycopg.connect(libpq_url(args.database_url)) as conn:
            conn.execute("TRUNCATE call, callback_request RESTART IDENTITY CASCADE")
    load_report = load(args.database_url, args.calls, args.seed)
    app = build_app(args.database_url)
    with app.app_context():
        from extensions import db

        timer = Timer(db.engine, args.warmup, args.runs)
    results = scenarios(app, args.database_url, timer, depth=min(500_000, args.calls // 2))
    shape = data_shape(args.database_url)
    report = write_report(results, shape, machine(), args, load_report, args.results_dir)
    json_path = write_json(results, shape, args, load_report, args.results_dir)
    print(report)
    print(json.dumps({"written": [str(args.results_dir / "kpis.md"), str(json_path)]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
