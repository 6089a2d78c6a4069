"""Reading complaints for the console: the inbox (filtered, keyset pages), one by code, a caller's.

Who sees what is `workflow.may_see`: an officer's inbox is scoped to their entity here, in the
query, so a page never holds another entity's complaint; a supervisor's holds every entity's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, false, select
from sqlalchemy.orm import selectinload

from domain.complaints import codes
from domain.complaints.workflow import CLOCK_RUNS, may_see
from domain.db.keyset import Cursor, Direction, Page, keyset_page
from domain.reporting.kpis import within_local_days
from extensions import db
from models import Complaint, ComplaintStatus, Role, User

CALLER_COMPLAINTS = 20


class Assigned(str, enum.Enum):
    me = "me"
    nobody = "nobody"


@dataclass(frozen=True)
class InboxFilters:
    """Checked filter values; None (or False) means "any"."""

    status: ComplaintStatus | None = None
    category_id: int | None = None
    assigned: Assigned | None = None
    overdue: bool = False
    start: date | None = None  # first local day of filing
    end: date | None = None  # last local day, included

    @property
    def any(self) -> bool:
        return any(
            value not in (None, False)
            for value in (self.status, self.category_id, self.assigned, self.overdue, self.start, self.end)
        )


def scope(user: User) -> list:
    """The conditions that keep a user's inbox to what they may see; None: nothing at all."""
    if user.role is Role.officer:
        return [Complaint.entity_id == user.entity_id] if user.entity_id is not None else [false()]
    if user.has_role(Role.supervisor):
        return []
    return [false()]  # agents find complaints by code or by the caller's number, not by browsing


def inbox_query(user: User, filters: InboxFilters, *, tz_name: str, now: datetime) -> Select:
    query = select(Complaint).where(*scope(user)).options(selectinload(Complaint.assigned_to))
    if filters.status is not None:
        query = query.where(Complaint.status == filters.status)
    if filters.category_id is not None:
        query = query.where(Complaint.category_id == filters.category_id)
    if filters.assigned is Assigned.me:
        query = query.where(Complaint.assigned_to_id == user.id)
    elif filters.assigned is Assigned.nobody:
        query = query.where(Complaint.assigned_to_id.is_(None))
    if filters.overdue:
        query = query.where(Complaint.status.in_(CLOCK_RUNS), Complaint.sla_due_at <= now)
    return query.where(*within_local_days(Complaint.created_at, filters.start, filters.end, tz_name))


def inbox_page(
    user: User,
    filters: InboxFilters,
    *,
    tz_name: str,
    now: datetime,
    size: int = 50,
    cursor: Cursor | None = None,
    direction: Direction = Direction.older,
) -> Page:
    """One page of the user's inbox, newest filed first."""
    return keyset_page(
        inbox_query(user, filters, tz_name=tz_name, now=now),
        Complaint.created_at,
        Complaint.id,
        size=size,
        cursor=cursor,
        direction=direction,
        read=lambda query: db.session.scalars(query).unique(),
    )


def find_by_code(user: User, text: str | None) -> Complaint | None:
    """The complaint with this code, if the user may see it (else None: nothing leaks)."""
    code = codes.clean(text)
    if not codes.is_valid(code):
        return None
    complaint = db.session.scalar(select(Complaint).where(Complaint.code == code))
    return complaint if complaint is not None and may_see(user, complaint) else None


def complaints_from(phone: str | None) -> list[Complaint]:
    """The complaints filed with this number (E.164), newest first: the caller's on the line."""
    if not phone:
        return []
    return list(
        db.session.scalars(
            select(Complaint)
            .where(Complaint.phone == phone, Complaint.purged_at.is_(None))
            .order_by(Complaint.created_at.desc(), Complaint.id.desc())
            .limit(CALLER_COMPLAINTS)
        )
    )


def entity_officers(entity_id: int) -> list[User]:
    """The active officers a complaint of this entity may be assigned to."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.officer, User.entity_id == entity_id, User.active.is_(True))
            .order_by(User.display_name)
        )
    )
