"""Where supervisors' reports read from: a PostgreSQL replica when one is configured.

KPIs, the call log and its CSV export scan many calls; with REPORTS_DATABASE_URL set they
run on that server (a streaming replica), so a month's report never competes with callers'
webhooks on the primary. A replica lags by a moment: a call that ended a second ago may
be missing from a report, never from a caller's own lookup, which always reads the primary.
"""

from __future__ import annotations

from extensions import db


def reports_engine():
    return db.engines.get("reports") or db.engine


def read(statement):
    """Execute a reporting SELECT on the reports engine (the primary when none is set)."""
    return db.session.execute(statement, bind_arguments={"bind": reports_engine()})
