"""Every benchmark in one command: seed what is missing, run each part, write results/<part>.md and .json.

    .venv/bin/python -m bench [ivr] [scale] [console] [kpis] [all] [options]

Parts (default: all, in this order):
  ivr      the IVR under load on 1 million and 10 million letters (--letters)
  scale    the lookup at 10 thousand, 1 million and 10 million letters, one call at a time,
           and the lookup function and its SELECT in-process (--scale-letters)
  console  200 agents' live queue streams on gevent workers through Redis (--agents)
  kpis     the supervisors' call log and KPI queries on a million calls

`--quick` shortens every phase for a smoke run (the figures are then only a sign of life).
"""

from __future__ import annotations

import argparse
import copy
import json
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from bench import console_load, ivr_load, report
from bench.checkout import app_code
from bench.seed_letters import database_url_for, letter_count, sample_file_for, seed, size_label

RESULTS_DIR = Path(__file__).resolve().parent / "results"
PARTS = ["ivr", "scale", "console", "kpis"]
SCALE_TARGET = 1.5
QUICK = {  # option -> value for --quick, unless given on the command line
    "duration": 10,
    "floor_duration": 5,
    "ladder_duration": 4,
    "warmup": 2,
    "probe_duration": 4,
    "wait_quiet": 0,
    "scale_duration": 8,
    "scale_samples": 500,
    "scale_explain": 100,
    "console_duration": 10,
    "kpis_runs": 5,
    "kpis_warmup": 1,
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__.splitlines()[0],
        epilog="\n".join(__doc__.splitlines()[3:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "parts",
        nargs="*",
        metavar="PART",
        help="ivr, scale, console, kpis or all (default: all); put parts before options",
    )
    parser.add_argument("--quick", action="store_true", help="short phases everywhere: a smoke run")
    parser.add_argument(
        "--app-ref", default=None, help="serve an export of this git commit (e.g. HEAD) instead of the working tree"
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    ivr = parser.add_argument_group("ivr (and the gunicorn of scale)")
    ivr_load.add_arguments(ivr)
    ivr.set_defaults(database_url=None, sample_file=None)
    ivr.add_argument(
        "--letters",
        type=letter_count,
        nargs="+",
        default=[1_000_000, 10_000_000],
        help="letter counts for the IVR run: 10k, 1m, 10m or a number (default: 1m 10m)",
    )
    ivr.add_argument(
        "--no-diagnostics", action="store_true", help="skip counting statements per step and EXPLAINing the lookup"
    )
    scale = parser.add_argument_group("scale")
    scale.add_argument("--scale-letters", type=letter_count, nargs="+", default=[10_000, 1_000_000, 10_000_000])
    scale.add_argument(
        "--scale-duration",
        type=float,
        default=60,
        help="seconds of calls one at a time per size (then a third of that of the floor)",
    )
    scale.add_argument("--scale-samples", type=int, default=5000, help="in-process lookups per size and pass")
    scale.add_argument("--scale-explain", type=int, default=500, help="EXPLAIN ANALYZEd lookups per size")
    console_load.add_arguments(parser)
    kpis = parser.add_argument_group("kpis")
    kpis.add_argument("--kpis-calls", type=int, default=1_000_000)
    kpis.add_argument("--kpis-runs", type=int, default=100)
    kpis.add_argument("--kpis-warmup", type=int, default=3)
    argv = sys.argv[1:] if argv is None else argv
    if "--quick" in argv:
        parser.set_defaults(**QUICK)  # options given on the command line still win
    args = parser.parse_args(argv)
    unknown = [part for part in args.parts if part not in PARTS + ["all"]]
    if unknown:
        parser.error(f"unknown part {', '.join(unknown)}: choose from {', '.join(PARTS)} or all")
    parts = args.parts or ["all"]
    args.parts = PARTS if "all" in parts else [part for part in PARTS if part in parts]
    if args.database_url and len(args.letters) > 1:
        parser.error("--database-url names one database: give one --letters size with it")
    return args


def stamp(code, settings: dict) -> dict:
    return {
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "app": {"commit": code.commit, "dirty": code.dirty, "exported": code.exported},
        "machine": report.machine(),
        "settings": settings,
    }


def diagnostics(app_dir: Path, database_url: str, sample_file: Path) -> dict:
    """Statements per step and the lookup's plans, from a separate process (see step_queries)."""
    return run_script(
        "step_queries.py",
        ["--app-dir", str(app_dir), "--database-url", database_url, "--sample-file", str(sample_file.resolve())],
        timeout=300,
    )


def run_script(name: str, arguments: list[str], timeout: float) -> dict:
    script = Path(__file__).resolve().parent / name
    done = subprocess.run([sys.executable, str(script), *arguments], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout)


def for_size(args, letters: int) -> argparse.Namespace:
    """The IVR options with this size's database and sample file."""
    sized = copy.copy(args)
    sized.database_url = args.database_url or database_url_for(letters)
    sized.sample_file = args.sample_file or sample_file_for(letters)
    sized.letters = letters
    return sized


def ivr_settings(args) -> dict:
    return {
        "workers": args.workers,
        "worker_class": args.worker_class,
        "threads": args.threads if args.worker_class != "sync" else 1,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "floor_duration_s": args.floor_duration,
        "ladder_duration_s": args.ladder_duration,
        "warmup_s": args.warmup,
        "not_found_share": args.not_found_share,
        "letters": args.letters,
        "database": make_url(args.database_url).database,
        "app_env": "production",
        "db_pool": "app defaults (DB_POOL_SIZE 5, overflow 5)",
    }


# --- the parts --------------------------------------------------------------------------


def part_ivr(args, code) -> dict:
    runs = {}
    for letters in args.letters:
        sized = for_size(args, letters)
        label = size_label(letters)
        print(f"\n== ivr: {letters:,} letters ({make_url(sized.database_url).database}) ==", flush=True)
        try:
            seeded = seed(sized.database_url, letters, sample_file=sized.sample_file, app_dir=code.path)
            with tempfile.TemporaryDirectory(prefix="hotline-bench-") as logs:
                results = ivr_load.run(sized, code.path, Path(logs))
            if not args.no_diagnostics:
                print("diagnostics: statements per step, EXPLAIN of the lookup ...", flush=True)
                results["diagnostics"] = diagnostics(code.path, sized.database_url, sized.sample_file)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            runs[label] = {"error": str(exc), "settings": ivr_settings(sized)}
            print(f"ivr at {letters:,} letters failed: {exc}", flush=True)
            continue
        run = {**stamp(code, ivr_settings(sized)), "seed": seeded, **results}
        report.print_summary(run)
        runs[label] = run
    document = {**stamp(code, {"letters": args.letters}), "runs": runs}
    written = report.write_part("ivr", document, report.ivr_sizes_markdown(document), args.results_dir)
    return {"written": written}


def part_scale(args, code) -> dict:
    sizes = {}
    gunicorn = None
    for letters in args.scale_letters:
        sized = for_size(args, letters)
        sized.database_url = database_url_for(letters) if len(args.scale_letters) > 1 else sized.database_url
        sized.sample_file = sample_file_for(letters) if len(args.scale_letters) > 1 else sized.sample_file
        # One call at a time: the lookup step's own time, no queueing behind other calls.
        sized.concurrency, sized.duration, sized.probe_duration = 1, args.scale_duration, 0
        sized.floor_duration = max(args.scale_duration / 3, 2)
        sized.ladder_duration = 0  # the ladder is the ivr part's
        sized.warmup = min(args.warmup, 5)
        label = size_label(letters)
        print(f"\n== scale: {letters:,} letters ({make_url(sized.database_url).database}) ==", flush=True)
        try:
            seeded = seed(sized.database_url, letters, sample_file=sized.sample_file, app_dir=code.path)
            with tempfile.TemporaryDirectory(prefix="hotline-bench-") as logs:
                server_dir = Path(logs)
                results = ivr_load.run(sized, code.path, server_dir)
                gunicorn = gunicorn or report.shown_command(
                    ivr_load.Server(
                        code.path, "", sized.workers, sized.worker_class, sized.threads, 0, server_dir
                    ).command()
                )
            print("scale: find_transactions and EXPLAIN ANALYZE in-process ...", flush=True)
            timing = run_script(
                "lookup_timing.py",
                [
                    "--app-dir",
                    str(code.path),
                    "--database-url",
                    sized.database_url,
                    "--sample-file",
                    str(sized.sample_file.resolve()),
                    "--samples",
                    str(args.scale_samples),
                    "--explain",
                    str(args.scale_explain),
                ],
                timeout=1200,
            )
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            sizes[label] = {"letters": letters, "error": str(exc)}
            print(f"scale at {letters:,} letters failed: {exc}", flush=True)
            continue
        step = results["ivr"]["steps"].get("date_confirm", {})
        floor = (results.get("floor") or {}).get("steps", {}).get("fallback", {})
        sizes[label] = {
            "letters": letters,
            "database": make_url(sized.database_url).database,
            "seed": seeded,
            "lookup_step": step,
            "floor_server": floor.get("server", {}),
            "floor_client": floor,
            "calls": {key: results["ivr"][key] for key in ("completed", "failed", "errors", "per_s")},
            "cpu_cores": results["ivr"]["cpu_cores"],
            "in_process": timing,
            "other_load_before_cores": results.get("other_load_before_cores"),
        }
        print(
            f"scale: {letters:,} letters: lookup step server p50 {step.get('server', {}).get('p50_ms')} ms; "
            f"find_transactions warm p50 {timing.get('warm', {}).get('p50_ms')} ms; SELECT execution p50 "
            f"{timing.get('explain_execution', {}).get('p50_ms')} ms",
            flush=True,
        )
    settings = {
        "letters": args.scale_letters,
        "duration_s": args.scale_duration,
        "samples": args.scale_samples,
        "explain": args.scale_explain,
        "gunicorn": gunicorn or "",
    }
    document = {**stamp(code, settings), "target_ratio": SCALE_TARGET, "sizes": sizes, **scale_ratios(sizes)}
    written = report.write_part("scale", document, report.scale_markdown(document), args.results_dir)
    print(f"scale: {document.get('verdict', 'no ratio (fewer than two sizes measured)')}", flush=True)
    return {"written": written}


def scale_ratios(sizes: dict) -> dict:
    """Largest size ÷ smallest size for each lookup figure; the verdict on the server p50."""
    measured = [size for size in sizes.values() if "error" not in size]
    if len(measured) < 2:
        return {}
    small, large = min(measured, key=lambda s: s["letters"]), max(measured, key=lambda s: s["letters"])

    def pick(size: dict, *path):
        value = size
        for key in path:
            value = (value or {}).get(key)
        return value

    def ratio(*path):
        top, bottom = pick(large, *path), pick(small, *path)
        return round(top / bottom, 2) if top and bottom else None

    figures = {
        "lookup step, server p50": ratio("lookup_step", "server", "p50_ms"),
        "lookup step, server p99": ratio("lookup_step", "server", "p99_ms"),
        "lookup step, client p50": ratio("lookup_step", "p50_ms"),
        "find_transactions warm p50": ratio("in_process", "warm", "p50_ms"),
        "find_transactions warm p99": ratio("in_process", "warm", "p99_ms"),
        "find_transactions first touch p50": ratio("in_process", "first_touch", "p50_ms"),
        "SELECT execution (EXPLAIN ANALYZE) p50": ratio("in_process", "explain_execution", "p50_ms"),
        "SELECT execution (EXPLAIN ANALYZE) p99": ratio("in_process", "explain_execution", "p99_ms"),
    }
    headline = figures["lookup step, server p50"]
    verdict = (
        "not measured"
        if headline is None
        else f"{headline}× at {large['letters']:,} vs {small['letters']:,} letters: "
        + ("within" if headline <= SCALE_TARGET else "NOT within")
        + f" {SCALE_TARGET}×"
    )
    return {
        "ratios": {"of": f"{large['letters']:,} ÷ {small['letters']:,} letters", "figures": figures},
        "verdict": verdict,
    }


def part_console(args, code) -> dict:
    print(f"\n== console: {args.agents} agents' streams ==", flush=True)
    quiet = ivr_load.wait_until_quiet(args.wait_quiet) if args.wait_quiet > 0 else None
    with tempfile.TemporaryDirectory(prefix="hotline-bench-console-") as logs:
        results = console_load.run(args, code.path, Path(logs))
    settings = {
        "agents": args.agents,
        "workers": args.console_workers,
        "worker_connections": args.worker_connections,
        "duration_s": args.console_duration,
        "call_interval_s": args.call_interval,
        "take_share": args.take_share,
        "hold_s": args.hold,
        "database": make_url(args.console_database_url).database,
        "redis_db": urlsplit(args.redis_url).path.lstrip("/") or "0",
    }
    document = {**stamp(code, settings), "other_load_before_cores": quiet, **results}
    written = report.write_part("console", document, report.console_markdown(document), args.results_dir)
    delays = results["delays_ms"]["all"]
    print(
        f"console: all (event, stream) pairs: p50 {delays.get('p50_ms')} ms, p99 {delays.get('p99_ms')} ms, "
        f"max {delays.get('max_ms')} ms; target p99 < {console_load.TARGET_P99_MS:g} ms "
        f"{'met' if results['target']['met'] else 'NOT met'}",
        flush=True,
    )
    return {"written": written}


def part_kpis(args, code) -> dict:
    print(f"\n== kpis: {args.kpis_calls:,} calls ==", flush=True)
    if code.exported:
        print("kpis: runs against the working tree (kpis_bench.py has no --app-ref)", flush=True)
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.kpis_bench",
            "--calls",
            str(args.kpis_calls),
            "--runs",
            str(args.kpis_runs),
            "--warmup",
            str(args.kpis_warmup),
            "--results-dir",
            str(args.results_dir),
        ],
        cwd=root,
        timeout=7200,
    )
    if done.returncode != 0:
        raise RuntimeError(f"kpis_bench.py exited with {done.returncode}")
    return {"written": (args.results_dir / "kpis.json", args.results_dir / "kpis.md")}


def main(argv=None) -> None:
    signal.signal(signal.SIGTERM, ivr_load.stop_on_term)
    args = parse_args(argv)
    code = app_code(args.app_ref)
    run = {"ivr": part_ivr, "scale": part_scale, "console": part_console, "kpis": part_kpis}
    outcome = {}
    try:
        for part in args.parts:
            started = time.monotonic()
            try:
                written = run[part](args, code)["written"]
                outcome[part] = f"{time.monotonic() - started:.0f} s, wrote " + ", ".join(p.name for p in written)
            except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
                outcome[part] = f"FAILED after {time.monotonic() - started:.0f} s: {exc}"
                print(f"{part}: failed: {exc}", flush=True)
    finally:
        code.cleanup()
    print(f"\nresults in {args.results_dir}:")
    for part, said in outcome.items():
        print(f"  {part:8} {said}")
    if any(said.startswith("FAILED") for said in outcome.values()):
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted; gunicorn stopped; results of finished parts are written")
