"""The lookup of a letter by (number, date) on its own: the app's function and its SELECT, timed in-process.

    python bench/lookup_timing.py --app-dir . --database-url URL --sample-file FILE [--samples 5000]

Builds the app (production settings) against one bench database and, for `--samples`
pairs from the sample file (90 % that exist, 10 % that do not, as in the IVR benchmark):

- a first pass of `domain.letters.lookup.find_transactions` over all of them, timed (pages that
  were not in memory yet are read here: the "first touch" figure);
- a second pass over the same pairs, timed: the warm figure;
- `EXPLAIN (ANALYZE)` of the very SELECT the function sends, for a subset: PostgreSQL's
  own execution time, without the driver, the ORM or the network round trip.

Prints JSON. Run as a file, not a module, so that the app is imported from --app-dir.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from datetime import date
from pathlib import Path

from step_queries import build_app  # bench/ is on the path: this runs as a file


def percentiles(values: list[float]) -> dict:
    ordered = sorted(values)
    if not ordered:
        return {"count": 0}

    def at(q: float) -> float:
        position = (len(ordered) - 1) * q
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return {
        "count": len(ordered),
        "p50_ms": round(at(0.5), 4),
        "p90_ms": round(at(0.9), 4),
        "p99_ms": round(at(0.99), 4),
        "max_ms": round(ordered[-1], 4),
        "mean_ms": round(sum(ordered) / len(ordered), 4),
    }


def sample_pairs(path: Path, count: int, seed: int) -> list[tuple[str, date]]:
    found, missing = [], []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            (found if row["kind"] == "found" else missing).append((row["number"], date.fromisoformat(row["date"])))
    rng = random.Random(seed)
    pairs = rng.sample(found, min(len(found), count - count // 10))
    pairs += rng.sample(missing, min(len(missing), count // 10))
    rng.shuffle(pairs)
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-dir", type=Path, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sample-file", type=Path, required=True)
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--explain", type=int, default=500, help="how many of them to EXPLAIN ANALYZE")
    parser.add_argument("--seed", type=int, default=5599)
    args = parser.parse_args()
    pairs = sample_pairs(args.sample_file.resolve(), args.samples, args.seed)

    app = build_app(args.app_dir.resolve(), args.database_url)
    from sqlalchemy import event, text  # noqa: E402

    from domain.letters.lookup import find_transactions  # noqa: E402  (from app_dir)
    from extensions import db  # noqa: E402

    result: dict = {"samples": len(pairs)}
    with app.app_context():
        captured: list = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith("SELECT"):
                captured.append((statement, parameters))

        find_transactions(*pairs[0])  # the first call builds the ORM's caches
        db.session.rollback()
        for label in ("first_touch", "warm"):
            times, found = [], 0
            for number, on in pairs:
                started = time.perf_counter()
                rows = find_transactions(number, on)
                times.append((time.perf_counter() - started) * 1000)
                found += bool(rows)
                db.session.rollback()  # one short transaction per lookup, as in a webhook
            result[label] = percentiles(times)
            result["found_share"] = round(found / len(pairs), 3)

        event.listen(db.engine, "before_cursor_execute", capture)
        find_transactions(*pairs[0])
        event.remove(db.engine, "before_cursor_execute", capture)
        db.session.rollback()
        statement, _ = captured[0]
        result["select"] = " ".join(statement.split())
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            executions, planning, plan = [], [], None
            for number, on in pairs[: args.explain]:
                # The function's own parameters with this pair's values: the date and the number.
                parameters = {
                    key: (on if isinstance(value, date) else number if isinstance(value, str) else value)
                    for key, value in captured[0][1].items()
                }
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
                document = cursor.fetchone()[0][0]
                executions.append(document["Execution Time"])
                planning.append(document["Planning Time"])
                plan = plan or document["Plan"]
            connection.rollback()
        finally:
            connection.close()
        result["explain_execution"] = percentiles(executions)
        result["explain_planning"] = percentiles(planning)
        result["plan"] = summarise(plan)
        result["table"] = {
            name: value
            for name, value in db.session.execute(
                text(
                    "SELECT count(*) AS letters, pg_relation_size('\"transaction\"') / 1048576 AS table_mb,"
                    " pg_indexes_size('\"transaction\"') / 1048576 AS indexes_mb,"
                    " pg_relation_size('uq_transaction_number_date_direction') / 1048576 AS lookup_index_mb"
                    ' FROM "transaction"'
                )
            )
            .mappings()
            .one()
            .items()
        }
    json.dump(result, sys.stdout, default=str)


def summarise(plan: dict | None) -> list[str]:
    """The plan's nodes, one line each: 'Index Scan using uq_... on transaction'."""
    lines = []

    def walk(node: dict, depth: int) -> None:
        words = node["Node Type"]
        if node.get("Index Name"):
            words += f" using {node['Index Name']}"
        if node.get("Relation Name"):
            words += f" on {node['Relation Name']}"
        lines.append("  " * depth + words)
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    if plan:
        walk(plan, 0)
    return lines


if __name__ == "__main__":
    main()
