"""The supervisors' KPI page: a period picker, the figures, the tables and server-drawn charts."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import format_date, format_decimal, format_percent, get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user

from agent_console import bp
from agent_console.access import supervisor_required
from agent_console.call_log import read_day
from agent_console.call_screen import duration
from agent_console.charts import Series, bar_chart, line_chart
from domain.clock import local_today
from domain.prompts.studio import coverage
from domain.reporting.kpis import MAX_PERIOD_DAYS, KpiReport, Period, kpi_report, preset_period
from models import Role

PRESETS = [
    ("today", _l("Today")),
    ("yesterday", _l("Yesterday")),
    ("week", _l("This week")),
    ("month", _l("This month")),
]
MAX_FIELD = 64


def read_period(args, default: str = "today") -> tuple[str, Period | None, dict[str, str]]:
    """(the preset or "custom", the period, an error message per field)."""
    today = local_today(current_app.config["TIMEZONE"])
    name = str(args.get("period", "") or "")[:MAX_FIELD]
    if name != "custom":
        name = name if name in dict(PRESETS) else default
        return name, preset_period(name, today), {}
    errors: dict[str, str] = {}
    days = {}
    for field in ("start", "end"):
        try:
            days[field] = read_day(str(args.get(field, "") or "")[:MAX_FIELD])
        except ValueError:
            errors[field] = _("Write the day as DD/MM/YYYY, for example 15/03/2025.")
    if errors:
        return name, None, errors
    if days["end"] < days["start"]:
        return name, None, {"end": _("The last day comes before the first day.")}
    if (days["end"] - days["start"]).days >= MAX_PERIOD_DAYS:
        return name, None, {"end": _("Choose at most %(days)d days.", days=MAX_PERIOD_DAYS)}
    return name, Period(days["start"], days["end"]), {}


# --- how figures read ---------------------------------------------------------------------------


def percent(value: float | None) -> str:
    return "—" if value is None else format_percent(value)


def seconds(value: float | None) -> str:
    return "—" if value is None else duration(int(round(value)))


def score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def per_call(value: float | None) -> str:
    """Transfers or consultations per answered call: 0.25 (decimals in the locale's way)."""
    return "—" if value is None else format_decimal(value, format="0.00")


def is_rtl() -> bool:
    return str(get_locale()) != "en"


def charts(report: KpiReport) -> list[dict]:
    """Calls per hour, per day (for more than one day) and the service level over the period."""
    rtl = is_rtl()
    offered, answered = _("Offered"), _("Answered")
    hours = [f"{hour:02d}" for hour, _k in report.by_hour]
    drawn = [
        {
            "title": _("Calls per hour"),
            "svg": bar_chart(
                _("Calls per hour"),
                hours,
                [
                    Series(offered, [k.offered for _h, k in report.by_hour]),
                    Series(answered, [k.answered for _h, k in report.by_hour], "second"),
                ],
                rtl=rtl,
            ),
            "legend": [(offered, ""), (answered, "second")],
        }
    ]
    several_days = len(report.by_day) > 1
    if several_days:
        days = [format_date(day, "dd/MM") for day, _k in report.by_day]
        drawn.append(
            {
                "title": _("Calls per day"),
                "svg": bar_chart(
                    _("Calls per day"),
                    days,
                    [
                        Series(offered, [k.offered for _d, k in report.by_day]),
                        Series(answered, [k.answered for _d, k in report.by_day], "second"),
                    ],
                    rtl=rtl,
                ),
                "legend": [(offered, ""), (answered, "second")],
            }
        )
    level = _("Service level")
    title = _("Service level per day") if several_days else _("Service level per hour")
    buckets = report.by_day if several_days else report.by_hour
    labels = days if several_days else hours
    drawn.append(
        {
            "title": title,
            "svg": line_chart(
                title,
                labels,
                Series(level, [k.service_level for _b, k in buckets]),
                rtl=rtl,
                fmt=lambda v: format_percent(v),
            ),
            "legend": [(level, "")],
        }
    )
    return drawn


@bp.get("/kpis")
@supervisor_required
def kpis():
    name, period, errors = read_period(request.args)
    report = None
    if period is not None:
        report = kpi_report(
            period, tz_name=current_app.config["TIMEZONE"], service_level_s=current_app.config["SERVICE_LEVEL_SECONDS"]
        )
    return render_template(
        "console/kpis.html",
        presets=PRESETS,
        chosen=name,
        period=period,
        errors=errors,
        args=request.args,
        report=report,
        charts=charts(report) if report else [],
        percent=percent,
        seconds=seconds,
        score=score,
        per_call=per_call,
        threshold=current_app.config["SERVICE_LEVEL_SECONDS"],
        voice_coverage=coverage("ckb"),
        studio_link=current_user.has_role(Role.admin),
    ), 422 if errors else 200
