"""The benchmark's results as JSON and as a short markdown summary."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from pathlib import Path

STEP_ORDER = ["incoming", "language", "menu", "number", "number_confirm", "date", "date_confirm", "result", "status"]
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
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "ram_mb": ram_mb,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "postgres": postgres_version(),
    }


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
        + (" (working tree with local changes)" if results["app"].get("dirty") else "")
        + ".",
        "",
        f"- Machine: {m['nproc']} CPU ({m['cpu_model']}), {fmt(m['ram_mb'] and m['ram_mb'] / 1024)} GiB RAM, "
        f"Python {m['python']}, PostgreSQL {m['postgres']}; driver, gunicorn and PostgreSQL share it.",
        f"- gunicorn `wsgi:app` (with the ladder's routes added): {s['workers']} {s['worker_class']} workers"
        + (f" × {s['threads']} threads" if s["worker_class"] == "gthread" else "")
        + f"; {s['concurrency']} concurrent simulated calls, no think time; "
        f"{fmt(s['duration_s'], 0)} s of calls after {fmt(s['warmup_s'], 0)} s warm-up, then "
        f"{fmt(s['floor_duration_s'], 0)} s of `/ivr/fallback` at the same concurrency"
        + (
            f", then {fmt(s['ladder_duration_s'], 0)} s of each rung of the durability ladder."
            if s.get("ladder_duration_s")
            else "."
        ),
        f"- Database: PostgreSQL `{s['database']}` with {s['letters']:,} letters; "
        f"{round(s['not_found_share'] * 100)} % of lookups are for letters that do not exist.",
        "",
        "## Result",
        "",
        f"- **{fmt(ivr['per_s'], 1)} completed calls/s** ({ivr['completed']} calls, "
        f"{ivr['found_calls']} found / {ivr['not_found_calls']} not found; {ivr['requests_per_s']} webhooks/s); "
        f"failed calls: {ivr['failed']}; errors: {ivr['errors'] or 'none'}.",
        (
            f"- Floor `/ivr/fallback`: {fmt(floor['requests_per_s'], 0)} requests/s, "
            f"p50 {fmt(floor['steps']['fallback']['p50_ms'])} ms, p99 {fmt(floor['steps']['fallback']['p99_ms'])} ms; "
            f"errors: {floor['errors'] or 'none'}."
            if floor
            else "- Floor: not run."
        ),
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
        "shared machine): "
        + "; ".join(
            f"{name}: driver {phase['cpu_cores']['driver']}, gunicorn {phase['cpu_cores']['gunicorn']}, "
            f"PostgreSQL {phase['cpu_cores']['postgres']}, other {phase['cpu_cores']['other']}"
            for name, phase in (("calls", ivr), ("floor", floor))
            if phase
        )
        + ". "
        "CPU per webhook (ms): "
        + "; ".join(
            f"{name}: gunicorn {phase['cpu_ms_per_request']['gunicorn']}, "
            f"PostgreSQL {phase['cpu_ms_per_request']['postgres']}, driver {phase['cpu_ms_per_request']['driver']}"
            for name, phase in (("calls", ivr), ("floor", floor))
            if phase
        )
        + ".",
        "",
        "Memory per gunicorn worker after the calls and the floor, before the ladder (MiB): "
        + ", ".join(
            f"RSS {w.get('rss_mb')} (peak {w.get('hwm_mb')}, PSS {w.get('pss_mb')})"
            for w in results["memory"]["workers"]
        )
        + f"; master RSS {results['memory']['master'].get('rss_mb')}.",
    ]
    lines += ladder_markdown(results)
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
        lines += [
            "",
            "## Cost per webhook, in-process",
            "",
            "SQL statements counted on one found and one not-found call (every request "
            "adds `BEGIN` and `COMMIT`), and the median CPU time of the app process per step over 50 found "
            "calls and 300 fallback requests played one at a time through Flask's test client "
            "(CPU time, so a busy shared machine changes it little).",
            "",
            "| step | statements (found) | statements (not found) | CPU ms |",
            "| --- | ---: | ---: | ---: |",
        ]
        for step in STEP_ORDER + ["fallback"]:
            found = diagnostics["steps"].get("found", {}).get(step, {})
            missing = diagnostics["steps"].get("missing", {}).get(step, {})
            if found or missing or step in cpu:
                lines.append(
                    f"| {STEP_NOTES.get(step, step)} | {found.get('statements', '–')} | "
                    f"{missing.get('statements', '–')} | {fmt(cpu.get(step, {}).get('median_ms'), 2)} |"
                )
        if "date_confirm" in cpu and "fallback" in cpu:
            lines += [
                "",
                f"CPU per request, lookup step / floor: "
                f"**{cpu['date_confirm']['median_ms'] / cpu['fallback']['median_ms']:.1f}×**.",
            ]
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
        lines += [
            "",
            f"The app logged {problems['count']} error lines during the run; first: "
            + "; ".join(f"`{line[:120]}`" for line in problems["first"]),
        ]
    return "\n".join(lines) + "\n"


def write(results: dict, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "ivr.json", directory / "ivr.md"
    json_path.write_text(scrub(json.dumps(results, indent=2, ensure_ascii=False, default=str)) + "\n")
    md_path.write_text(scrub(markdown(results)))
    return json_path, md_path


def ladder_markdown(results: dict) -> list[str]:
    """The durability ladder: what one committed row costs next to the floor, in the same run."""
    rungs = results.get("ladder") or []
    floor = (results.get("floor") or {}).get("steps", {}).get("fallback", {})
    if not rungs or not floor:
        return []
    seconds = results["settings"].get("ladder_duration_s")
    lines = [
        "",
        "## The price of a committed row",
        "",
        f"The durability ladder ({fmt(seconds, 0)} s each, same concurrency, after the floor): the floor "
        "plus the least database work a step that keeps its record must do, done the cheapest way "
        "there is (`bench/serve/ladder.py`), answered with the floor's very TwiML. The lookup step "
        "reads its call, locks, counts, reads the letter and commits two rows: it cannot cost "
        "less than the *transaction* rung.",
        "",
        "| rung | adds to the floor | requests/s | client p50 / p99 ms | ÷ floor p50 / p99 "
        "| lookup step ÷ rung p50 / p99 |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
        f"| floor | – | {fmt(results['floor']['requests_per_s'], 0)} | {fmt(floor.get('p50_ms'))} / "
        f"{fmt(floor.get('p99_ms'))} | 1.0× / 1.0× | {fmt(results['lookup_over_floor']['p50'])}× / "
        f"{fmt(results['lookup_over_floor']['p99'])}× |",
    ]
    for rung in rungs:
        client = rung["client"]
        errors = f" (errors: {rung['errors']})" if rung["errors"] else ""
        lines.append(
            f"| {rung['name']} | {rung['adds']}{errors} | {fmt(rung['requests_per_s'], 0)} | "
            f"{fmt(client.get('p50_ms'))} / {fmt(client.get('p99_ms'))} | "
            f"{fmt(rung['over_floor']['p50'])}× / {fmt(rung['over_floor']['p99'])}× | "
            f"{fmt(rung['lookup_over_rung']['p50'])}× / {fmt(rung['lookup_over_rung']['p99'])}× |"
        )
    return lines + [
        "",
        "CPU per request (ms), gunicorn / PostgreSQL: "
        + "; ".join(
            f"{rung['name']} {rung['cpu_ms_per_request']['gunicorn']} / {rung['cpu_ms_per_request']['postgres']}"
            for rung in rungs
        )
        + ".",
    ]


def print_summary(results: dict) -> None:
    ivr, floor = results["ivr"], results["floor"]
    print(
        f"\ncalls/s {ivr['per_s']}  ({ivr['completed']} completed, {ivr['failed']} failed, "
        f"errors {ivr['errors'] or 'none'})"
    )
    for step in STEP_ORDER:
        figures = ivr["steps"].get(step)
        if figures:
            server = figures.get("server", {})
            print(
                f"  {step:15} p50 {figures['p50_ms']:7.1f} ms  p99 {figures['p99_ms']:7.1f} ms   "
                f"server p50 {server.get('p50_ms', float('nan')):6.2f} p99 {server.get('p99_ms', float('nan')):6.2f}"
            )
    if floor:
        figures = floor["steps"].get("fallback", {})
        server = figures.get("server", {})
        print(
            f"  {'floor':15} p50 {figures.get('p50_ms', float('nan')):7.1f} ms  "
            f"p99 {figures.get('p99_ms', float('nan')):7.1f} ms   "
            f"server p50 {server.get('p50_ms', float('nan')):6.2f} "
            f"p99 {server.get('p99_ms', float('nan')):6.2f}   ({floor['requests_per_s']} req/s)"
        )
    print(f"lookup/floor: {results['lookup_over_floor']}")
    probe = results.get("one_at_a_time")
    if probe:
        print(
            f"one at a time: lookup p50 {probe['ivr']['steps'].get('date_confirm', {}).get('p50_ms')} ms, "
            f"floor p50 {probe['floor']['steps'].get('fallback', {}).get('p50_ms')} ms, "
            f"ratio {probe['lookup_over_floor']}"
        )
    for rung in results.get("ladder") or []:
        print(
            f"  ladder {rung['name']:11} p50 {rung['client'].get('p50_ms', float('nan')):7.1f} ms  "
            f"÷ floor {rung['over_floor']}  lookup ÷ rung {rung['lookup_over_rung']}"
        )
    print(f"cpu cores: calls {ivr['cpu_cores']}  floor {floor and floor['cpu_cores']}")
    print("memory per worker:", [(w.get("rss_mb"), w.get("pss_mb")) for w in results["memory"]["workers"]])


# --- every part: the machine line, and one results file pair per part ------------------------


def run_line(results: dict) -> str:
    app = results["app"]
    return (
        f"Run {results['generated_at']} on commit `{app['commit'][:12]}`"
        + (" (working tree with local changes)" if app.get("dirty") else "")
        + "."
    )


def machine_line(m: dict) -> str:
    return (
        f"- Machine: {m['nproc']} CPU ({m['cpu_model']}), {fmt(m['ram_mb'] and m['ram_mb'] / 1024)} GiB RAM, "
        f"Python {m['python']}, PostgreSQL {m['postgres']}; driver, gunicorn, PostgreSQL and Redis share it."
    )


ROOT = Path(__file__).resolve().parent.parent
TEMP_PATH = re.compile(r"/tmp/[^\s\"',;)]*")


def scrub(text: str) -> str:
    """Results are committed: no paths of the machine that ran them (checkout, temp files)."""
    return TEMP_PATH.sub("<tmp>", text.replace(str(ROOT), "."))


def shown_command(command: list[str]) -> str:
    """gunicorn's command line as a reader would type it: no interpreter, checkout or log paths."""
    shown, skip = [], False
    for word in command[2:]:
        if skip:
            skip = False
            continue
        if word in ("--chdir", "--access-logfile", "--access-logformat", "-b"):
            skip = True
            continue
        shown.append(word)
    return " ".join(shown)


def write_part(part: str, results: dict, text: str, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / f"{part}.json", directory / f"{part}.md"
    json_path.write_text(scrub(json.dumps(results, indent=2, ensure_ascii=False, default=str)) + "\n")
    md_path.write_text(scrub(text))
    return json_path, md_path


def demoted(text: str) -> list[str]:
    """One run's markdown inside a larger page: its headings one level down."""
    return [("#" + line) if line.startswith("#") else line for line in text.splitlines()]


def ivr_sizes_markdown(results: dict) -> str:
    """The IVR benchmark at each size of the letters table: a comparison, then each run in full."""
    runs = results["runs"]
    lines = [
        "# IVR benchmark at several sizes of the letters table",
        "",
        run_line(results),
        "",
        machine_line(results["machine"]),
        "",
        "| letters | calls/s | failed | lookup client p50 / p99 ms | lookup server p50 / p99 ms "
        "| floor p50 ms | lookup ÷ floor p50 / p99 | floor + committed row ÷ floor p50 |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, run in runs.items():
        if "error" in run:
            lines.append(f"| {label} | failed: {run['error']} | | | | | | |")
            continue
        ivr, lookup = run["ivr"], run["ivr"]["steps"].get("date_confirm", {})
        server = lookup.get("server", {})
        floor = (run.get("floor") or {}).get("steps", {}).get("fallback", {})
        ratio = run["lookup_over_floor"]
        rungs = {rung["name"]: rung for rung in run.get("ladder") or []}
        committed = (
            " / ".join(
                f"{name} {fmt(rungs[name]['over_floor']['p50'])}×" for name in ("write", "transaction") if name in rungs
            )
            or "–"
        )
        lines.append(
            f"| {run['settings']['letters']:,} | {fmt(ivr['per_s'])} | {ivr['failed']} | "
            f"{fmt(lookup.get('p50_ms'))} / {fmt(lookup.get('p99_ms'))} | "
            f"{fmt(server.get('p50_ms'), 2)} / {fmt(server.get('p99_ms'), 2)} | {fmt(floor.get('p50_ms'))} | "
            f"{fmt(ratio['p50'])}× / {fmt(ratio['p99'])}× | {committed} |"
        )
    for run in runs.values():
        if "error" not in run:
            lines += ["", f"## {run['settings']['letters']:,} letters", ""] + demoted(markdown(run))[1:]
    return "\n".join(lines) + "\n"


def scale_markdown(results: dict) -> str:
    sizes, target = results["sizes"], results["target_ratio"]
    lines = [
        "# The lookup as the letters table grows",
        "",
        run_line(results),
        "",
        machine_line(results["machine"]),
        f"- Per size: gunicorn (`{results['settings']['gunicorn']}`) on that size's database; "
        f"{fmt(results['settings']['duration_s'], 0)} s of whole IVR calls one at a time (no queueing: "
        "each webhook's own time), then the `/ivr/fallback` floor one at a time; then, in-process, "
        f"`find_transactions` on {results['settings']['samples']:,} (number, date) pairs (90 % exist) "
        "twice (first touch, then warm) and `EXPLAIN ANALYZE` of its SELECT on "
        f"{results['settings']['explain']:,} of them.",
        f"- Target: the lookup at ten million letters within **{target}×** of the lookup at ten thousand.",
        "",
        "| letters | table + indexes MiB | lookup step, server p50 / p99 ms | lookup step, client p50 / p99 ms "
        "| floor server p50 ms | find_transactions warm p50 / p99 ms | first touch p50 / p99 ms "
        "| SELECT execution p50 / p99 ms |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, size in sizes.items():
        if "error" in size:
            lines.append(f"| {label} | failed: {size['error']} | | | | | | |")
            continue
        step, timing = size.get("lookup_step", {}), size.get("in_process", {})
        server, floor = step.get("server", {}), size.get("floor_server", {})
        table = timing.get("table", {})
        warm, first, ex = timing.get("warm", {}), timing.get("first_touch", {}), timing.get("explain_execution", {})
        lines.append(
            f"| {size['letters']:,} | {fmt((table.get('table_mb') or 0) + (table.get('indexes_mb') or 0))} | "
            f"{fmt(server.get('p50_ms'), 2)} / {fmt(server.get('p99_ms'), 2)} | "
            f"{fmt(step.get('p50_ms'), 2)} / {fmt(step.get('p99_ms'), 2)} | {fmt(floor.get('p50_ms'), 2)} | "
            f"{fmt(warm.get('p50_ms'), 3)} / {fmt(warm.get('p99_ms'), 3)} | "
            f"{fmt(first.get('p50_ms'), 3)} / {fmt(first.get('p99_ms'), 3)} | "
            f"{fmt(ex.get('p50_ms'), 3)} / {fmt(ex.get('p99_ms'), 3)} |"
        )
    ratios = results.get("ratios") or {}
    if ratios:
        lines += [
            "",
            f"## Largest ÷ smallest ({ratios['of']})",
            "",
            "| figure | ratio | within target |",
            "| --- | ---: | --- |",
        ]
        for name, value in ratios["figures"].items():
            verdict = "–" if value is None else ("yes" if value <= target else "**no**")
            lines.append(f"| {name} | {fmt(value, 2)}{'×' if value is not None else ''} | {verdict} |")
        lines += ["", f"**Verdict** (lookup step, server p50): {results['verdict']}."]
    plans = {label: size.get("in_process", {}).get("plan") for label, size in sizes.items() if "error" not in size}
    if plans:
        lines += ["", "The SELECT's plan at each size:", ""]
        for label, plan in plans.items():
            lines.append(f"- {label}: " + (" → ".join(node.strip() for node in plan) if plan else "–"))
    lines += [
        "",
        "The server time is gunicorn's own time for the request (`%(D)s` in its access log). "
        "On a shared machine read the p50; the in-process warm and `EXPLAIN` figures move least.",
    ]
    return "\n".join(lines) + "\n"


def console_markdown(results: dict) -> str:
    s, delays = results["settings"], results["delays_ms"]
    target = results["target"]
    calls = results["calls"]

    def row(name: str, label: str) -> str:
        d = delays.get(name, {})
        return (
            f"| {label} | {d.get('count', 0)} | {fmt(d.get('p50_ms'))} | {fmt(d.get('p90_ms'))} | "
            f"{fmt(d.get('p99_ms'))} | {fmt(d.get('max_ms'))} |"
        )

    def memory(items: list[dict]) -> str:
        return (
            ", ".join(
                f"{w.get('rss_mb')} / {w.get('pss_mb')}"
                + (f" ({w['client_connections']} conn.)" if w.get("client_connections") is not None else "")
                for w in items
            )
            or "–"
        )

    cpu = results["cpu_cores"]
    lines = [
        "# Console: live queue streams",
        "",
        run_line(results),
        "",
        machine_line(results["machine"]),
        f"- `{results['gunicorn']}` (production settings, REDIS_URL on the bench's own Redis database; "
        "Twilio's REST API for Take answered by a local stand-in).",
        f"- {s['agents']} agents logged in through the login form ({results['login_s']} s, "
        f"failures: {results.get('login_failures') or 'none'}), each with one `/console/stream` open "
        f"({results['streams_open']} opened in {results['streams_open_s']} s; {results['still_open']} still open "
        "at the end).",
        f"- For {fmt(s['duration_s'], 0)} s a caller arrived every {s['call_interval_s']} s (signed webhooks: voice, "
        f"language, menu 0 → `<Enqueue>`); after about {s['hold_s']} s in the queue "
        f"{round(s['take_share'] * 100)} % were taken by an agent (the console's Take), the others hung up "
        "(status callback).",
        f"- Calls: {calls['started']} started, {calls['queued']} queued, {calls['taken']} taken, "
        f"{calls['left']} hung up in the queue; refused takes: {calls['take_refused']}; errors: "
        f"{calls['errors'] or 'none'}.",
        "",
        "## Result",
        "",
        f"**p99 {fmt(delays['all'].get('p99_ms'))} ms over all (event, stream) pairs: target "
        f"< {fmt(target['p99_ms'], 0)} ms {'met' if target['met'] else '**not met**'}.**",
        "",
        "Delay from the moment the change was sent (the webhook that queued the call, the Take, the "
        "caller's hang-up) until each stream received the queue event showing it (ms):",
        "",
        "| change | (event, stream) pairs | p50 | p90 | p99 | max |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        row("queued", "a caller joins the queue"),
        row("taken", "an agent takes the call"),
        row("left", "a caller hangs up in the queue"),
        row("all", "**all**"),
        row("queued_after_return", "joins, counted from the webhook's answer (below 0: the event came first)"),
        row("fanout", "publish (the event's `at`) → stream"),
        "",
        f"Missed (a stream never showed the change): {delays.get('missed')}. "
        f"Webhook that queued the call: p50 {fmt(results['webhook_ms'].get('p50_ms'))} ms, "
        f"p99 {fmt(results['webhook_ms'].get('p99_ms'))} ms; Take: p50 {fmt(results['take_ms'].get('p50_ms'))} ms, "
        f"p99 {fmt(results['take_ms'].get('p99_ms'))} ms.",
        "",
        f"Memory per gunicorn worker, RSS / PSS MiB: logged in, no stream open: "
        f"{memory(results['memory_before_streams'])}; with every stream open: "
        f"{memory(results.get('memory_with_streams', []))}; master RSS {results['memory_master'].get('rss_mb')}.",
        "",
        f"CPU in use during the traffic (cores, average): gunicorn {cpu['gunicorn']} (per worker: "
        f"{', '.join(str(v) for v in results['cpu_per_worker_cores'].values())}), PostgreSQL {cpu['postgres']}, "
        f"Redis {cpu['redis']}, driver {cpu['driver']}, other work on the machine {cpu['other']}.",
    ]
    if results.get("stream_failures"):
        lines += ["", f"Streams that did not open: {', '.join(results['stream_failures'])}."]
    problems = results.get("app_log_problems", {})
    if problems.get("count"):
        lines += [
            "",
            f"The app logged {problems['count']} error lines; first: "
            + "; ".join(f"`{line[:120]}`" for line in problems["first"]),
        ]
    warnings = results.get("app_warnings") or {}
    if warnings:
        lines += [
            "",
            "The app's warnings during the run (count, message): "
            + "; ".join(f"{count} × `{message}`" for message, count in warnings.items()),
        ]
    if results.get("stream_failures") or any("broker" in message for message in warnings):
        lines += [
            "",
            'Streams refused or events not published: see "Known limit" in bench/README.md '
            "(redis-py's 100 connections per worker process).",
        ]
    return "\n".join(lines) + "\n"
