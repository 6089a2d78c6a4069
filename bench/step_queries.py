"""Where a webhook's time goes in the database: statements per IVR step, and the lookup's plans.

    python bench/step_queries.py --app-dir . --database-url URL --sample-file FILE

Builds the app in-process (production settings, the benchmark database), plays one call
that finds its letter and one that does not through Flask's test client with signed
requests, counts the SQL statements each step sends, then runs EXPLAIN (ANALYZE, BUFFERS)
on every SELECT of the lookup step. Before that it times 50 calls and 300 fallback requests
one at a time in CPU time (a figure a busy, shared machine barely changes). Prints JSON.
Run as a file, not a module, so that the app is imported from --app-dir (which may be an export of another commit).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urljoin, urlsplit

BASE_URL = "https://hotline.bench.invalid"
TOKEN = "bench-step-queries-token"


def build_app(app_dir: Path, database_url: str):
    sys.path.insert(0, str(app_dir))
    os.chdir(app_dir)
    os.environ.update(
        {
            "APP_ENV": "production",
            "DATABASE_URL": database_url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "SECRET_KEY": "bench",
            "PUBLIC_BASE_URL": BASE_URL,
        }
    )
    os.environ.pop("REDIS_URL", None)
    from factory import create_app  # noqa: E402  (from app_dir)

    return create_app()


class StatementLog:
    """Every statement the engine sends, tagged with the step being played."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.step = None
        self.statements = defaultdict(list)  # step -> [(sql, params)]
        self.checkouts = Counter()
        event.listen(engine, "before_cursor_execute", self.on_execute)
        event.listen(engine.pool, "checkout", self.on_checkout)

    def on_execute(self, conn, cursor, statement, parameters, context, executemany):
        if self.step:
            self.statements[self.step].append((statement, parameters))

    def on_checkout(self, *args):
        if self.step:
            self.checkouts[self.step] += 1


def play(app, log: StatementLog, label: str, number: str, on: str, cpu: dict | None = None) -> dict:
    """One call through the flow; returns statements per step (and adds CPU ms to `cpu`)."""
    from twilio.request_validator import RequestValidator

    client = app.test_client()
    validator = RequestValidator(TOKEN)
    sid = "CA" + uuid.uuid4().hex
    caller = f"+96477{uuid.uuid4().int % 10**8:08d}"
    form = {
        "AccountSid": "AC" + "b" * 32,
        "CallSid": sid,
        "From": caller,
        "To": "+9645599",
        "Caller": caller,
        "Called": "+9645599",
        "Direction": "inbound",
        "CallStatus": "in-progress",
    }
    keys = [
        ("incoming", None),
        ("language", "3"),
        ("menu", "1"),
        ("number", number),
        ("number_confirm", "1"),
        ("date", on[8:10] + on[5:7] + on[0:4]),
        ("date_confirm", "1"),
        ("result", ""),
    ]
    path = "/ivr/voice"
    steps = {}
    for step, digits in keys:
        if path is None:
            break
        params = dict(form, **({"Digits": digits} if digits is not None else {}))
        headers = {"X-Twilio-Signature": validator.compute_signature(BASE_URL + path, params)}
        log.step = f"{label}:{step}"
        started = time.process_time()
        response = client.post(path, data=params, headers=headers)
        if cpu is not None:
            cpu[step].append((time.process_time() - started) * 1000)
        log.step = None
        root = ET.fromstring(response.data)
        gather = root.find("Gather")
        action = urljoin(BASE_URL + path, gather.get("action")) if gather is not None else None
        steps[step] = {"status": response.status_code, "next": urlsplit(action).path if action else None}
        path = None
        if action:
            parts = urlsplit(action)
            path = parts.path + ("?" + parts.query if parts.query else "")
        if step == "date_confirm" and steps[step]["next"] != "/ivr/result":
            break
    params = dict(form, CallStatus="completed", CallDuration="60")
    headers = {"X-Twilio-Signature": validator.compute_signature(BASE_URL + "/ivr/status", params)}
    log.step = f"{label}:status"
    started = time.process_time()
    client.post("/ivr/status", data=params, headers=headers)
    if cpu is not None:
        cpu["status"].append((time.process_time() - started) * 1000)
    log.step = None
    steps["status"] = {"status": 200}
    for step in steps:
        statements = log.statements.get(f"{label}:{step}", [])
        steps[step]["statements"] = len(statements)
        steps[step]["checkouts"] = log.checkouts.get(f"{label}:{step}", 0)
        steps[step]["kinds"] = dict(Counter(statement_kind(sql) for sql, _ in statements))
    return steps


def cpu_per_step(app, log: StatementLog, pairs: list[tuple[str, str]], fallbacks: int = 300) -> dict:
    """Median CPU ms of this process per step (one call at a time, so no contention inside
    the process; the test client's own work is included, equally for every step)."""
    from twilio.request_validator import RequestValidator

    cpu = defaultdict(list)
    for index, (number, on) in enumerate(pairs):
        play(app, log, f"cpu{index}", number, on, cpu)
    client = app.test_client()
    params = {"AccountSid": "AC" + "b" * 32, "CallSid": "CA" + "f" * 32, "ErrorCode": "11200"}
    headers = {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(BASE_URL + "/ivr/fallback", params)}
    for _ in range(fallbacks):
        started = time.process_time()
        client.post("/ivr/fallback", data=params, headers=headers)
        cpu["fallback"].append((time.process_time() - started) * 1000)
    log.statements.clear()
    return {
        step: {"count": len(values), "median_ms": round(statistics.median(values), 2)} for step, values in cpu.items()
    }


def statement_kind(sql: str) -> str:
    """A short name for a statement: its verb and first table."""
    text = " ".join(sql.split())
    verb = text.split(" ", 1)[0].upper()
    if verb in {"SAVEPOINT", "RELEASE", "ROLLBACK"}:
        return verb
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", text, re.IGNORECASE)
    if verb == "SELECT" and "count(" in text.lower():
        verb = "SELECT count"
    return f"{verb} {table.group(1) if table else ''}".strip()


def statement_label(sql: str) -> str:
    """E.g. `SELECT count lookup_attempt WHERE found, call_sid, dedupe_key`."""
    text = " ".join(sql.split())
    where = text.split(" WHERE ", 1)[1] if " WHERE " in text else ""
    columns = list(dict.fromkeys(re.findall(r"\w+\.(\w+) (?:=|>=|<=|!=|IS)", where)))
    return statement_kind(sql) + (f" WHERE {', '.join(columns)}" if columns else "")


def explain_lookup(app, log: StatementLog, label: str) -> list[dict]:
    from extensions import db  # noqa: E402  (from app_dir)

    plans = []
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            for sql, params in log.statements.get(f"{label}:date_confirm", []):
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                lines = [row[0] for row in cursor.fetchall()]
                execution = next((line for line in lines if line.startswith("Execution Time")), "")
                plans.append(
                    {
                        "label": statement_label(sql),
                        "sql_head": " ".join(sql.split())[:110],
                        "plan_head": lines[0].strip() if lines else "",
                        "index_lines": [line.strip() for line in lines if "Index" in line][:4],
                        "execution": execution,
                        "plan": lines,
                    }
                )
            connection.rollback()
        finally:
            connection.close()
    return plans


def sample_pairs(sample_file: Path, count: int = 60) -> tuple[list, list]:
    found, missing = [], []
    with open(sample_file, newline="") as handle:
        for row in csv.DictReader(handle):
            kind = found if row["kind"] == "found" else missing
            if len(kind) < count:
                kind.append((row["number"], row["date"]))
    return found, missing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-dir", type=Path, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sample-file", type=Path, required=True)
    args = parser.parse_args()
    found, missing = sample_pairs(args.sample_file.resolve())
    app = build_app(args.app_dir.resolve(), args.database_url)
    from extensions import db  # noqa: E402  (from app_dir)

    with app.app_context():
        log = StatementLog(db.engine)
    play(app, log, "warm", *found[-1])  # first requests load catalogs and caches
    log.statements.clear()
    log.checkouts.clear()
    result = {"cpu_per_step": cpu_per_step(app, log, found[1:51])}
    log.checkouts.clear()
    result["steps"] = {"found": play(app, log, "found", *found[0]), "missing": play(app, log, "missing", *missing[0])}
    result["lookup_statements"] = {
        label: [" ".join(sql.split())[:160] for sql, _ in log.statements.get(f"{label}:date_confirm", [])]
        for label in ("found", "missing")
    }
    result["explain"] = explain_lookup(app, log, "found") + explain_lookup(app, log, "missing")
    json.dump(result, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
