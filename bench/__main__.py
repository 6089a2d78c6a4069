"""One command for the IVR benchmark: seed the letters if needed, run the load, write results.

    .venv/bin/python -m bench [--letters 1000000] [--workers 3] [--concurrency 24] ...

Writes bench/results/ivr.json and bench/results/ivr.md.
"""
from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import make_url

from bench import ivr_load, report
from bench.checkout import app_code
from bench.seed_letters import seed

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ivr_load.add_arguments(parser)
    parser.add_argument("--letters", type=int, default=1_000_000)
    parser.add_argument("--app-ref", default=None,
                        help="serve an export of this git commit (e.g. HEAD) instead of the working tree")
    parser.add_argument("--no-diagnostics", action="store_true",
                        help="skip counting statements per step and EXPLAINing the lookup")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    return parser.parse_args(argv)


def diagnostics(app_dir: Path, args) -> dict:
    """Statements per step and the lookup's plans, from a separate process (see step_queries)."""
    script = Path(__file__).resolve().parent / "step_queries.py"
    done = subprocess.run(
        [sys.executable, str(script), "--app-dir", str(app_dir), "--database-url", args.database_url,
         "--sample-file", str(args.sample_file.resolve())],
        capture_output=True, text=True, timeout=120,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(done.stdout)


def main(argv=None) -> None:
    signal.signal(signal.SIGTERM, ivr_load.stop_on_term)
    args = parse_args(argv)
    code = app_code(args.app_ref)
    try:
        seeded = seed(args.database_url, args.letters, sample_file=args.sample_file, app_dir=code.path)
        with tempfile.TemporaryDirectory(prefix="hotline-bench-") as logs:
            results = ivr_load.run(args, code.path, Path(logs))
        if not args.no_diagnostics:
            print("diagnostics: statements per step, EXPLAIN of the lookup ...", flush=True)
            results["diagnostics"] = diagnostics(code.path, args)
    finally:
        code.cleanup()
    results = {
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "app": {"commit": code.commit, "dirty": code.dirty, "exported": code.exported},
        "machine": report.machine(),
        "settings": {
            "workers": args.workers, "worker_class": args.worker_class,
            "threads": args.threads if args.worker_class != "sync" else 1,
            "concurrency": args.concurrency, "duration_s": args.duration,
            "floor_duration_s": args.floor_duration, "warmup_s": args.warmup,
            "not_found_share": args.not_found_share, "letters": args.letters,
            "database": make_url(args.database_url).database,
            "app_env": "production", "db_pool": "app defaults (DB_POOL_SIZE 5, overflow 5, pre-ping)",
        },
        "seed": seeded,
        **results,
    }
    json_path, md_path = report.write(results, args.results_dir)
    report.print_summary(results)
    print(f"\nwrote {json_path.name} and {md_path.name} in {args.results_dir}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; gunicorn stopped, nothing written")
