"""The supervisors' complaints report: weak points by entity, category, governorate and channel,
response and resolution times, SLA compliance, appeals, and the entities most overdue now.

The same period picker, tiles and server-drawn charts as the KPI page; a CSV of the period's
complaints (no personal data) by POST with the CSRF token, audited.
"""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from flask import Response, current_app, redirect, render_template, request, stream_with_context, url_for
from flask_babel import format_date, format_decimal, get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user

from agent_console import bp
from agent_console.access import client_address, supervisor_required
from agent_console.call_log import flush, local_iso, safe_cell
from agent_console.charts import Series, bar_chart
from agent_console.kpis import PRESETS, is_rtl, percent, read_period
from domain.audit import audit
from domain.clock import utcnow
from domain.complaints.filing import governorate_name
from domain.db import replica
from domain.reporting.complaints import (
    CSV_COLUMNS,
    ComplaintReport,
    Durations,
    complaint_report,
    export_rows,
    hours_text,
)
from domain.reporting.kpis import Period
from extensions import db

DEFAULT_PERIOD = "month"
CHANNELS = {"web": _l("Web form"), "phone": _l("Phone (agent)")}


def hours(value: float | None) -> str:
    return "—" if value is None else format_decimal(round(value, 1), format="#,##0.0")


def duration_note(d: Durations) -> str:
    if not d.count:
        return ""
    return _("mean %(mean)s h · %(n)d complaints", mean=hours(d.mean_h), n=d.count)


def charts(report: ComplaintReport, language: str) -> list[dict]:
    rtl = is_rtl()
    filed = _("Complaints filed")
    drawn = []
    if len(report.by_day) > 1:
        drawn.append(
            {
                "title": _("Complaints per day"),
                "svg": bar_chart(
                    _("Complaints per day"),
                    [format_date(day, "dd/MM") for day, _n in report.by_day],
                    [Series(filed, [n for _d, n in report.by_day])],
                    rtl=rtl,
                ),
                "legend": [(filed, "")],
            }
        )
    if report.by_governorate:
        drawn.append(
            {
                "title": _("Complaints per governorate"),
                "svg": bar_chart(
                    _("Complaints per governorate"),
                    [governorate_name(code, language) for code, _n in report.by_governorate],
                    [Series(filed, [n for _c, n in report.by_governorate], "second")],
                    rtl=rtl,
                ),
                "legend": [(filed, "second")],
            }
        )
    return drawn


@bp.get("/complaint-report")
@supervisor_required
def complaint_report_page():
    name, period, errors = read_period(request.args, default=DEFAULT_PERIOD)
    report = None
    if period is not None:
        report = complaint_report(period, tz_name=current_app.config["TIMEZONE"])
        db.session.rollback()  # a read: hold no transaction while the page renders
    language = str(get_locale())
    return render_template(
        "console/complaint_report.html",
        presets=PRESETS,
        chosen=name,
        period=period,
        errors=errors,
        args=request.args,
        report=report,
        charts=charts(report, language) if report else [],
        percent=percent,
        hours=hours,
        duration_note=duration_note,
        governorate=lambda code: governorate_name(code, language),
        channel_label=lambda channel: str(CHANNELS.get(channel.value, channel.value)),
        language=language,
    ), 422 if errors else 200


def csv_lines(period: Period, tz_name: str):
    """The period's complaints, a batch at a time, after a byte-order mark for Excel."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + flush(buffer)
    zone = ZoneInfo(tz_name)
    for n, row in enumerate(replica.read(export_rows(period, tz_name=tz_name)), start=1):
        record = [
            row.code,
            local_iso(row.created_at, zone),
            row.kind.value,
            row.category,
            row.entity,
            row.governorate,
            row.channel.value,
            row.status.value,
            hours_text(row.first_response_s),
            hours_text(row.resolution_s),
            "" if row.sla_met is None else ("yes" if row.sla_met else "no"),
            row.appeals,
            "yes" if row.escalated_at else "no",
        ]
        writer.writerow([safe_cell(cell) for cell in record])
        if n % 500 == 0:
            yield flush(buffer)
    yield flush(buffer)


@bp.post("/complaint-report.csv")
@supervisor_required
def complaint_report_export():
    """The period's complaints as CSV: a POST with the CSRF token, audited."""
    name, period, errors = read_period(request.form, default=DEFAULT_PERIOD)
    if period is None:
        kept = {key: str(request.form.get(key, ""))[:64] for key in ("period", "start", "end")}
        return redirect(url_for("console.complaint_report_page", **kept), code=303)
    audit(
        current_user,
        "export",
        target_type="complaint",
        detail={"period": name, "start": period.start.isoformat(), "end": period.end.isoformat()},
        address=client_address(),
    )
    db.session.commit()
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(csv_lines(period, current_app.config["TIMEZONE"])),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="complaints-{stamp}.csv"',
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        },
    )
