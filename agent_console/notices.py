"""Notices for supervisors on every console page: the alarm over failed letter lookups, and
complaints past their SLA.

The alarm itself is raised by the lookups (domain/letters/alarm.py) as an audit entry; a
supervisor, and only a supervisor (or an admin), sees a banner on each page for an hour
after it, with a link to the audit log's alarm entries. Complaints escalated by the
`escalate_complaints` job and still open are counted on each page, with a link to the
overdue ones in the inbox. Agents see neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import format_datetime, gettext as _, ngettext
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from agent_console import bp
from domain.complaints.upkeep import escalated_open
from domain.letters.alarm import ALARM_ACTION, latest_alarm
from models import Role


@dataclass(frozen=True)
class Notice:
    text: str
    url: str
    link: str


def lookup_alarm_notice() -> Notice | None:
    if not (current_user and current_user.is_authenticated and current_user.has_role(Role.supervisor)):
        return None
    try:
        alarm = latest_alarm(current_app.config["LOOKUP_ALARM_WINDOW_S"])
    except SQLAlchemyError:
        return None  # a page about a database fault still renders, without the banner
    if alarm is None:
        return None
    text = _(
        "Failed letter lookups jumped: %(failed)s in %(minutes)s minutes from %(sources)s callers and "
        "addresses, at %(time)s. Someone may be guessing letters.",
        failed=alarm.failed,
        minutes=max(1, round(alarm.window_s / 60)),
        sources=alarm.sources,
        time=format_datetime(alarm.at, "HH:mm"),
    )
    return Notice(text=text, url=url_for("console.audit_log", action=ALARM_ACTION), link=_("See the audit log"))


def is_supervisor() -> bool:
    return bool(current_user and current_user.is_authenticated and current_user.has_role(Role.supervisor))


def overdue_complaints_notice() -> Notice | None:
    if not is_supervisor():
        return None
    try:
        count = escalated_open()
    except SQLAlchemyError:
        return None
    if not count:
        return None
    text = ngettext(
        "%(num)s complaint is past its SLA.",
        "%(num)s complaints are past their SLA.",
        count,
    )
    return Notice(text=text, url=url_for("console.complaints", overdue="1"), link=_("See the overdue complaints"))


@bp.app_context_processor
def notice_helpers():
    return {"lookup_alarm_notice": lookup_alarm_notice, "overdue_complaints_notice": overdue_complaints_notice}
