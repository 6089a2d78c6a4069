"""Callback requests: a caller (in the IVR) or an agent asks for a call back; agents take and close them.

Taking, placing, giving back and closing are use cases (each commits, audit entry
included); the rest are helpers that leave the commit to their caller.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import url_for
from requests import RequestException
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from twilio.base.exceptions import TwilioException, TwilioRestException

from domain.audit import audit
from domain.calls.record import get_or_create_call
from domain.clock import utcnow
from domain.db.once import rows_changed
from domain.languages import DEFAULT_LANGUAGE, known_language
from domain.letters.lookup import ascii_digits
from domain.phones import is_valid_number, normalize_phone
from extensions import db
from models import Call, CallbackRequest, CallbackStatus, Role, User
from telephony.rest import public_url, twilio_client

log = logging.getLogger(__name__)


OPEN = (CallbackStatus.pending, CallbackStatus.in_progress)


def open_callback_for(phone: str) -> CallbackRequest | None:
    """The request still waiting (or being handled) for this number, if there is one."""
    query = (
        select(CallbackRequest)
        .where(CallbackRequest.phone == phone, CallbackRequest.status.in_(OPEN))
        .order_by(CallbackRequest.id)
        .limit(1)
    )
    return db.session.scalar(query)


ADDED_KEY = "hotline.callbacks_added"  # session.info: ids of the requests this session added


def is_earlier_request(callback: CallbackRequest) -> bool:
    """Whether `schedule_callback` returned a request that was already there, not a new one."""
    return callback.id not in db.session.info.get(ADDED_KEY, set())


def request_callback(call: Call) -> CallbackRequest:
    """One request per call, however often the caller (or Twilio) presses the key, and one
    open request per number: calling again while one waits returns that one (its `call_id`
    is another call's), so five calls never make five callbacks to place."""
    existing = db.session.scalar(select(CallbackRequest).where(CallbackRequest.call_id == call.id))
    if existing is not None:
        return existing
    if call.caller and (waiting := open_callback_for(call.caller)) is not None:
        return waiting
    callback = CallbackRequest(
        call_id=call.id,
        phone=call.caller,
        language=call.language or DEFAULT_LANGUAGE,
        transaction_id=call.transaction_id,
        source="ivr",
    )
    return _add_once(callback)


def _add_once(callback: CallbackRequest) -> CallbackRequest:
    """Add the request, or return the one that won a race for the same call or number.

    The database decides (a unique call id; a partial unique index on the open requests'
    numbers), so two nodes adding at the same moment end with one request, not two.
    """
    try:
        with db.session.begin_nested():
            db.session.add(callback)
    except IntegrityError:
        found = None
        if callback.call_id is not None:
            found = db.session.scalar(select(CallbackRequest).where(CallbackRequest.call_id == callback.call_id))
        if found is None and callback.phone:
            found = open_callback_for(callback.phone)
        if found is None:  # another constraint failed: not a duplicate
            raise
        return found
    db.session.info.setdefault(ADDED_KEY, set()).add(callback.id)
    return callback


# --- the console's side: requests made by hand, taken, placed and closed -------------

MAX_NOTE = 1000
MAX_DUE_AHEAD = timedelta(days=90)
DUE_GRACE = timedelta(minutes=5)  # a form left open a few minutes is not "in the past"


class CallbackError(ValueError):
    """A callback could not be created or changed; `code` names why, `field` where."""

    def __init__(self, code: str, field: str | None = None):
        super().__init__(code)
        self.code = code
        self.field = field


def schedule_callback(
    *,
    phone: str | None,
    language: str,
    note: str = "",
    due_at: datetime | None = None,
    requested_by: User | None = None,
    transaction_id: int | None = None,
    call_id: int | None = None,
    region: str = "IQ",
    source: str = "agent",
    now: datetime | None = None,
) -> CallbackRequest:
    """A callback asked for by an agent (by hand, or from a call); checked, then added.

    A number with a request still open gets no second one: that request is returned
    (`is_earlier_request` tells the two apart), unchanged.
    """
    now = now or utcnow()
    e164 = normalize_phone(ascii_digits(phone or ""), region)
    if e164 is None or not is_valid_number(e164):
        raise CallbackError("bad_phone", "phone")
    if not known_language(language):
        raise CallbackError("bad_language", "language")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise CallbackError("long_note", "note")
    if due_at is not None:
        if due_at.tzinfo is None:
            raise ValueError("due_at must be an aware datetime")
        if due_at < now - DUE_GRACE:
            raise CallbackError("due_past", "due_at")
        if due_at > now + MAX_DUE_AHEAD:
            raise CallbackError("due_far", "due_at")
    if (waiting := open_callback_for(e164)) is not None:
        return waiting
    callback = CallbackRequest(
        phone=e164,
        language=language,
        note=note or None,
        due_at=due_at,
        source=source,
        requested_by_id=getattr(requested_by, "id", None),
        transaction_id=transaction_id,
        call_id=call_id,
        status=CallbackStatus.pending,
        created_at=now,
    )
    return _add_once(callback)


def list_callbacks(status: CallbackStatus | None, *, limit: int = 50, offset: int = 0) -> list[CallbackRequest]:
    """Open requests soonest due first (no due time: as soon as possible); closed ones newest first."""
    query = select(CallbackRequest)
    if status is not None:
        query = query.where(CallbackRequest.status == status)
    if status in OPEN:
        query = query.order_by(
            CallbackRequest.due_at.is_(None).desc(), CallbackRequest.due_at, CallbackRequest.created_at
        )
    else:
        query = query.order_by(CallbackRequest.created_at.desc())
    return list(db.session.scalars(query.offset(offset).limit(limit)))


def count_by_status() -> dict[CallbackStatus, int]:
    rows = db.session.execute(select(CallbackRequest.status, func.count()).group_by(CallbackRequest.status))
    counts = {status: 0 for status in CallbackStatus}
    counts.update({status: count for status, count in rows})
    return counts


def claim_callback(callback_id: int, agent: User, now: datetime | None = None) -> bool:
    """Take a pending request; one UPDATE guarded by the status, so only one agent wins."""
    result = db.session.execute(
        update(CallbackRequest)
        .where(CallbackRequest.id == callback_id, CallbackRequest.status == CallbackStatus.pending)
        .values(status=CallbackStatus.in_progress, agent_id=agent.id, taken_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


def take_callback(callback_id: int, agent: User, *, address: str | None = None) -> bool:
    """An agent takes a pending request; False when another agent was faster."""
    if not claim_callback(callback_id, agent):
        db.session.rollback()
        return False
    audit(agent, "callback_take", target_type="callback", target_id=callback_id, address=address)
    db.session.commit()
    return True


def may_handle(callback: CallbackRequest, user: User) -> bool:
    """An open request taken by someone is theirs; a supervisor may act on any request."""
    if user.has_role(Role.supervisor):
        return True
    return callback.status == CallbackStatus.pending or callback.agent_id == user.id


def record_placed_call(callback: CallbackRequest, call_sid: str) -> None:
    callback.placed_call_sid = call_sid[:64]
    if callback.placed_status in PLACED_FINAL:  # its status callback came before this answer
        callback.placing_at = None
    callback.attempts = (callback.attempts or 0) + 1


def release_callback(callback_id: int, user: User, *, address: str | None = None) -> bool:
    """Give a taken request back to the list (e.g. nobody answered; try later)."""
    query = (
        update(CallbackRequest)
        .where(CallbackRequest.id == callback_id, CallbackRequest.status == CallbackStatus.in_progress)
        .values(status=CallbackStatus.pending, agent_id=None, taken_at=None)
        .execution_options(synchronize_session=False)
    )
    if not user.has_role(Role.supervisor):
        query = query.where(CallbackRequest.agent_id == user.id)
    changed = rows_changed(db.session.execute(query)) == 1
    if changed:
        audit(user, "callback_release", target_type="callback", target_id=callback_id, address=address)
    db.session.commit()
    return changed


def close_callback(
    callback_id: int,
    user: User,
    status: CallbackStatus,
    note: str = "",
    now: datetime | None = None,
    *,
    address: str | None = None,
) -> bool:
    """Mark done or cancelled, once; the closing note is added under the request's own note."""
    if status not in (CallbackStatus.done, CallbackStatus.cancelled):
        raise ValueError(f"a callback is closed as done or cancelled, not {status}")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise CallbackError("long_note", "note")
    callback = db.session.get(CallbackRequest, callback_id)
    if callback is None or callback.status not in OPEN or not may_handle(callback, user):
        return False
    now = now or utcnow()
    values: dict[str, object] = {"status": status, "done_at": now}
    if note:
        values["note"] = "\n".join(part for part in (callback.note, note) if part)
    if callback.agent_id is None:
        values["agent_id"] = user.id
    # Guarded by the status read above: a concurrent close or release makes this a no-op.
    changed = (
        rows_changed(
            db.session.execute(
                update(CallbackRequest)
                .where(
                    CallbackRequest.id == callback_id,
                    CallbackRequest.status == callback.status,
                    CallbackRequest.agent_id.is_(None)
                    if callback.agent_id is None
                    else CallbackRequest.agent_id == callback.agent_id,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        )
        == 1
    )
    if changed:
        audit(
            user,
            "callback_close",
            target_type="callback",
            target_id=callback_id,
            detail={"status": status.value},
            address=address,
        )
    db.session.commit()
    return changed


# --- placing the call -------------------------------------------------------------------


class Placing(str, enum.Enum):
    placed = "placed"  # Twilio is ringing the citizen; the agent's phone rings when they answer
    unknown = "unknown"  # no such request
    not_taken = "not_taken"  # the request is not in progress with this agent
    no_caller_id = "no_caller_id"  # the hotline's caller number is not configured
    twilio_failed = "twilio_failed"  # Twilio did not place the call; nothing changed
    already_placing = "already_placing"  # a call to this citizen is already ringing or under way


@dataclass(frozen=True)
class Placed:
    outcome: Placing
    reason: str | None = None  # why Twilio failed, without the request's content


# A placement whose call never reported an end (a lost status callback) stops blocking the
# next one after this long: longer than Twilio rings (60 s) plus a conversation's start.
PLACING_STALE = timedelta(minutes=10)
# Twilio's CallStatus values after which the placed call is over.
PLACED_FINAL = {"completed", "busy", "failed", "no-answer", "canceled"}
PLACED_STATUSES = PLACED_FINAL | {"queued", "initiated", "ringing", "in-progress", "answered"}


def claim_placement(callback_id: int, agent: User, now: datetime) -> bool:
    """Mark the request's call as being placed; True for exactly one of any number of clicks.

    One UPDATE guarded by the placement in flight: a second click (or a second node) finds
    `placing_at` set and matches no row, whatever the isolation level.
    """
    result = db.session.execute(
        update(CallbackRequest)
        .where(
            CallbackRequest.id == callback_id,
            CallbackRequest.status == CallbackStatus.in_progress,
            CallbackRequest.agent_id == agent.id,
            (CallbackRequest.placing_at.is_(None)) | (CallbackRequest.placing_at < now - PLACING_STALE),
        )
        .values(placing_at=now, placed_status="queued", placed_call_sid=None)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


def release_placement(callback_id: int, placed_at: datetime) -> None:
    """Twilio did not place the call: the claim is undone, so the agent can try again."""
    db.session.execute(
        update(CallbackRequest)
        .where(CallbackRequest.id == callback_id, CallbackRequest.placing_at == placed_at)
        .values(placing_at=None, placed_status=None)
        .execution_options(synchronize_session=False)
    )


def place_callback(
    callback_id: int, agent: User, *, caller_id: str | None, address: str | None = None, now: datetime | None = None
) -> Placed:
    """Have Twilio ring the citizen of a request this agent has taken, once.

    The placement is claimed (and committed) before Twilio is asked, so a second click
    while the first call rings or is under way places nothing; the placed call's status
    callbacks (`placed_call_status`) say how it goes and free the request when it ends.
    When they answer, Twilio fetches /ivr/callback/connect, which dials the agent. If
    Twilio fails, the claim is released and nothing else changed: the agent can try again.
    """
    callback = db.session.get(CallbackRequest, callback_id)
    if callback is None:
        return Placed(Placing.unknown)
    if callback.status != CallbackStatus.in_progress or callback.agent_id != agent.id:
        return Placed(Placing.not_taken)
    if not caller_id:
        return Placed(Placing.no_caller_id)
    now = now or utcnow()
    won = claim_placement(callback.id, agent, now)
    db.session.commit()
    if not won:
        db.session.refresh(callback)
        if callback.status != CallbackStatus.in_progress or callback.agent_id != agent.id:
            return Placed(Placing.not_taken)
        return Placed(Placing.already_placing)
    try:
        placed = twilio_client().calls.create(
            to=callback.phone,
            from_=caller_id,
            method="POST",
            url=public_url(url_for("ivr.callback_connect", callback=callback.id)),
            status_callback=public_url(url_for("ivr.callback_status", callback=callback.id)),
            status_callback_method="POST",
            status_callback_event=["initiated", "ringing", "answered", "completed"],
        )
    except (TwilioException, RequestException) as error:
        log.warning("callback %s: Twilio did not place the call (%s)", callback.id, describe(error))
        db.session.rollback()
        release_placement(callback.id, now)
        db.session.commit()
        return Placed(Placing.twilio_failed, describe(error))
    db.session.refresh(callback)
    record_placed_call(callback, placed.sid)
    audit(agent, "callback_call", target_type="callback", target_id=callback.id, address=address)
    db.session.commit()
    return Placed(Placing.placed)


def callback_call(callback: CallbackRequest, sid: str, *, called: str = "", now: datetime | None = None) -> Call:
    """The citizen answered a callback: with call control, the conversation is a call of its own.

    The agent who placed it is rung into this call's conference as for a caller taken from
    the queue, so hold, transfer, supervisors and recording work alike, and the call screen
    shows what the citizen had asked about. Made once per placed call (Twilio may fetch the
    answer URL again). Not an incoming call: the KPIs do not count it as offered. Leaves the commit.
    """
    call = get_or_create_call(sid, caller=lambda: callback.phone, called=called)
    if call.callback_id is None:
        origin = callback.call
        call.callback_id = callback.id
        call.language = callback.language
        call.transaction_id = callback.transaction_id or (origin.transaction_id if origin is not None else None)
        if origin is not None:
            call.asked_number, call.asked_date, call.found = origin.asked_number, origin.asked_date, origin.found
        call.agent_id = callback.agent_id
        call.taken_at = now or utcnow()
    return call


def placed_call_status(callback_id: int | None, call_sid: str, call_status: str) -> bool:
    """Twilio's status callback for a placed call: its progress, kept on the request.

    Only the request's latest placed call counts (an old call's late callback changes
    nothing); a final status frees the request for the next placement. True when changed.
    """
    if callback_id is None or call_status not in PLACED_STATUSES:
        return False
    values: dict[str, object] = {"placed_status": call_status}
    if call_status in PLACED_FINAL:
        values["placing_at"] = None
    values["placed_call_sid"] = call_sid[:64]
    result = db.session.execute(
        update(CallbackRequest)
        .where(
            CallbackRequest.id == callback_id,
            # this placement's call; or, before Twilio's answer was recorded, the one in flight
            (CallbackRequest.placed_call_sid == call_sid)
            | (CallbackRequest.placed_call_sid.is_(None) & CallbackRequest.placing_at.is_not(None)),
            # a final status stays: a late "ringing" does not bring a finished call back
            (CallbackRequest.placed_status.is_(None)) | (CallbackRequest.placed_status.not_in(PLACED_FINAL)),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result) == 1


def describe(error: Exception) -> str:
    """A short reason without the request's content (no phone numbers in logs or pages)."""
    if isinstance(error, TwilioRestException):
        return f"HTTP {error.status}" + (f", code {error.code}" if error.code else "")
    return type(error).__name__
