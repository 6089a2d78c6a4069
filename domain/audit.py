"""The audit trail: writing one row per record view, search and export; reading it back, filtered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select

from domain.db.keyset import Cursor, Direction, Page, keyset_page
from domain.reporting.kpis import within_local_days
from extensions import db
from models import AuditEntry, User


def audit(
    user,
    action: str,
    *,
    target_type: str | None = None,
    target_id=None,
    detail: dict | None = None,
    address: str | None = None,
) -> AuditEntry:
    """Record who did what; `detail` holds search terms or filters, never record content."""
    entry = AuditEntry(
        user_id=getattr(user, "id", None),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        detail=detail,
        address=(address or "")[:64] or None,
    )
    db.session.add(entry)
    return entry


# --- reading: who viewed, searched or exported what, filtered, newest first ---------


@dataclass(frozen=True)
class AuditFilters:
    """Checked filter values; None means "any"."""

    user_id: int | None = None
    action: str | None = None
    start: date | None = None  # first local day
    end: date | None = None  # last local day, included
    target_type: str | None = None
    target_id: str | None = None


def entries(filters: AuditFilters, tz_name: str) -> Select:
    query = select(
        AuditEntry.id,
        AuditEntry.created_at,
        AuditEntry.action,
        AuditEntry.target_type,
        AuditEntry.target_id,
        AuditEntry.detail,
        AuditEntry.address,
        AuditEntry.user_id,
        User.display_name.label("user_name"),
        User.username.label("username"),
    ).outerjoin(User, User.id == AuditEntry.user_id)
    if filters.user_id is not None:
        query = query.where(AuditEntry.user_id == filters.user_id)
    if filters.action is not None:
        query = query.where(AuditEntry.action == filters.action)
    query = query.where(*within_local_days(AuditEntry.created_at, filters.start, filters.end, tz_name))
    if filters.target_type is not None:
        query = query.where(AuditEntry.target_type == filters.target_type)
    if filters.target_id is not None:
        query = query.where(AuditEntry.target_id == filters.target_id)
    return query


def audit_log_page(
    filters: AuditFilters,
    *,
    tz_name: str,
    size: int = 50,
    cursor: Cursor | None = None,
    direction: Direction = Direction.older,
) -> Page:
    return keyset_page(
        entries(filters, tz_name), AuditEntry.created_at, AuditEntry.id, size=size, cursor=cursor, direction=direction
    )


def user_choices() -> list[tuple[int, str]]:
    """Every console user by name, for the filters of the audit trail and the call log."""
    rows = db.session.execute(select(User.id, User.display_name, User.username).order_by(User.display_name))
    return [(row.id, row.display_name or row.username) for row in rows]
