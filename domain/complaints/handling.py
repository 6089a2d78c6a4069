"""Handling a complaint: the entity's officers (and supervisors) move it, the citizen answers.

Each function is a use case: it locks the complaint's row, checks who is asking and that
the move is possible from the current status (`NotAllowed` otherwise, nothing written),
writes the change and its history event, queues the citizen's notice, commits, and hands
the notice to its queue. The SLA clock (working time) follows the status: it runs while the
entity has the complaint, stops while the citizen is asked, ends with a resolution, and
starts afresh on a transfer or an appeal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from domain.clock import utcnow
from domain.complaints import notices
from domain.complaints.filing import Attachment, working_time
from domain.complaints.sla import due_at
from domain.complaints.workflow import FINISHED, OPEN, TRANSFERABLE, NotAllowed, may_handle, may_move
from extensions import db
from models import (
    Complaint,
    ComplaintAttachment,
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintStatus,
    Entity,
    Role,
    User,
)

S = ComplaintStatus
BODY_MAX = 5000


def locked(complaint_id: int) -> Complaint:
    complaint = db.session.scalar(select(Complaint).where(Complaint.id == complaint_id).with_for_update(of=Complaint))
    if complaint is None:
        raise LookupError(complaint_id)
    return complaint


def _event(complaint: Complaint, kind: ComplaintEventKind, user: User | None, **values) -> ComplaintEvent:
    event = ComplaintEvent(complaint_id=complaint.id, kind=kind, user_id=getattr(user, "id", None), **values)
    db.session.add(event)
    db.session.flush()
    return event


def _set_status(complaint: Complaint, to: ComplaintStatus, now: datetime) -> None:
    """The status and everything that follows from it: the SLA clock, the milestones."""
    before = complaint.status
    working = working_time()
    if to is S.awaiting_citizen and complaint.sla_due_at is not None:
        complaint.sla_paused_minutes = working.minutes_between(now, complaint.sla_due_at)
        complaint.sla_due_at = None
    elif before is S.awaiting_citizen and to in OPEN and complaint.sla_paused_minutes is not None:
        complaint.sla_due_at = working.add(now, complaint.sla_paused_minutes)
        complaint.sla_paused_minutes = None
    if to in FINISHED:
        complaint.resolved_at = now
        complaint.sla_met = within_sla(complaint, now)
        complaint.sla_due_at = None
        complaint.sla_paused_minutes = None
    if to is S.closed:
        complaint.closed_at = now
        complaint.sla_due_at = None
        complaint.sla_paused_minutes = None
    complaint.status = to
    complaint.status_at = now


def within_sla(complaint: Complaint, now: datetime) -> bool | None:
    """Whether a resolution now is within the SLA: before the due time, or, while the
    citizen is asked (clock paused), with working time still left at the pause."""
    if complaint.sla_due_at is not None:
        return now <= complaint.sla_due_at
    if complaint.sla_paused_minutes is not None:
        return complaint.sla_paused_minutes > 0
    return None


def _finish(complaint: Complaint, event: ComplaintEvent) -> Complaint:
    notices.notify(complaint, event)
    db.session.commit()
    notices.dispatch()
    return complaint


def _checked(complaint_id: int, user: User) -> Complaint:
    complaint = locked(complaint_id)
    if not may_handle(user, complaint):
        db.session.rollback()
        raise NotAllowed("not this user's complaint")
    return complaint


def _text(body: str | None) -> str:
    from domain.complaints.filing import plain

    text = plain(body, BODY_MAX)
    if not text:
        raise ValueError("empty")
    if len(text) > BODY_MAX:
        raise ValueError("too_long")
    return text


def _first_response(complaint: Complaint, now: datetime) -> None:
    if complaint.first_response_at is None:
        complaint.first_response_at = now


def move(complaint_id: int, user: User, to: ComplaintStatus, body: str = "") -> Complaint:
    """A plain status change (start work, resolve with a public note, close early)."""
    complaint = _checked(complaint_id, user)
    if to is S.rejected:
        db.session.rollback()
        raise NotAllowed("a rejection needs its reason: reject()")
    if to is S.closed and not user.has_role(Role.supervisor):
        db.session.rollback()
        raise NotAllowed("only the appeal period's end, or a supervisor, closes a complaint")
    if not may_move(complaint, to) or to is S.awaiting_citizen:
        db.session.rollback()
        raise NotAllowed(f"{complaint.status.value} -> {to.value}")
    now = utcnow()
    before = complaint.status
    text = _text(body) if body else ""
    _set_status(complaint, to, now)
    if to is S.resolved:
        _first_response(complaint, now)
    event = _event(
        complaint, ComplaintEventKind.status, user, from_status=before, to_status=to, body=text, public=bool(text)
    )
    return _finish(complaint, event)


def reject(complaint_id: int, user: User, reason: str) -> Complaint:
    """Rejected, with the reason the citizen reads."""
    complaint = _checked(complaint_id, user)
    if not may_move(complaint, S.rejected):
        db.session.rollback()
        raise NotAllowed(f"{complaint.status.value} -> rejected")
    text = _text(reason)
    now = utcnow()
    before = complaint.status
    _set_status(complaint, S.rejected, now)
    _first_response(complaint, now)
    complaint.reason = text
    event = _event(
        complaint, ComplaintEventKind.status, user, from_status=before, to_status=S.rejected, body=text, public=True
    )
    return _finish(complaint, event)


def respond(complaint_id: int, user: User, body: str) -> Complaint:
    """A public response; a complaint nobody had started is in progress from now."""
    complaint = _checked(complaint_id, user)
    if complaint.status not in OPEN:
        db.session.rollback()
        raise NotAllowed(f"no response on a {complaint.status.value} complaint")
    text = _text(body)
    now = utcnow()
    _first_response(complaint, now)
    if complaint.status in {S.routed, S.appealed}:
        before = complaint.status
        _set_status(complaint, S.in_progress, now)
        _event(complaint, ComplaintEventKind.status, user, from_status=before, to_status=S.in_progress, public=True)
    event = _event(complaint, ComplaintEventKind.response, user, body=text, public=True)
    return _finish(complaint, event)


def request_information(complaint_id: int, user: User, body: str) -> Complaint:
    """Ask the citizen (the question is public); the SLA waits for the answer."""
    complaint = _checked(complaint_id, user)
    if not may_move(complaint, S.awaiting_citizen):
        db.session.rollback()
        raise NotAllowed(f"{complaint.status.value} -> awaiting_citizen")
    text = _text(body)
    now = utcnow()
    before = complaint.status
    _first_response(complaint, now)
    _set_status(complaint, S.awaiting_citizen, now)
    event = _event(
        complaint,
        ComplaintEventKind.info_request,
        user,
        from_status=before,
        to_status=S.awaiting_citizen,
        body=text,
        public=True,
    )
    return _finish(complaint, event)


def add_note(complaint_id: int, user: User, body: str) -> Complaint:
    """An internal note: officers and supervisors read it, the citizen never does."""
    complaint = _checked(complaint_id, user)
    event = _event(complaint, ComplaintEventKind.note, user, body=_text(body), public=False)
    return _finish(complaint, event)


def assign(complaint_id: int, user: User, officer_id: int | None) -> Complaint:
    """Give the complaint to one of its entity's officers (or to nobody)."""
    complaint = _checked(complaint_id, user)
    if complaint.status not in OPEN:
        db.session.rollback()
        raise NotAllowed("only an open complaint is assigned")
    officer = db.session.get(User, officer_id) if officer_id else None
    if officer_id and (
        officer is None
        or not officer.active
        or officer.role is not Role.officer
        or officer.entity_id != complaint.entity_id
    ):
        db.session.rollback()
        raise NotAllowed("not an active officer of this entity")
    complaint.assigned_to_id = officer.id if officer else None
    event = _event(complaint, ComplaintEventKind.assigned, user, body=officer.display_name if officer else "")
    return _finish(complaint, event)


def transfer(complaint_id: int, user: User, entity_id: int, reason: str) -> Complaint:
    """To another entity, with a reason: routed there, unassigned, its SLA started afresh."""
    complaint = _checked(complaint_id, user)
    target = db.session.get(Entity, entity_id)
    if complaint.status not in TRANSFERABLE or target is None or target.id == complaint.entity_id:
        db.session.rollback()
        raise NotAllowed("no transfer from this status or to this entity")
    text = _text(reason)
    now = utcnow()
    before, source = complaint.status, complaint.entity_id
    complaint.entity_id = target.id
    complaint.entity = target
    complaint.assigned_to_id = None
    complaint.escalated_at = None
    complaint.sla_paused_minutes = None
    complaint.status = S.routed
    complaint.status_at = now
    complaint.sla_due_at = due_at(now, complaint.category.sla_hours, working_time())
    event = _event(
        complaint,
        ComplaintEventKind.transfer,
        user,
        from_status=before,
        to_status=S.routed,
        from_entity_id=source,
        to_entity_id=target.id,
        body=text,
        public=False,  # the reason is internal; the citizen is told the new entity
    )
    return _finish(complaint, event)


# --- the citizen -------------------------------------------------------------------


def citizen_reply(complaint_id: int, body: str, attachments: Sequence[Attachment] = ()) -> Complaint:
    """The citizen answers a request for information: back with the entity, its SLA running."""
    complaint = locked(complaint_id)
    if complaint.status is not S.awaiting_citizen:
        db.session.rollback()
        raise NotAllowed("no information was asked for")
    text = _text(body)
    now = utcnow()
    _set_status(complaint, S.in_progress, now)
    event = _event(
        complaint,
        ComplaintEventKind.citizen_reply,
        None,
        from_status=S.awaiting_citizen,
        to_status=S.in_progress,
        body=text,
        public=True,
    )
    _attach(complaint, event, attachments)
    db.session.commit()
    return complaint


def may_appeal(complaint: Complaint, now: datetime | None = None) -> bool:
    if complaint.status not in FINISHED or complaint.resolved_at is None:
        return False
    window = timedelta(days=current_app.config["COMPLAINT_APPEAL_DAYS"])
    return (now or utcnow()) <= complaint.resolved_at + window


def appeal(complaint_id: int, reason: str) -> Complaint:
    """The citizen contests the resolution within the appeal days: open again, a new SLA."""
    complaint = locked(complaint_id)
    now = utcnow()
    if not may_appeal(complaint, now):
        db.session.rollback()
        raise NotAllowed("not contestable now")
    text = _text(reason)
    before = complaint.status
    complaint.status = S.appealed
    complaint.status_at = now
    complaint.appeals += 1
    complaint.escalated_at = None
    complaint.sla_due_at = due_at(now, complaint.category.sla_hours, working_time())
    event = _event(
        complaint, ComplaintEventKind.appeal, None, from_status=before, to_status=S.appealed, body=text, public=True
    )
    return _finish(complaint, event)


def close_uncontested(complaint_id: int, now: datetime) -> Complaint | None:
    """The appeal days ended without an appeal: closed by the system, the citizen told.

    None, with nothing written, when it is no longer due: appealed or closed meanwhile (by a
    supervisor, or by this job on another node; the row lock orders them).
    """
    complaint = locked(complaint_id)
    if complaint.status not in FINISHED or complaint.resolved_at is None or may_appeal(complaint, now):
        db.session.rollback()
        return None
    before = complaint.status
    _set_status(complaint, S.closed, now)
    event = _event(complaint, ComplaintEventKind.status, None, from_status=before, to_status=S.closed)
    return _finish(complaint, event)


def _attach(complaint: Complaint, event: ComplaintEvent, attachments) -> None:
    for attachment in attachments:
        db.session.add(
            ComplaintAttachment(
                complaint_id=complaint.id,
                event_id=event.id,
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=len(attachment.data),
                sha256=attachment.sha256,
                data=attachment.data,
            )
        )
