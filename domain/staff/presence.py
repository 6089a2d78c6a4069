"""Presence that is true: heartbeats from open consoles, Offline without them, the states an
agent or a supervisor chooses, and an agent's day in figures.

An agent's row holds their state; `last_seen_at` is the last heartbeat of any of their open
console pages (any node writes it). Whoever reads presence (the wallboard, the Agents page,
routing, the IVR's "is anyone answering") counts an agent with no heartbeat for
PRESENCE_TIMEOUT_S as Offline at once (`present`); the sweep (`expire_presence`, run with
routing) then writes it down, so their day's figures and the Agents page's "since" are right.
An agent on a call stays On call without a heartbeat: the call itself says they are there.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from domain.clock import start_of_local_day, utcnow
from domain.db.once import rows_changed
from domain.staff.users import end_sessions, set_presence, timeout
from extensions import db
from models import Call, CallOffer, Presence, PresenceChange, User

MISSED = "missed"  # the reason routing gives when an offer was not accepted
CHOSEN = (Presence.available, Presence.away)  # the states an agent or a supervisor sets


class PresenceError(ValueError):
    """A state or reason that cannot be set; `code` names it for the console."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def away_reasons() -> tuple[str, ...]:
    return tuple(current_app.config["AWAY_REASONS"])


def shown_presence(user: User, now: datetime | None = None) -> Presence:
    """The state to show and route by: Offline once the heartbeats stopped, else the stored one."""
    if not user.active:
        return Presence.offline
    if user.presence in (Presence.on_call, Presence.offline):
        return user.presence
    seen = user.last_seen_at
    if seen is None or seen < (now or utcnow()) - timeout():
        return Presence.offline
    return user.presence


def heartbeat(user: User, now: datetime | None = None) -> None:
    """An open console page of this agent is alive. One that comes back after the agent was set
    Offline (a laptop asleep, a network gone) makes them Away: they choose Available again."""
    now = now or utcnow()
    user.last_seen_at = now
    if user.presence == Presence.offline:
        set_presence(user, Presence.away, now)


def stream_seen(user_id: int, every_s: float, now: datetime | None = None) -> bool:
    """An open live stream of this agent's is alive: `last_seen_at` moves on as a heartbeat
    would, but only when it is `every_s` old or more. One conditional UPDATE, so the streams
    of one agent (any tab, any node) and the heartbeat POST write it at most once per
    `every_s` between them. State is left alone: an agent set Offline comes back by the
    console's heartbeat (Away, see `heartbeat`). Commits; whether it wrote.
    """
    now = now or utcnow()
    result = db.session.execute(
        update(User)
        .where(
            User.id == user_id,
            User.active.is_(True),
            or_(User.last_seen_at.is_(None), User.last_seen_at <= now - timedelta(seconds=every_s)),
        )
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return rows_changed(result) == 1


def expire_presence(now: datetime | None = None) -> int:
    """Write Offline for every agent whose consoles went quiet; the number set Offline.

    Each row is changed by a conditional UPDATE (the heartbeat checked again in it), so a
    heartbeat that arrives meanwhile on another node is never overwritten.
    """
    now = now or utcnow()
    cutoff = now - timeout()
    quiet = or_(User.last_seen_at.is_(None), User.last_seen_at < cutoff, User.active.is_(False))
    ids = list(
        db.session.scalars(select(User.id).where(User.presence.not_in((Presence.offline, Presence.on_call)), quiet))
    )
    changed = 0
    for user_id in ids:
        result = db.session.execute(
            update(User)
            .where(User.id == user_id, User.presence.not_in((Presence.offline, Presence.on_call)), quiet)
            .values(presence=Presence.offline, away_reason=None, presence_since=now)
            .execution_options(synchronize_session=False)
        )
        if rows_changed(result) == 1:
            db.session.add(PresenceChange(user_id=user_id, presence=Presence.offline, at=now))
            changed += 1
    return changed


def choose(user: User, state: str, reason: str | None = None, now: datetime | None = None) -> None:
    """An agent (or a supervisor for them) sets Available, or Away with one of AWAY_REASONS.

    An agent on a call or in wrap-up leaves it by the call itself (its end, its wrap-up):
    setting them Available here would offer them a caller while they still hold one.
    """
    try:
        presence = Presence(state)
    except ValueError:
        raise PresenceError("bad_state") from None
    if presence not in CHOSEN:
        raise PresenceError("bad_state")
    if presence == Presence.away:
        reason = (reason or "").strip().lower() or None
        if reason is not None and reason not in away_reasons():
            raise PresenceError("bad_reason")
    else:
        reason = None
    if user.presence == Presence.on_call:
        raise PresenceError("on_call")
    now = now or utcnow()
    if presence != Presence.available:
        withdraw_offers_of(user.id)
    set_presence(user, presence, now, reason=reason)


def log_out(user: User, now: datetime | None = None) -> None:
    """A supervisor logs an agent out: Offline, every session ended (each console's next request
    or its live stream sends them to the login page), any offer withdrawn. The caller commits."""
    withdraw_offers_of(user.id)
    set_presence(user, Presence.offline, now)
    end_sessions(user)


# --- an agent's day ----------------------------------------------------------------------


def day_figures(user: User, now: datetime | None = None) -> dict:
    """Today (the centre's day) for one agent: calls handled, their average handle time,
    and the seconds spent in each state."""
    now = now or utcnow()
    start = start_of_local_day(current_app.config["TIMEZONE"], now)
    calls = list(
        db.session.scalars(
            select(Call).where(Call.agent_id == user.id, Call.taken_at >= start, Call.answered_at.is_not(None))
        )
    )
    handled = [seconds for seconds in (handle_seconds(call) for call in calls) if seconds is not None]
    seconds = {state.value: 0 for state in Presence}
    # The state at the start of the day is the last change before it.
    before = db.session.scalar(
        select(PresenceChange)
        .where(PresenceChange.user_id == user.id, PresenceChange.at < start)
        .order_by(PresenceChange.at.desc(), PresenceChange.id.desc())
        .limit(1)
    )
    changes = list(
        db.session.scalars(
            select(PresenceChange)
            .where(PresenceChange.user_id == user.id, PresenceChange.at >= start, PresenceChange.at <= now)
            .order_by(PresenceChange.at, PresenceChange.id)
        )
    )
    state, since = (before.presence, start) if before is not None else (None, start)
    for change in changes:
        if state is not None:
            seconds[state.value] += max(0, int((change.at - since).total_seconds()))
        state, since = change.presence, change.at
    if state is not None:
        seconds[state.value] += max(0, int((now - since).total_seconds()))
    return {
        "calls": len(calls),
        "average_handle_s": int(sum(handled) / len(handled)) if handled else None,
        "seconds": seconds,
    }


def handle_seconds(call: Call) -> int | None:
    """Talk plus wrap-up: from the answer to the wrap-up (or to the hang-up before it)."""
    end = call.wrapped_up_at or call.agent_ended_at
    if call.answered_at is None or end is None:
        return None
    return max(0, int((end - call.answered_at).total_seconds()))


def withdraw_offers_of(agent_id: int) -> int:
    """The agent leaves Available (or is logged out): their offer ends, with no blame."""
    result = db.session.execute(
        delete(CallOffer).where(CallOffer.agent_id == agent_id).execution_options(synchronize_session=False)
    )
    return rows_changed(result)
