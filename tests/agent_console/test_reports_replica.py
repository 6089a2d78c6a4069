"""With REPORTS_DATABASE_URL set, do supervisors' reports read there, and callers' lookups not?

The "replica" here is the suite's own database under a second URL: what matters is which
engine each query goes through.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event

from domain.letters.lookup import find_transactions
from domain.reporting.call_log import CallFilters, call_log_page, call_log_rows
from domain.reporting.kpis import Period, kpi_report
from extensions import db
from factory import create_app
from tests.support.supervisor import add_call

DAY = Period(date(2025, 3, 10), date(2025, 3, 10))


@pytest.fixture
def replica_app(app, database_url):
    settings = {
        key: app.config[key]
        for key in (
            "APP_ENV",
            "SECRET_KEY",
            "SQLALCHEMY_DATABASE_URI",
            "PUBLIC_BASE_URL",
            "TWILIO_AUTH_TOKEN",
            "TWILIO_ACCOUNT_SID",
            "AGENT_HOURS",
            "SELF_SERVICE_HOURS",
        )
    }
    replica = create_app({**settings, "REPORTS_DATABASE_URL": database_url})
    with replica.app_context():
        yield replica
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def statements_on(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_reports_read_from_the_replica_and_lookups_from_the_primary(replica_app):
    add_call("2025-03-10 09:00:00", asked_number="123")
    primary, reports = db.engines[None], db.engines["reports"]
    assert primary is not reports
    on_primary, on_reports = statements_on(primary), statements_on(reports)

    report = kpi_report(DAY, tz_name="Asia/Baghdad", service_level_s=30)
    page = call_log_page(CallFilters(start=DAY.start, end=DAY.end), tz_name="Asia/Baghdad")
    exported = list(call_log_rows(CallFilters(start=DAY.start, end=DAY.end), tz_name="Asia/Baghdad"))
    assert report.overall.offered == 1 and len(page.rows) == 1 and len(exported) == 1
    assert on_reports and not any("FROM call" in sql for sql in on_primary)

    on_reports.clear()
    on_primary.clear()
    find_transactions("123", date(2025, 3, 10))
    assert any("transaction" in sql for sql in on_primary) and not on_reports


def test_without_a_replica_reports_use_the_primary(app_context):
    assert "reports" not in db.engines
    add_call("2025-03-10 09:00:00")
    assert kpi_report(DAY, tz_name="Asia/Baghdad", service_level_s=30).overall.offered == 1
