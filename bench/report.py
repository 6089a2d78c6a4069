"""The benchmark's results as JSON and as a short markdown summary."""
from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from pathlib import Path

STEP_ORDER = ["incoming", "language", "menu", "number", "number_confirm", "date", "date_confirm",
              "result", "status"]
STEP_NOTES = {"date_confirm": "date_confirm (the lookup)"}


def machine() -> dict:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        pass
    ram_mb = None
    try:
        with open("/proc/meminfo") as handle:
            ram_mb = round(int(handle.readline().split()[1]) / 1024)
    except (OSError, ValueError, IndexError):
        pass
    return {"nproc": os.cpu_count(), "cpu_model": cpu, "ram_mb": ram_mb,
            "python": platform.python_version(), "kernel": platform.release(),
            "postgres": postgres_version()}


def postgres_version() -> str:
    try:
        out = subprocess.run(["psql", "--version"], capture_output=True, text=True, timeout=5).stdout
        found = re.search(r"\d+\.\d+", out)
        return found.group(0) if found else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def step_rows(phase: dict, order: list[str]) -> list[str]:
    rows = []
    for step in order + sorted(set(phase["steps"]) - set(order)):
        figures = phase["steps"].get(step)
        if not figures or not figures.get("count"):
            continue
        server = figures.get("server", {})
        rows.append(
            f"| {STEP_NOTES.get(step, step)} | {figures['count']} | {fmt(figures['p50_ms'])} | "
            f"{fmt(figures['p90_ms'])} | {fmt(figures['p99_ms'])} | {fmt(server.get('p50_ms'))} | "
            f"{fmt(server.get('p99_ms'))} |"
        )
    return rows


def markdown(results: dict) -> str:
    m, s, ivr, floor = results["machine"], results["settings"], results["ivr"], results["floor"]
    ratio = results["lookup_over_floor"]
    lines = [
        "# IVR benchmark",
        "",
        f"Run {results['generated_at']} on commit `{results['app']['commit'][:12]}`"
        + (" (working tree with local changes)" if results["app"].get("dirty") else "") + ".",
        "",
        f"- Machine: {m['nproc']} CPU ({m['cpu_model']}), {fmt(m['ram_mb'] and m['ram_mb'] / 1024)} GiB RAM, "
        f"Python {m['python']}, PostgreSQL {m['postgres']}; driver, gunicorn and PostgreSQL share it.",
        f"- gunicorn `wsgi:app`: {s['workers']} {s['worker_class']} workers"
        + (f" × {s['threads']} threads" if s["worker_class"] == "gthread" else "")
        + f"; {s['concurrency']} concurrent simulated calls, no think time; "
        f"{fmt(s['duration_s'], 0)} s of calls after {fmt(s['warmup_s'], 0)} s warm-up, then "
        f"{fmt(s['floor_duration_s'], 0)} s of `/ivr/fallback` at the same concurrency.",
        f"- Database: PostgreSQL `{s['database']}` with {s['letters']:,} letters; "
        f"{round(s['not_found_share'] * 100)} % of lookups are for letters that do not exist.",
        "",
        "## Result",
        "",
        f"- **{fmt(ivr['per_s'], 1)} completed calls/s** ({ivr['completed']} calls, "
        f"{ivr['found_calls']} found / {ivr['not_found_calls']} not found; {ivr['requests_per_s']} webhooks/s); "
        f"failed calls: {ivr['failed']}; errors: {ivr['errors'] or 'none'}.",
        (f"- Floor `/ivr/fallback`: {fmt(floor['requests_per_s'], 0)} requests/s, "
         f"p50 {fmt(floor['steps']['fallback']['p50_ms'])} ms, p99 {fmt(floor['steps']['fallback']['p99_ms'])} ms; "
         f"errors: {floor['errors'] or 'none'}." if floor else "- Floor: not run."),
        f"- **Lookup step / floor: {fmt(ratio['p50'], 1)}× at p50, {fmt(ratio['p99'], 1)}× at p99** "
        f"(server-side time only: {fmt(ratio['server_p50'], 1)}× / {fmt(ratio['server_p99'], 1)}×).",
        "",
        "Latency per webhook (ms). *Client* is what the simulated Twilio waited (queueing included); "
        "*server* is the worker's own time from gunicorn's access log.",
        "",
        "| step | requests | client p50 | client p90 | client p99 | server p50 | server p99 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *step_rows(ivr, STEP_ORDER),
        *(step_rows(floor, ["fallback"]) if floor else []),
        "",
        "CPU in use (cores, average over the phase; *other* is work outside the benchmark on a "
        "shared machine): " + "; ".join(
            f"{name}: driver {phase['cpu_cores']['driver']}, gunicorn {phase['cpu_cores']['gunicorn']}, "
            f"PostgreSQL {phase['cpu_cores']['postgres']}, other {phase['cpu_cores']['other']}"
            for name, phase in (("calls", ivr), ("floor", floor)) if phase) + ". "
        "CPU per webhook (ms): " + "; ".join(
            f"{name}: gunicorn {phase['cpu_ms_per_request']['gunicorn']}, "
            f"PostgreSQL {phase['cpu_ms_per_request']['postgres']}, driver {phase['cpu_ms_per_request']['driver']}"
            for name, phase in (("calls", ivr), ("floor", floor)) if phase) + ".",
        "",
        "Memory per gunicorn worker at the end (MiB): "
        + ", ".join(f"RSS {w.get('rss_mb')} (peak {w.get('hwm_mb')}, PSS {w.get('pss_mb')})"
                    for w in results["memory"]["workers"])
        + f"; master RSS {results['memory']['master'].get('rss_mb')}.",
    ]
    probe = results.get("one_at_a_time")
    if probe:
        lines += [
            "",
            "## One call at a time",
            "",
            f"The same flow with a single simulated call (no queueing behind other calls), "
            f"{probe['ivr']['completed']} calls, then `/ivr/fallback` one request at a time: "
            f"lookup / floor = **{fmt(probe['lookup_over_floor']['p50'], 1)}× at p50**, "
            f"{fmt(probe['lookup_over_floor']['p99'], 1)}× at p99.",
            "",
            "| step | requests | client p50 | client p90 | client p99 | server p50 | server p99 |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            *step_rows(probe["ivr"], STEP_ORDER),
            *step_rows(probe["floor"], ["fallback"]),
        ]
    diagnostics = results.get("diagnostics") or {}
    if diagnostics.get("steps"):
        cpu = diagnostics.get("cpu_per_step", {})
        lines += ["", "## Cost per webhook, in-process", "",
                  "SQL statements counted on one found and one not-found call (SAVEPOINT/RELEASE "
                  "included; every request adds the pool's pre-ping `SELECT 1`, `BEGIN` and "
                  "`COMMIT`), and the median CPU time of the app process per step over 50 found "
                  "calls and 300 fallback requests played one at a time through Flask's test client "
                  "(CPU time, so a busy shared machine changes it little).", "",
                  "| step | statements (found) | statements (not found) | CPU ms |",
                  "| --- | ---: | ---: | ---: |"]
        for step in STEP_ORDER + ["fallback"]:
            found = diagnostics["steps"].get("found", {}).get(step, {})
            missing = diagnostics["steps"].get("missing", {}).get(step, {})
            if found or missing or step in cpu:
                lines.append(f"| {STEP_NOTES.get(step, step)} | {found.get('statements', '–')} | "
                             f"{missing.get('statements', '–')} | {fmt(cpu.get(step, {}).get('median_ms'), 2)} |")
        if "date_confirm" in cpu and "fallback" in cpu:
            lines += ["", f"CPU per request, lookup step / floor: "
                      f"**{cpu['date_confirm']['median_ms'] / cpu['fallback']['median_ms']:.1f}×**."]
        explain, seen = diagnostics.get("explain", []), set()
        if explain:
            lines += ["", "The lookup step's SELECTs under `EXPLAIN ANALYZE`, on the tables as the run left them:", ""]
            for item in explain:
                label = item.get("label") or item["sql_head"]
                if label in seen:
                    continue
                seen.add(label)
                node = (item.get("index_lines") or [item["plan_head"]])[0].split("  (cost")[0].lstrip("-> ")
                lines.append(f"- `{label}` → {node}; {item['execution']}")
    problems = results.get("app_log_problems", {})
    if problems.get("count"):
        lines += ["", f"The app logged {problems['count']} error lines during the run; first: "
                  + "; ".join(f"`{line[:120]}`" for line in problems["first"])]
    return "\n".join(lines) + "\n"


def write(results: dict, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "ivr.json", directory / "ivr.md"
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n")
    md_path.write_text(markdown(results))
    return json_path, md_path


def print_summary(results: dict) -> None:
    ivr, floor = results["ivr"], results["floor"]
    print(f"\ncalls/s {ivr['per_s']}  ({ivr['completed']} completed, {ivr['failed']} failed, "
          f"errors {ivr['errors'] or 'none'})")
    for step in STEP_ORDER:
        figures = ivr["steps"].get(step)
        if figures:
            server = figures.get("server", {})
            print(f"  {step:15} p50 {figures['p50_ms']:7.1f} ms  p99 {figures['p99_ms']:7.1f} ms   "
                  f"server p50 {server.get('p50_ms', float('nan')):6.2f} p99 {server.get('p99_ms', float('nan')):6.2f}")
    if floor:
        figures = floor["steps"].get("fallback", {})
        server = figures.get("server", {})
        print(f"  {'floor':15} p50 {figures.get('p50_ms', float('nan')):7.1f} ms  "
              f"p99 {figures.get('p99_ms', float('nan')):7.1f} ms   server p50 {server.get('p50_ms', float('nan')):6.2f} "
              f"p99 {server.get('p99_ms', float('nan')):6.2f}   ({floor['requests_per_s']} req/s)")
    print(f"lookup/floor: {results['lookup_over_floor']}")
    probe = results.get("one_at_a_time")
    if probe:
        print(f"one at a time: lookup p50 {probe['ivr']['steps'].get('date_confirm', {}).get('p50_ms')} ms, "
              f"floor p50 {probe['floor']['steps'].get('fallback', {}).get('p50_ms')} ms, "
              f"ratio {probe['lookup_over_floor']}")
    print(f"cpu cores: calls {ivr['cpu_cores']}  floor {floor and floor['cpu_cores']}")
    print("memory per worker:", [(w.get('rss_mb'), w.get('pss_mb')) for w in results["memory"]["workers"]])
