"""How fast `flask transactions import` loads a records-office CSV, and how much memory it takes.

    python -m bench.import_letters [--rows 100k 1m] [--tables empty 10m] [--batch-size N] [--via cli api]

For each table and file size: a generated CSV of distinct letters (one holder, a third of
them with a phone, as the records office sends them) is loaded by the real command in a
process of its own, on PostgreSQL with the production statement timeout (3 s). Reported:
wall time, rows per second, and the command's peak RSS (from wait4). Then the same file is
loaded again (every row unchanged), and the letters the run added are deleted, so that
each run starts from the same table.

`--via api`: the file is sent to `POST /api/v1/imports` instead (bench/upload_letters.py: the
route streams it into the database in chunks), then a real worker (`flask worker --burst
imports`) runs the job; both are timed, each with its peak RSS.

Tables: `empty` is a fresh database (hotline_bench_import_empty after --database-url's name, migrated, no letters);
`10m` is bench/seed_letters.py's database of ten million letters (seeded with its COPY
loader when missing, which takes several minutes). Results: results/import.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench.seed_letters import (
    ENTITIES,
    RESULTS_DIR,
    ROOT,
    SUBJECTS,
    database_url_for,
    ensure_database,
    letter_count,
    libpq_url,
    run_migrations,
    seed,
)

HEADER = "number,date,direction,subject,sender,recipient,holder,status,status_date,phone\n"
# Numbers of 12 digits from 9e11: the seeded letters' keys are random, so these are new.
FIRST_NUMBER = 900_000_000_000
STATUSES = ("received", "under_review", "forwarded", "replied")
TABLES = ("empty", "10m")


def row_count(text: str) -> int:
    """ "100k", "1m" or a plain number."""
    text = text.lower().replace("_", "")
    for suffix, factor in (("k", 1_000), ("m", 1_000_000)):
        if text.endswith(suffix):
            return int(float(text[:-1]) * factor)
    return int(text)


def write_csv(path: Path, rows: int, seed_value: int = 17) -> None:
    """`rows` distinct letters from 2024, one holder; written in chunks, not held in memory."""
    rng = random.Random(seed_value)
    federal = [arabic for code, arabic, *_ in ENTITIES if code.startswith("fed-")]
    region = [arabic for code, arabic, *_ in ENTITIES if code.startswith("krg-")]
    holder = federal[0]
    start = date(2024, 1, 1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        chunk = []
        for n in range(rows):
            on = start + timedelta(days=rng.randrange(500))
            to_federal = rng.random() < 0.5
            sender, recipient = (
                (rng.choice(region), rng.choice(federal)) if to_federal else (rng.choice(federal), rng.choice(region))
            )
            phone = f"07{rng.randrange(50, 80)}{rng.randrange(10**7):07d}" if rng.random() < 0.3 else ""
            chunk.append(
                f"{FIRST_NUMBER + n},{on.isoformat()},{'to_federal' if to_federal else 'to_region'},"
                f"{rng.choice(SUBJECTS)},{sender},{recipient},{holder},{rng.choice(STATUSES)},"
                f"{(on + timedelta(days=rng.randrange(30))).isoformat()},{phone}\n"
            )
            if len(chunk) >= 50_000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk))


def database_for(table: str, server_url: str, seeded_url: str | None = None) -> str:
    if table == "empty":
        server = make_url(server_url)  # hotline_bench -> hotline_bench_import_empty
        url = server.set(database=f"{server.database}_import_empty").render_as_string(hide_password=False)
        ensure_database(url)
        run_migrations(url)
        return url
    letters = letter_count(table)
    url = seeded_url or database_url_for(letters, server_url)
    ensure_database(url)
    run_migrations(url)  # the seed may have run before the import tables existed
    if letters_in(url) != letters:
        seed(url, letters)
    return url


def letters_in(url: str) -> int:
    with psycopg.connect(libpq_url(url)) as conn:
        return conn.execute('SELECT count(*) FROM "transaction"').fetchone()[0]


def last_letter_id(url: str) -> int:
    with psycopg.connect(libpq_url(url)) as conn:
        return conn.execute('SELECT coalesce(max(id), 0) FROM "transaction"').fetchone()[0]


def remove_imported(url: str, after_id: int) -> None:
    """The letters the runs added (their events go with them), and the import records."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute('DELETE FROM "transaction" WHERE id > %s', (after_id,))
        conn.execute("DELETE FROM import_job WHERE source IN ('cli', 'api')")
        conn.execute("DELETE FROM api_token WHERE name LIKE 'bench-%%'")
        conn.execute('VACUUM (ANALYZE) "transaction"')
        conn.execute("VACUUM (ANALYZE) transaction_event")


def measured_run(url: str, path: Path, batch_size: int | None, via: str = "cli") -> dict:
    """The real command in a process of its own, reaped with `wait4` for the peak RSS of exactly
    this child: wall time, exit status, peak RSS, the ends of its output. Via the API: the
    upload, then the worker, each measured so; the time is their sum."""
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "development", "DB_STATEMENT_TIMEOUT_MS": "3000"}
    if via == "api":
        env |= {
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
            "JOB_QUEUE_PREFIX": f"bench_import_{os.getpid()}_",
        }  # job ids take no colon
        upload = measured(env, [sys.executable, "-m", "bench.upload_letters", str(path)], path.with_suffix(".up"))
        work = measured(
            env,
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst", "imports"],
            path.with_suffix(".work"),
        )
        return {
            "seconds": round(upload["seconds"] + work["seconds"], 1),
            "exit": upload["exit"] or work["exit"],
            "upload_seconds": upload["seconds"],
            "upload_peak_rss_mb": upload["peak_rss_mb"],
            "worker_seconds": work["seconds"],
            "peak_rss_mb": work["peak_rss_mb"],
            "stdout": upload["stdout"] + work["stdout"],
            "stderr": upload["stderr"] + work["stderr"],
        }
    args = [sys.executable, "-m", "flask", "--app", "wsgi", "transactions", "import", str(path)]
    if batch_size:
        args += ["--batch-size", str(batch_size)]
    return measured(env, args, path)


def measured(env: dict, args: list[str], path: Path) -> dict:
    out_path, err_path = path.with_suffix(".out"), path.with_suffix(".err")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": round(seconds, 1),
        "exit": process.returncode,
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "stdout": out_path.read_text()[-1000:],
        "stderr": err_path.read_text()[-1000:],
    }


def bench(
    rows_list: list[int],
    tables: list[str],
    server_url: str,
    work: Path,
    batch_size: int | None,
    seeded_url: str | None = None,
    log=print,
    via: str = "cli",
) -> list[dict]:
    results = []
    for table in tables:
        url = database_for(table, server_url, seeded_url)
        base_id = last_letter_id(url)
        for rows in rows_list:
            path = work / f"letters_{rows}.csv"
            if not path.exists():
                log(f"import: writing {path.name} ...")
                write_csv(path, rows)
            before = letters_in(url)
            log(f"import: {rows:,} rows into {table} ({before:,} letters) ...")
            first = measured_run(url, path, batch_size, via)
            log(f"import ({via}): {first['seconds']} s, exit {first['exit']}, peak RSS {first['peak_rss_mb']} MB")
            if via == "api":
                log(
                    f"  upload {first['upload_seconds']} s (peak RSS {first['upload_peak_rss_mb']} MB), "
                    f"worker {first['worker_seconds']} s"
                )
            again = measured_run(url, path, batch_size, via)
            log(f"import: again (all unchanged) {again['seconds']} s, exit {again['exit']}")
            after = letters_in(url)
            results.append(
                {
                    "via": via,
                    **{k: first[k] for k in ("upload_seconds", "upload_peak_rss_mb", "worker_seconds") if k in first},
                    "table": table,
                    "letters_before": before,
                    "rows": rows,
                    "file_mb": round(path.stat().st_size / 2**20),
                    "added": after - before,
                    "seconds": first["seconds"],
                    "rows_per_second": round(rows / first["seconds"]),
                    "peak_rss_mb": first["peak_rss_mb"],
                    "exit": first["exit"],
                    "summary": first["stdout"].strip().splitlines()[:1],
                    "again_seconds": again["seconds"],
                    "again_rows_per_second": round(rows / again["seconds"]),
                    "again_summary": again["stdout"].strip().splitlines()[:1],
                }
            )
            if first["exit"] != 0:
                log(first["stderr"])
            remove_imported(url, base_id)
    return results


def write_report(results: list[dict], path: Path) -> None:
    lines = [
        "# Import benchmark",
        "",
        (
            f"`flask transactions import FILE` on PostgreSQL, statement timeout 3 s, one process, "
            f"{os.cpu_count()} cores."
        ),
        "",
        "| table before | rows | file | time | rows/s | peak RSS | again (unchanged) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['letters_before']:,} letters | {r['rows']:,} | {r['file_mb']} MB | {r['seconds']} s "
            f"| {r['rows_per_second']:,} | {r['peak_rss_mb']} MB "
            f"| {r['again_seconds']} s ({r['again_rows_per_second']:,} rows/s) |"
        )
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")
    path.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=row_count, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--tables", nargs="+", choices=TABLES, default=list(TABLES))
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument(
        "--via",
        choices=("cli", "api"),
        default="cli",
        help="the command, or an upload to the API's CSV route and a worker",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/hotline_bench"),
        help="the server (its database name is replaced per table)",
    )
    parser.add_argument(
        "--seeded-database-url",
        default=None,
        help="the 10m table's database (default: hotline_bench_10m, seeded when missing)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "hotline_import_bench",
        help="where the generated files are kept (a million rows is about 200 MB)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR / "import")
    args = parser.parse_args(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    results = bench(
        args.rows,
        args.tables,
        args.database_url,
        args.work_dir,
        args.batch_size,
        args.seeded_database_url,
        via=args.via,
    )
    report = args.results if args.via == "cli" else args.results.with_name("import_api")
    write_report(results, report)
    print(report.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
