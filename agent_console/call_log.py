"""The supervisors' call log: filters, keyset pages, one call's timeline and the CSV export.

A search is POSTed (like the records search) and kept in the session under a short id,
so caller and letter numbers never appear in URLs or access logs; the pages and the
export link carry only that id and a page cursor. Every search, timeline view and
export writes an audit entry.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from agent_console import bp
from agent_console.access import client_address, opened_from_this_site, supervisor_required
from agent_console.call_screen import disposition_label, duration
from agent_console.labels import LABELS, sms_reason
from agent_console.paging import page_cursor
from agent_console.records import number_error
from agent_console.timeline import sms_kind_label, sms_status_label, timeline_entries
from domain.audit import audit, user_choices
from domain.calls.agent import handle_seconds, queue_seconds
from domain.calls.recordings import playable
from domain.clock import utcnow
from domain.letters.lookup import ascii_digits, check_number
from domain.phones import national_format, normalize_phone
from domain.reporting.call_log import NO_LANGUAGE, CallFilters, call_log_page, call_log_rows
from extensions import db
from models import Call, Outcome

PAGE_SIZE = 50
MAX_FIELD = 64  # longer filter values are cut before they are read
KEPT_SEARCHES = 10  # the searches of a session that its links may still name
SEARCH_ID = re.compile(r"^[A-Za-z0-9_-]{6,16}$")
DAY_FIRST = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})")
ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
FIELDS = ("start", "end", "outcome", "agent", "language", "caller", "number")
# Filters a link may carry (a shared link shows the same calls to another supervisor); a
# caller's number and a letter number stay out of addresses, kept in the session (`q`).
LINK_FIELDS = ("start", "end", "outcome", "agent", "language")
PRIVATE_FIELDS = ("caller", "number")
LINK_NAMES = {"start": "from", "end": "to"}  # in export file names
OUTCOME_TONES = {
    "self_served": "good",
    "agent_answered": "good",
    "abandoned_in_queue": "bad",
    "error": "bad",
    "failed_input": "warn",
    "throttled": "warn",
    "hung_up_in_ivr": "warn",
}


def outcome_tone(outcome) -> str:
    return OUTCOME_TONES.get(getattr(outcome, "value", outcome), "")


# --- reading the filters -----------------------------------------------------------------


def read_day(text: str) -> date:
    """A day typed as YYYY-MM-DD (the date picker) or DD/MM/YYYY; ValueError otherwise."""
    text = ascii_digits(text).strip()
    if match := ISO_DAY.fullmatch(text):
        year, month, day = match.groups()
    elif match := DAY_FIRST.fullmatch(text):
        day, month, year = match.groups()
    else:
        raise ValueError(text)
    value = date(int(year), int(month), int(day))
    if not 2000 <= value.year <= 2100:
        raise ValueError(text)
    return value


def read_day_range(raw: dict, values: dict, errors: dict) -> None:
    """The filters' first and last day (`start`, `end`) into `values`, or why not into `errors`."""
    for name in ("start", "end"):
        if raw[name]:
            try:
                values[name] = read_day(raw[name])
            except ValueError:
                errors[name] = _("Write the day as DD/MM/YYYY, for example 15/03/2025.")
    if values.get("start") and values.get("end") and values["start"] > values["end"]:
        errors["end"] = _("The last day comes before the first day.")


def read_filters(form) -> tuple[CallFilters, dict[str, str], dict[str, str]]:
    """(the checked filters, the raw values to show again, an error message per field)."""
    raw = {name: str(form.get(name, "") or "")[:MAX_FIELD].strip() for name in FIELDS}
    errors: dict[str, str] = {}
    values: dict = {}
    read_day_range(raw, values, errors)
    if raw["outcome"]:
        try:
            values["outcome"] = Outcome(raw["outcome"])
        except ValueError:
            errors["outcome"] = _("Choose an outcome from the list.")
    if raw["agent"]:
        digits = ascii_digits(raw["agent"])
        if digits.isascii() and digits.isdigit() and 0 < int(digits) < 2**31:
            values["agent_id"] = int(digits)
        else:
            errors["agent"] = _("Choose an agent from the list.")
    if raw["language"]:
        if raw["language"] in (*LABELS["language"], NO_LANGUAGE):
            values["language"] = raw["language"]
        else:
            errors["language"] = _("Choose a language from the list.")
    if raw["caller"]:
        e164 = normalize_phone(ascii_digits(raw["caller"]), current_app.config["DEFAULT_PHONE_REGION"])
        if e164 is None:
            errors["caller"] = _("This is not a phone number. Write it as 0750 123 4567 or +964 750 123 4567.")
        else:
            values["caller"] = e164
    if raw["number"]:
        checked = check_number(ascii_digits(raw["number"]))
        if checked.ok:
            values["number"] = checked.value
        else:
            errors["number"] = number_error(checked.error)
    return CallFilters(**values), raw, errors


# --- searches kept in the session ----------------------------------------------------------


def keep_search(raw: dict) -> str | None:
    """Remember a search's private values (caller, letter number) under a new id (only the last
    few are kept); None when it has none."""
    private = {name: raw[name] for name in PRIVATE_FIELDS if raw.get(name)}
    if not private:
        return None
    kept = dict(session.get("call_log_searches") or {})
    search_id = secrets.token_urlsafe(6)
    kept[search_id] = private
    session["call_log_searches"] = dict(list(kept.items())[-KEPT_SEARCHES:])
    return search_id


def link_values(raw: dict) -> dict[str, str]:
    """The filters a link carries in the open."""
    return {name: raw[name] for name in LINK_FIELDS if raw.get(name)}


def requested_search(values) -> tuple[dict | None, str | None]:
    """(the raw filters a link or the export form names, its `q`); None when its `q` is gone."""
    search_id = values.get("q") or None
    private = kept_search(search_id)
    linked = {name: str(values.get(name, "") or "")[:MAX_FIELD] for name in LINK_FIELDS if values.get(name)}
    if private is None:
        return None, None
    return {**linked, **{name: value for name, value in private.items() if name in PRIVATE_FIELDS}}, search_id


def kept_search(search_id: str | None) -> dict | None:
    """The raw values of a kept search; {} without an id; None when the id is unknown."""
    if not search_id:
        return {}
    if not SEARCH_ID.match(search_id):
        return None
    return (session.get("call_log_searches") or {}).get(search_id)


# --- the pages ---------------------------------------------------------------------------------


def render_log(raw: dict, errors: dict, filters: CallFilters | None, search_id: str | None, status: int = 200):
    page = None
    if filters is not None:
        cursor, direction, cursor_ok = page_cursor()
        if not cursor_ok:
            flash(_("That page link is not valid any more; here is the first page."), "warning")
        page = call_log_page(
            filters, tz_name=current_app.config["TIMEZONE"], size=PAGE_SIZE, cursor=cursor, direction=direction
        )
        if not page.rows and cursor is not None:  # the calls behind the cursor are gone
            page = call_log_page(filters, tz_name=current_app.config["TIMEZONE"], size=PAGE_SIZE)
    return render_template(
        "console/call_log.html",
        raw=raw,
        errors=errors,
        page=page,
        search_id=search_id,
        link_args={**link_values(raw), **({"q": search_id} if search_id else {})},
        filtered=bool(filters and filters.any),
        agents=user_choices(),
        outcomes=list(Outcome),
        languages=[*LABELS["language"].items(), (NO_LANGUAGE, _("Not chosen"))],
        queue_seconds=queue_seconds,
        handle_seconds=handle_seconds,
        duration=duration,
        disposition_label=disposition_label,
        outcome_tone=outcome_tone,
    ), status


@bp.route("/calls", methods=["GET", "POST"])
@supervisor_required
def call_log():
    if request.method == "POST":  # CSRF is checked before any view runs
        filters, raw, errors = read_filters(request.form)
        if errors:
            return render_log(raw, errors, None, None, status=422)
        audit(current_user, "search", target_type="call", detail=filters.audit_detail(), address=client_address())
        db.session.commit()
        if not filters.any:
            return redirect(url_for("console.call_log"), code=303)
        return redirect(url_for("console.call_log", **link_values(raw), q=keep_search(raw)), code=303)
    raw, search_id = requested_search(request.args)
    if raw is None:
        linked = link_values({name: request.args.get(name, "") for name in LINK_FIELDS})
        if linked:  # a shared link: its open filters apply; the caller or number did not travel
            flash(
                _("The caller's number and the letter number are not kept in links; the other filters apply."),
                "warning",
            )
            raw = linked
        else:
            flash(_("That search is not kept any more; here are all calls."), "warning")
            return render_log({}, {}, CallFilters(), None)
    filters, raw, errors = read_filters(raw)
    return render_log(raw, errors, None if errors else filters, search_id, status=422 if errors else 200)


@bp.get("/calls/<int:call_id>/timeline")
@supervisor_required
@opened_from_this_site
def call_timeline(call_id: int):
    call = db.session.get(Call, call_id)
    if call is None:
        abort(404)
    audit(current_user, "view_call", target_type="call", target_id=call.id, address=client_address())
    db.session.commit()
    return render_template(
        "console/call_timeline.html",
        call=call,
        entries=timeline_entries(call),
        queue_s=queue_seconds(call),
        handle_s=handle_seconds(call),
        duration=duration,
        disposition_label=disposition_label,
        outcome_tone=outcome_tone,
        sms_kind_label=sms_kind_label,
        sms_status_label=sms_status_label,
        recordings=playable(call),
        sms_reason=sms_reason,
    )


# --- the CSV export ------------------------------------------------------------------------------

CSV_COLUMNS = (
    "call_sid",
    "started_at",
    "ended_at",
    "caller",
    "language",
    "outcome",
    "asked_number",
    "asked_date",
    "transaction_number",
    "transaction_date",
    "queue_s",
    "agent",
    "answered_at",
    "handle_s",
    "disposition",
    "survey_score",
    "duration_s",
    "hold_s",
    "transfers",
    "consults",
    "callback_id",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def local_iso(moment: datetime | None, zone: ZoneInfo) -> str:
    """The centre's wall-clock time with ASCII digits, whatever the console's language."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def csv_record(row, zone: ZoneInfo, caller_text) -> list:
    return [
        row.sid,
        local_iso(row.started_at, zone),
        local_iso(row.ended_at, zone),
        caller_text(row.caller),
        row.language or "",
        row.outcome.value if row.outcome else "",
        row.asked_number or "",
        row.asked_date.isoformat() if row.asked_date else "",
        row.transaction_number or "",
        row.transaction_date.isoformat() if row.transaction_date else "",
        queue_seconds(row, row.ended_at),
        row.agent_name or row.agent_username or "",
        local_iso(row.answered_at, zone),
        handle_seconds(row),
        row.disposition or "",
        row.survey_score,
        row.duration_s,
        row.hold_s,
        row.transfers,
        row.consults,
        row.callback_id,
    ]


def csv_lines(filters: CallFilters, tz_name: str, region: str):
    """The file, a batch of rows at a time: a byte-order mark first so Excel reads UTF-8 Arabic."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + flush(buffer)
    zone = ZoneInfo(tz_name)
    # Formatting a number is most of a row's cost, and people call more than once.
    caller_text = lru_cache(maxsize=10_000)(lambda e164: national_format(e164, region))
    for n, row in enumerate(call_log_rows(filters, tz_name=tz_name), start=1):
        writer.writerow([safe_cell(cell) for cell in csv_record(row, zone, caller_text)])
        if n % 500 == 0:
            yield flush(buffer)
    yield flush(buffer)


def flush(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def export_name(raw: dict) -> str:
    """The export's file name after its filters ("from-2025-03-01_outcome-abandoned_..."), so that
    filtered and unfiltered exports differ; a caller's number or letter number only as a word."""
    parts = []
    for name in LINK_FIELDS:
        value = re.sub(r"[^A-Za-z0-9-]+", "-", ascii_digits(raw.get(name, "")))[:24].strip("-")
        if value:
            parts.append(f"{LINK_NAMES.get(name, name)}-{value}")
    parts += [name for name in PRIVATE_FIELDS if raw.get(name)]
    return "".join(f"{part}_" for part in parts)


@bp.post("/calls.csv")
@supervisor_required
def call_log_export():
    """The filtered log as CSV. A POST with the CSRF token: a link another site sends cannot
    make a supervisor export (and audit) the whole log."""
    raw, search_id = requested_search(request.form)
    if raw is None:
        flash(_("That search is not kept any more; search again, then export."), "warning")
        return redirect(url_for("console.call_log"), code=303)
    filters, raw, errors = read_filters(raw)
    if errors:
        return redirect(url_for("console.call_log", **link_values(raw), q=search_id), code=303)
    audit(current_user, "export", target_type="call", detail=filters.audit_detail(), address=client_address())
    db.session.commit()
    stamp = export_name(raw) + utcnow().strftime("%Y%m%d-%H%M")
    lines = csv_lines(filters, current_app.config["TIMEZONE"], current_app.config["DEFAULT_PHONE_REGION"])
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="calls-{stamp}.csv"',
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        },
    )
