"""A complaint's statuses, the moves between them, and who may see and handle it.

    submitted -> routed -> in_progress -> awaiting_citizen -> in_progress -> resolved | rejected -> closed
                                                                 resolved | rejected -> appealed -> ...

Filing routes at once (a complaint goes straight to the entity concerned). An officer of
that entity (or a supervisor) moves it; the citizen answers a request for information and
may contest a resolution within COMPLAINT_APPEAL_DAYS; the housekeeping job closes what
nobody contested. Closed is final.
"""

from __future__ import annotations

from models import Complaint, ComplaintStatus, Role, User

S = ComplaintStatus

# Where the entity may move a complaint from each status (not counting a transfer).
HANDLING_MOVES: dict[ComplaintStatus, frozenset[ComplaintStatus]] = {
    S.submitted: frozenset({S.routed}),
    S.routed: frozenset({S.in_progress, S.awaiting_citizen, S.resolved, S.rejected}),
    S.in_progress: frozenset({S.awaiting_citizen, S.resolved, S.rejected}),
    S.awaiting_citizen: frozenset({S.in_progress, S.resolved, S.rejected}),
    S.appealed: frozenset({S.in_progress, S.awaiting_citizen, S.resolved, S.rejected}),
    S.resolved: frozenset({S.closed}),
    S.rejected: frozenset({S.closed}),
    S.closed: frozenset(),
}
# Open: the entity has work to do and the SLA clock runs (or is paused, awaiting the citizen).
OPEN = frozenset({S.submitted, S.routed, S.in_progress, S.awaiting_citizen, S.appealed})
CLOCK_RUNS = OPEN - {S.awaiting_citizen}
FINISHED = frozenset({S.resolved, S.rejected})  # the citizen may contest, within the appeal days
TRANSFERABLE = OPEN - {S.submitted}


class NotAllowed(ValueError):
    """The move is not possible from this status, or not for this user."""


def may_move(complaint: Complaint, to: ComplaintStatus) -> bool:
    return to in HANDLING_MOVES[complaint.status]


def may_see(user: User, complaint: Complaint) -> bool:
    """Supervisors and admins: every complaint; agents too (the caller on the line, one found
    by code: the console audits each view); an officer: their entity's complaints only."""
    if user.role is Role.officer:
        return user.entity_id is not None and user.entity_id == complaint.entity_id
    return user.has_role(Role.agent)


def may_handle(user: User, complaint: Complaint) -> bool:
    """Respond, ask, note, resolve, reject, transfer: the entity's officers and supervisors."""
    if user.role is Role.officer:
        return may_see(user, complaint)
    return user.has_role(Role.supervisor)


def shows_identity(user: User, complaint: Complaint) -> bool:
    """ "Hide my identity from the entity": its officers see neither name nor contact."""
    return not (complaint.hide_identity and user.role is Role.officer)
