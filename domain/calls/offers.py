"""Routing by offer: the longest-waiting caller is offered to the longest-idle available agent
who speaks the caller's language; the agent accepts (`take_call` connects them) or the offer
times out, the agent goes Away ("missed") and the next agent is offered.

Everything lives in the database, nothing in a process, so any node may route:

- `route` runs under one transaction-scoped lock (an advisory lock on PostgreSQL, the write
  lock on SQLite), so two nodes never pick at once; and `call_offer` has one unique row per
  caller and one per agent, so even without the lock one caller cannot be offered to two
  agents nor one agent two callers.
- accepting and expiring both DELETE the offer row: whichever deletes it has it.

`route` is run on every event that may make an offer (a caller queued, an agent available,
an offer accepted or expired: see its callers) and by a periodic sweep, so nothing is stuck
when an event was lost. With ROUTING_MODE = list it only keeps presence true.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, exists, literal, or_, select
from sqlalchemy.exc import SQLAlchemyError

from domain import live
from domain.calls.agent import call_in_hand, wrap_up
from domain.calls.queue import offer_mode, publish_queue, waiting_condition
from domain.clock import utcnow
from domain.db.once import insert_once, lock_keys, rows_changed
from domain.staff.presence import MISSED, expire_presence
from domain.staff.users import present, set_presence
from extensions import db
from models import Call, CallOffer, Presence, Role, User

log = logging.getLogger(__name__)
ROUTING_LOCK = "routing"
OFFERS_EVENT = "offers"
MAX_CALLS_PER_ROUTE = 50


def speaks(language: str | None):
    """SQL: the agent takes calls in this language (an agent with none set takes every language)."""
    if not language:
        return literal(True)
    padded = literal(",") + User.languages + literal(",")
    return or_(User.languages == "", padded.contains(f",{language},", autoescape=True))


def free_agents(call: Call, now: datetime):
    """Who may be offered this caller, longest idle first: active, Available with a console
    heard from lately, not holding a call nor an offer, speaking the caller's language (any
    language once the caller has waited LANGUAGE_WAIT_S)."""
    in_hand = exists().where(Call.agent_id == User.id, Call.taken_at.is_not(None), Call.wrapped_up_at.is_(None))
    offered = exists().where(CallOffer.agent_id == User.id)
    query = select(User.id).where(
        User.active.is_(True),
        User.role != Role.officer,
        User.presence == Presence.available,
        present(now),
        ~in_hand,
        ~offered,
    )
    waited = (now - call.queued_at).total_seconds() if call.queued_at else 0
    if waited < current_app.config["LANGUAGE_WAIT_S"]:
        query = query.where(speaks(call.language))
    return query.order_by(User.presence_since, User.id)


def needs_routing(now: datetime) -> bool:
    """One cheap read, no lock: whether `route` has anything to do (a console gone quiet, an
    offer run out or dead, a wrap-up too long, a caller waiting with no offer)."""
    cutoff = now - timedelta(seconds=current_app.config["PRESENCE_TIMEOUT_S"])
    checks = [
        exists().where(
            User.presence.not_in((Presence.offline, Presence.on_call)),
            or_(User.last_seen_at.is_(None), User.last_seen_at < cutoff, User.active.is_(False)),
        ),
        exists().where(CallOffer.expires_at <= now),
    ]
    if current_app.config["WRAP_UP_LIMIT_S"]:
        limit = timedelta(seconds=current_app.config["WRAP_UP_LIMIT_S"])
        checks.append(exists().where(User.presence == Presence.wrap_up, User.presence_since <= now - limit))
    if offer_mode():
        checks.append(exists().where(*waiting_condition(), Call.id.not_in(select(CallOffer.call_id))))
        checks.append(exists().where(CallOffer.call_id.not_in(select(Call.id).where(*waiting_condition()))))
    return bool(db.session.scalar(select(or_(*checks))))


def route(now: datetime | None = None, *, when_needed: bool = False) -> dict:
    """Keep presence true, end offers that ran out, and (in offer mode) offer every waiting caller
    that can be offered. Commits; tells the consoles what changed. Never raises.

    `when_needed`: first look (without the lock) whether there is anything to do; the
    consoles' heartbeats route this way, so a quiet centre costs one read per heartbeat.
    """
    now = now or utcnow()
    try:
        if when_needed and not needs_routing(now):
            db.session.rollback()
            return {}
        lock_keys(ROUTING_LOCK, sqlite_table=CallOffer.__table__)
        done = {
            "offline": expire_presence(now),
            "wrapped_up": end_long_wrap_ups(now),
            "missed": expire_offers(now),
            "withdrawn": drop_dead_offers(),
        }
        made = make_offers(now) if offer_mode() else []
        db.session.commit()
    except SQLAlchemyError:
        log.warning("routing: the database refused this round; the next one tries again", exc_info=True)
        db.session.rollback()
        return {"error": True}
    done["offered"] = len(made)
    if done["offline"] or done["wrapped_up"] or done["missed"]:
        live.publish_agents_changed()
    if made or done["missed"] or done["withdrawn"]:
        live.publish(OFFERS_EVENT, {"agents": made})
        publish_queue()  # the rows say which callers are offered
    return done


def end_long_wrap_ups(now: datetime | None = None) -> int:
    """With WRAP_UP_LIMIT_S set, a wrap-up that lasted longer is closed and the agent is Available."""
    limit = current_app.config["WRAP_UP_LIMIT_S"]
    if not limit:
        return 0
    now = now or utcnow()
    agents = db.session.scalars(
        select(User).where(User.presence == Presence.wrap_up, User.presence_since <= now - timedelta(seconds=limit))
    )
    ended = 0
    for agent in agents:
        call = call_in_hand(agent)
        if call is not None:
            wrap_up(call, now)
        set_presence(agent, Presence.available, now)
        ended += 1
    return ended


def expire_offers(now: datetime) -> int:
    """Offers not accepted in time: the offer ends and the agent goes Away, "missed"."""
    expired = list(db.session.scalars(select(CallOffer).where(CallOffer.expires_at <= now)))
    missed = 0
    for offer in expired:
        result = db.session.execute(
            delete(CallOffer).where(CallOffer.id == offer.id).execution_options(synchronize_session=False)
        )
        if rows_changed(result) != 1:  # accepted meanwhile
            continue
        agent = db.session.get(User, offer.agent_id)
        if agent is not None and agent.presence == Presence.available:
            set_presence(agent, Presence.away, now, reason=MISSED)
        missed += 1
    db.session.flush()  # the agents set Away are not free for the offers made next
    return missed


def drop_dead_offers() -> int:
    """Offers of callers who left the queue, or to agents no longer Available: gone, no blame."""
    waiting = select(Call.id).where(*waiting_condition())
    available = select(User.id).where(User.active.is_(True), User.presence == Presence.available)
    result = db.session.execute(
        delete(CallOffer)
        .where(or_(CallOffer.call_id.not_in(waiting), CallOffer.agent_id.not_in(available)))
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


def make_offers(now: datetime) -> list[int]:
    """Offer the waiting callers, longest waiting first; the ids of the agents offered one."""
    offered_calls = select(CallOffer.call_id)
    calls = list(
        db.session.scalars(
            select(Call)
            .where(*waiting_condition(), Call.id.not_in(offered_calls))
            .order_by(Call.queued_at, Call.id)
            .limit(MAX_CALLS_PER_ROUTE)
        )
    )
    expires = now + timedelta(seconds=current_app.config["OFFER_TIMEOUT_S"])
    made: list[int] = []
    for call in calls:
        agent_id = db.session.scalar(free_agents(call, now).limit(1))
        if agent_id is None:
            continue
        # The caller's row, locked and checked again: a caller claimed meanwhile is not offered.
        still_waiting = db.session.scalar(
            select(Call.id).where(Call.id == call.id, *waiting_condition()).with_for_update()
        )
        if still_waiting is None:
            continue
        if insert_once(
            CallOffer, unique="agent_id", call_id=call.id, agent_id=agent_id, offered_at=now, expires_at=expires
        ):
            made.append(agent_id)
    return made


def offer_of(agent: User, now: datetime | None = None) -> dict | None:
    """The agent's open offer, as their console shows it: the caller's row and the time left."""
    from domain.calls.queue import call_row

    now = now or utcnow()
    offer = db.session.scalar(select(CallOffer).where(CallOffer.agent_id == agent.id, CallOffer.expires_at > now))
    if offer is None:
        return None
    call = db.session.get(Call, offer.call_id)
    if call is None:
        return None
    row = call_row(call, now, current_app.config["DEFAULT_PHONE_REGION"])
    row["expires_in_s"] = max(0, int((offer.expires_at - now).total_seconds()))
    row["expires_at"] = offer.expires_at.isoformat()
    return row


def route_after_change() -> None:
    """After a committed change that may allow an offer (a caller queued, an agent free): route,
    and tell the consoles the queue changed. Never raises: its callers are webhooks and clicks."""
    try:
        route()
    except Exception:
        log.warning("routing after a change failed; the sweep will route", exc_info=True)
        db.session.rollback()
