"""Call control: the caller and the agent meet in a Twilio conference named for the call,
and the console drives it with Twilio's REST API (conference participants).

The caller joins by TwiML (`<Dial><Conference>`, ivr/agent_leg.py); the agent, and anyone
the agent consults, joins as a participant the app creates by REST. What the app needs to
drive the conference (its sid, the agent's participant, the hold, the legs it added) is on
the call's rows, never in a process: any node can take any action.

Every action changes the rows only after Twilio accepted the REST request; a refusal or an
unreachable Twilio leaves the call as it was and says so (`Control.failed`). Each action is a
step on the call's timeline (CallEvent) and an audit entry. The use cases commit.
"""

from __future__ import annotations

import enum
import logging
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlencode

from flask import current_app, url_for
from requests import RequestException
from sqlalchemy import select
from twilio.base.exceptions import TwilioException

from domain.audit import audit
from domain.calls.record import record_event, request_key
from domain.calls.recordings import recording_options
from domain.clock import utcnow
from domain.languages import language_or_default
from domain.staff.users import dialled_endpoint, set_presence
from extensions import db
from models import Call, CallLeg, EndpointKind, LegRole, Outcome, Presence, User
from telephony.rest import public_url, twilio_client

log = logging.getLogger(__name__)

AGENT_RING_TIMEOUT_S = 20
CONSULT_RING_TIMEOUT_S = 25
AGENT_LABEL = "agent"
# <Conference statusCallbackEvent>: what Twilio reports about the conference and its participants.
CONFERENCE_EVENTS = "start end join leave hold unhold mute"
# A participant's call statuses after which it never joined.
NOT_ANSWERED = {"no-answer", "busy", "failed", "canceled"}


class Control(str, enum.Enum):
    """What came of an agent's call-control click."""

    done = "done"
    not_live = "not_live"  # the call is not in a conference with this agent (ended, or never)
    unchanged = "unchanged"  # already so (a second click)
    busy = "busy"  # a consultation is already going on
    no_consult = "no_consult"  # nobody consulted (or not answered yet) to join or hand over to
    unavailable = "unavailable"  # the person to consult is not available
    failed = "failed"  # Twilio refused or could not be reached: nothing changed
    invalid = "invalid"  # what the agent typed cannot be sent (tones: send_tones)


class TwilioFailed(Exception):
    """A REST request to Twilio failed; `reason` says why without the call's content."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def describe(error: Exception) -> str:
    status = getattr(error, "status", None)
    code = getattr(error, "code", None)
    if status is not None:
        return f"HTTP {status}" + (f", code {code}" if code else "")
    return type(error).__name__


def twilio_request(what: str, call: Call, request):
    """Run one REST request; a refusal or an unreachable Twilio becomes TwilioFailed."""
    try:
        return request()
    except (TwilioException, RequestException) as error:
        log.warning("call %s: Twilio refused %s (%s)", call.id, what, describe(error))
        raise TwilioFailed(describe(error)) from error


# --- the conference and the agent's participant -------------------------------------------


def conference_name(call: Call) -> str:
    return f"hotline-call-{call.id}"


def conferences_enabled() -> bool:
    return bool(current_app.config.get("CALL_CONFERENCES"))


def participant_address(user: User, context: dict[str, str] | None = None) -> str:
    """What Twilio dials to add this user to a conference: `client:` with its parameters, SIP, a number."""
    endpoint = dialled_endpoint(user)
    if user.endpoint_kind == EndpointKind.client:
        return f"client:{endpoint}" + (f"?{urlencode(context)}" if context else "")
    if user.endpoint_kind == EndpointKind.sip:
        return endpoint if endpoint.startswith("sip:") else f"sip:{endpoint}"
    return endpoint


def caller_id(call: Call) -> str:
    """The number participants see calling: the hotline's (the number the caller dialled)."""
    return current_app.config.get("HOTLINE_CALLER_ID") or call.called or "hotline"


def ring_in(
    call: Call,
    what: str,
    *,
    to: str,
    label: str,
    timeout: int,
    leg_args: dict[str, Any],
    conference: str | None = None,
    **options: Any,
):
    """Ring `to` into the call's conference (by its sid; `conference`, by its name, to create
    it) as a participant labelled `label`; the created participant. Raises TwilioFailed.

    Twilio reports the leg's answer and end to `ivr.conference_leg` with `leg_args`, which say
    whose leg it is. `options` are the participant's own: beep, early media, whether it starts
    or ends the conference, recording, muted or coaching.
    """
    return twilio_request(
        what,
        call,
        lambda: (
            twilio_client()
            .conferences(conference or call.conference_sid)
            .participants.create(
                from_=caller_id(call),
                to=to,
                label=label,
                timeout=timeout,
                status_callback=public_url(url_for("ivr.conference_leg", call=call.id, **leg_args)),
                status_callback_method="POST",
                status_callback_event=["answered", "completed"],
                **options,
            )
        ),
    )


def add_agent(call: Call, agent: User, context: dict[str, str] | None = None) -> None:
    """Ring the agent into the call's conference (creating it); raises TwilioFailed.

    The agent starts the conference and ends it on leaving (a caller is never left alone
    with hold music); Twilio reports the leg's answer and end to `ivr.conference_leg`,
    which brings the caller back to the queue if the agent does not answer.
    """
    participant = ring_in(
        call,
        "adding the agent",
        conference=conference_name(call),
        to=participant_address(agent, context),
        label=AGENT_LABEL,
        timeout=AGENT_RING_TIMEOUT_S,
        leg_args={"agent": agent.id},
        early_media=True,
        beep="false",
        start_conference_on_enter=True,
        end_conference_on_exit=True,
        **recording_options(call),  # the agent's part recorded (RECORDING_ENABLED)
    )
    call.agent_leg_sid = participant.call_sid
    call.conference_sid = participant.conference_sid or call.conference_sid
    call.held_at = None
    call.agent_muted = False


def in_conference(call: Call, agent: User) -> bool:
    return (
        call.conference_sid is not None
        and call.agent_leg_sid is not None
        and call.agent_id == agent.id
        and call.answered_at is not None
        and call.ended_at is None
        and call.agent_ended_at is None
    )


def participant(call: Call, call_sid: str | None):
    return twilio_client().conferences(call.conference_sid).participants(call_sid)


def hold_url(call: Call) -> str:
    return public_url(url_for("ivr.conference_hold", lang=language_or_default(call.language)))


def step(call: Call, agent: User, name: str, result: str, address: str | None, detail: dict | None = None) -> None:
    """The action on the call's timeline and in the audit log."""
    now = utcnow()
    record_event(call, key=request_key(call.sid, name, str(agent.id), now.isoformat()), step=name, result=result[:40])
    audit(agent, name, target_type="call", target_id=call.id, detail=detail, address=address)


def held_seconds(call: Call, now: datetime | None = None) -> int:
    """Time on hold so far, the hold going on included."""
    total = call.hold_s or 0
    if call.held_at is not None:
        total += max(0, int(((now or utcnow()) - call.held_at).total_seconds()))
    return total


def end_hold(call: Call, now: datetime | None = None) -> None:
    """The hold ends (resumed, or the call ended while holding): its time is added once."""
    if call.held_at is not None:
        call.hold_s = held_seconds(call, now)
        call.held_at = None


class CallerHold:
    """The caller held while an action rings someone in (a consultation, a transfer), unless
    already on hold: then the hold is not the action's to take, undo or record.

    Whose hold it is is decided before asking Twilio, so a hold Twilio refused (it may have
    been applied all the same) is undone too.
    """

    def __init__(self, call: Call):
        self.call = call
        self.here = call.held_at is None

    def start(self) -> None:
        """Hold the caller; raises TwilioFailed."""
        call = self.call
        if self.here:
            twilio_request(
                "hold",
                call,
                lambda: participant(call, call.sid).update(hold=True, hold_url=hold_url(call), hold_method="POST"),
            )

    def undo(self) -> None:
        """The action failed: the caller back off hold, as far as Twilio lets us."""
        if self.here:
            try:
                participant(self.call, self.call.sid).update(hold=False)
            except (TwilioException, RequestException) as error:
                log.warning("call %s: could not take the caller off hold again (%s)", self.call.id, describe(error))

    def keep(self, now: datetime | None = None) -> None:
        """The action is done: the rows say the caller holds from now."""
        if self.here:
            self.call.held_at = now or utcnow()


# --- hold and mute ------------------------------------------------------------------------


def set_hold(call: Call, agent: User, hold: bool, *, address: str | None = None) -> Control:
    """Put the caller on hold (they hear a line in their language, then music) or back."""
    if not in_conference(call, agent):
        return Control.not_live
    if (call.held_at is not None) == hold:
        return Control.unchanged
    options = {"hold": True, "hold_url": hold_url(call), "hold_method": "POST"} if hold else {"hold": False}
    try:
        twilio_request("hold" if hold else "resume", call, lambda: participant(call, call.sid).update(**options))
    except TwilioFailed:
        db.session.rollback()
        return Control.failed
    if hold:
        call.held_at = utcnow()
    else:
        end_hold(call)
    step(call, agent, "call_hold" if hold else "call_resume", f"agent:{agent.id}", address)
    db.session.commit()
    return Control.done


def set_mute(call: Call, agent: User, muted: bool, *, address: str | None = None) -> Control:
    """Mute the agent's own line in the conference (the caller hears nothing from it), or not."""
    if not in_conference(call, agent):
        return Control.not_live
    if call.agent_muted == muted:
        return Control.unchanged
    try:
        twilio_request("mute", call, lambda: participant(call, call.agent_leg_sid).update(muted=muted))
    except TwilioFailed:
        db.session.rollback()
        return Control.failed
    call.agent_muted = muted
    step(call, agent, "call_mute" if muted else "call_unmute", f"agent:{agent.id}", address)
    db.session.commit()
    return Control.done


# --- consulting another agent or a supervisor, then handing the call over -------------------


def open_consult(call: Call) -> CallLeg | None:
    return db.session.scalar(
        select(CallLeg)
        .where(CallLeg.call_id == call.id, CallLeg.role == LegRole.consult, CallLeg.ended_at.is_(None))
        .order_by(CallLeg.id.desc())
        .limit(1)
    )


def consult_targets(agent: User) -> list[User]:
    """Whom an agent may consult: other active staff who are available now."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.id != agent.id, User.active.is_(True), User.presence == Presence.available)
            .order_by(User.display_name, User.username)
        )
    )


def consult(call: Call, agent: User, target: User | None, *, address: str | None = None) -> Control:
    """Warm transfer, first step: the caller holds while the target's phone rings into the
    conference; the agent and the target talk. A target who does not answer brings the
    caller back (`leg_status`)."""
    if not in_conference(call, agent):
        return Control.not_live
    if open_consult(call) is not None:
        return Control.busy
    if target is None or target.id == agent.id or not target.active or target.presence != Presence.available:
        return Control.unavailable
    hold = CallerHold(call)
    try:
        hold.start()
        created = ring_in(
            call,
            "adding a consultation",
            to=participant_address(target, {"kind": "consult", "callId": str(call.id)}),
            label=f"consult-{target.id}",
            timeout=CONSULT_RING_TIMEOUT_S,
            leg_args={"consult": target.id},
            early_media=True,
            beep="onEnter",
            start_conference_on_enter=True,
            end_conference_on_exit=False,
        )
    except TwilioFailed:
        db.session.rollback()
        hold.undo()  # the caller was put on hold for nothing: back to the agent
        return Control.failed
    hold.keep()
    db.session.add(
        CallLeg(
            call_id=call.id, call_sid=created.call_sid, role=LegRole.consult, user_id=target.id, added_by_id=agent.id
        )
    )
    call.consults = (call.consults or 0) + 1
    step(call, agent, "call_consult", f"user:{target.id}", address, {"target": target.id})
    db.session.commit()
    return Control.done


def cancel_consult(call: Call, agent: User, *, address: str | None = None) -> Control:
    """The agent ends the consultation: the other leg hangs up, the caller comes back."""
    if not in_conference(call, agent):
        return Control.not_live
    leg = open_consult(call)
    if leg is None:
        return Control.no_consult
    try:
        twilio_request("ending the consultation", call, lambda: participant(call, leg.call_sid).delete())
        if call.held_at is not None:
            twilio_request("resume", call, lambda: participant(call, call.sid).update(hold=False))
    except TwilioFailed:
        db.session.rollback()
        return Control.failed
    end_hold(call)
    close_leg(leg, "removed")
    step(call, agent, "call_consult_end", leg_party(leg), address)
    db.session.commit()
    return Control.done


def join_all(call: Call, agent: User, *, address: str | None = None) -> Control:
    """Warm transfer, second step: the caller comes off hold; the three of them talk."""
    if not in_conference(call, agent):
        return Control.not_live
    leg = open_consult(call)
    if leg is None or leg.answered_at is None:
        return Control.no_consult
    if call.held_at is None:
        return Control.unchanged
    try:
        twilio_request("resume", call, lambda: participant(call, call.sid).update(hold=False))
    except TwilioFailed:
        db.session.rollback()
        return Control.failed
    end_hold(call)
    step(call, agent, "call_join", leg_party(leg), address)
    db.session.commit()
    return Control.done


def hand_over(call: Call, agent: User, *, address: str | None = None) -> Control:
    """Warm transfer, last step: the agent leaves; the consulted colleague (or outside number,
    `consult_number`) has the call.

    The colleague's leg ends the conference from now on, the agent's no longer, then the
    agent's leg is removed. Should Twilio refuse midway, what was changed is put back.
    """
    if not in_conference(call, agent):
        return Control.not_live
    leg = open_consult(call)
    if leg is None or leg.answered_at is None or (leg.user is None and not is_outside(leg)):
        return Control.no_consult
    done: list[tuple[str | None, dict]] = []
    resumed = False
    try:
        for sid, options in (
            (leg.call_sid, {"end_conference_on_exit": True}),
            (call.agent_leg_sid, {"end_conference_on_exit": False}),
        ):
            twilio_request(
                "handing over", call, lambda sid=sid, options=options: participant(call, sid).update(**options)
            )
            done.append((sid, options))
        if call.held_at is not None:
            twilio_request("resume", call, lambda: participant(call, call.sid).update(hold=False))
            resumed = True
        twilio_request("the agent leaving", call, lambda: participant(call, call.agent_leg_sid).delete())
    except TwilioFailed:
        db.session.rollback()
        for sid, options in done:  # undo, so that the call is as it was
            try:
                participant(call, sid).update(end_conference_on_exit=not options["end_conference_on_exit"])
            except (TwilioException, RequestException) as error:
                log.warning("call %s: could not undo a hand-over step (%s)", call.id, describe(error))
        if resumed:  # the caller was held for the consultation: held again, as the rows still say
            try:
                participant(call, call.sid).update(hold=True, hold_url=hold_url(call), hold_method="POST")
            except (TwilioException, RequestException) as error:
                log.warning("call %s: could not hold the caller again (%s)", call.id, describe(error))
        return Control.failed
    now = utcnow()
    end_hold(call, now)
    target = leg.user
    if target is None:  # an outside number: it has the caller now, the agent wraps up
        handed_to_number(call, agent, leg, now, address)
        db.session.commit()
        return Control.done
    step(call, agent, "call_transfer", f"user:{target.id}", address, {"target": target.id, "kind": "warm"})
    call.agent_id = target.id
    call.agent_leg_sid = leg.call_sid
    call.agent_muted = False
    call.transfers = (call.transfers or 0) + 1
    close_leg(leg, "handed_over", now)
    if agent.presence in (Presence.on_call, Presence.wrap_up):
        set_presence(agent, Presence.available, now)
    db.session.commit()
    return Control.done


def close_leg(leg: CallLeg, status: str, now: datetime | None = None) -> None:
    if leg.ended_at is None:
        leg.ended_at = now or utcnow()
        leg.end_status = status[:20]


# --- what Twilio reports about the legs it rang (ivr.conference_leg) -------------------------


def consult_leg_status(call: Call, leg: CallLeg, status: str) -> str:
    """A consulted colleague answered, hung up or never answered; the timeline result.

    Never answered: the caller, held for the consultation, comes back to the agent.
    Leaves the commit to the webhook.
    """
    now = utcnow()
    if status == "in-progress" and leg.answered_at is None and leg.ended_at is None:
        leg.answered_at = now
        if leg.user is not None and leg.user.presence == Presence.available:
            set_presence(leg.user, Presence.on_call, now)
        return "consult_answered"
    if status not in NOT_ANSWERED and status != "completed":
        return "consult_" + status[:20]
    if leg.ended_at is not None:  # handed over or removed already: its end changes nothing more
        if leg.end_status == "handed_over" and status == "completed":
            return "consult_completed"
        return "consult_closed"
    answered = leg.answered_at is not None
    close_leg(leg, status, now)
    if leg.user is not None and leg.user.presence == Presence.on_call and call.agent_id != leg.user_id:
        set_presence(leg.user, Presence.available, now)
    if call.held_at is not None and call.ended_at is None and call.agent_ended_at is None and not answered:
        try:
            twilio_request("resume", call, lambda: participant(call, call.sid).update(hold=False))
            end_hold(call, now)
            return "consult_missed:resumed"
        except TwilioFailed:
            return "consult_missed:held"
    return f"consult_{'ended' if answered else 'missed'}"


# --- cold transfers: to the queue, to a named agent, to an outside number -------------------

MAX_TRANSFER_NOTE = 500


def transfer_numbers() -> dict[str, str]:
    """The outside numbers an agent may transfer a caller to (TRANSFER_NUMBERS), by label."""
    return dict(current_app.config.get("TRANSFER_NUMBERS") or ())


def release_agent(agent: User, now: datetime) -> None:
    if agent.presence in (Presence.on_call, Presence.wrap_up):
        set_presence(agent, Presence.available, now)


def rows_back_to_queue(call: Call, now: datetime) -> None:
    """The call's rows as a caller waiting in the queue again (the caller is on their way there)."""
    end_hold(call, now)
    call.agent_id = None
    call.taken_at = None
    call.answered_at = None
    call.agent_ended_at = None
    call.wrapped_up_at = None
    call.queue_left_at = None
    call.queue_result = None
    call.conference_sid = None
    call.agent_leg_sid = None
    call.agent_muted = False
    if call.outcome == Outcome.agent_answered:
        call.outcome = None


def transfer_to_queue(call: Call, agent: User, note: str, *, address: str | None = None) -> Control:
    """Cold transfer to the queue: the caller waits again, and the next agent sees the note.

    The caller's call is redirected out of the conference (to `ivr.agent_requeue`), then the
    conference, where the agent alone is left, is ended: the agent's phone hangs up.
    """
    if not in_conference(call, agent):
        return Control.not_live
    if open_consult(call) is not None:
        return Control.busy
    url = public_url(url_for("ivr.agent_requeue", call=call.id, transfer=1, s=len(call.events)))
    try:
        twilio_request("transfer to the queue", call, lambda: twilio_client().calls(call.sid).update(url=url))
    except TwilioFailed:
        db.session.rollback()
        return Control.failed
    conference_sid = call.conference_sid
    try:  # the caller has left: a failure here only leaves the agent's phone to hang up itself
        twilio_client().conferences(conference_sid).update(status="completed")
    except (TwilioException, RequestException) as error:
        log.warning("call %s: could not end the conference after a transfer (%s)", call.id, describe(error))
    now = utcnow()
    note = (note or "").strip()[:MAX_TRANSFER_NOTE]
    step(call, agent, "call_transfer", "queue", address, {"kind": "queue", "note": bool(note)})
    call.transfer_note = note or None
    call.transfers = (call.transfers or 0) + 1
    rows_back_to_queue(call, now)
    release_agent(agent, now)
    db.session.commit()
    return Control.done


def transfer_to(call: Call, agent: User, *, target: User | None = None, label: str | None = None, address=None):
    """Cold transfer to a named agent (rung into the conference as the call's agent) or to an
    outside number from TRANSFER_NUMBERS (dialled in as a participant): the caller holds
    until they answer, the agent leaves at once. Nobody answering sends the caller back to
    the queue (`transfer_leg_status`, `agent_leg_status`). Twilio refusing any step undoes
    the steps before it: the call is as it was and the agent is told.
    """
    from domain.calls.agent import ring_context  # domain.calls.agent imports nothing of this module

    if not in_conference(call, agent):
        return Control.not_live
    if open_consult(call) is not None:
        return Control.busy
    if target is not None:
        if target.id == agent.id or not target.active or target.presence != Presence.available:
            return Control.unavailable
        context = ring_context(call.caller, current_app.config["DEFAULT_PHONE_REGION"], call=call)
        to = participant_address(target, context)
        callback: dict[str, Any] = {"agent": target.id, "transfer": 1}
        participant_label = AGENT_LABEL
    else:
        number = transfer_numbers().get(label or "")
        if number is None:
            return Control.unavailable
        to, callback, participant_label = number, {"transfer": 1}, "transfer"
    hold = CallerHold(call)
    created = None
    agent_flag_changed = False
    try:
        hold.start()
        created = ring_in(
            call,
            "adding the transfer target",
            to=to,
            label=participant_label,
            timeout=CONSULT_RING_TIMEOUT_S,
            leg_args=callback,
            early_media=True,
            beep="false",
            start_conference_on_enter=True,
            end_conference_on_exit=True,
            **(recording_options(call) if target is not None else {}),  # the new agent's part
        )
        twilio_request(
            "handing over", call, lambda: participant(call, call.agent_leg_sid).update(end_conference_on_exit=False)
        )
        agent_flag_changed = True
        twilio_request("the agent leaving", call, lambda: participant(call, call.agent_leg_sid).delete())
    except TwilioFailed:
        db.session.rollback()
        undo_transfer(call, created.call_sid if created else None, agent_flag_changed)
        hold.undo()
        return Control.failed
    now = utcnow()
    what = f"user:{target.id}" if target is not None else f"number:{label}"
    detail = {"kind": "cold", "target": target.id} if target is not None else {"kind": "number", "label": label}
    step(call, agent, "call_transfer", what, address, detail)
    call.transfers = (call.transfers or 0) + 1
    call.agent_muted = False
    hold.keep(now)
    if target is not None:  # the call is the colleague's from now on; their phone is ringing
        call.agent_id = target.id
        call.agent_leg_sid = created.call_sid
        call.taken_at = now
        set_presence(target, Presence.on_call, now)
        release_agent(agent, now)
    else:  # the agent's part is over: they wrap the call up
        db.session.add(
            CallLeg(
                call_id=call.id,
                call_sid=created.call_sid,
                role=LegRole.transfer,
                added_by_id=agent.id,
                detail=(label or "")[:64],
            )
        )
        from domain.calls.agent import agent_leg_ended

        agent_leg_ended(call, agent, now)
    db.session.commit()
    return Control.done


def undo_transfer(call: Call, created_sid: str | None, agent_flag_changed: bool) -> None:
    """Put back what a refused transfer changed at Twilio, as far as Twilio lets us (the
    caller's hold aside: `CallerHold.undo`)."""
    undo = []
    if created_sid:
        undo.append(("removing the transfer target", lambda: participant(call, created_sid).delete()))
    if agent_flag_changed:
        undo.append(
            (
                "undoing a hand-over step",
                lambda: participant(call, call.agent_leg_sid).update(end_conference_on_exit=True),
            )
        )
    for what, request in undo:
        try:
            request()
        except (TwilioException, RequestException) as error:
            log.warning("call %s: %s failed (%s)", call.id, what, describe(error))


def transfer_answered(call: Call) -> str:
    """The transfer target answered: the held caller is put through to them."""
    if call.held_at is None and call.agent_ended_at is None:
        return "transfer_answered"
    try:
        twilio_request("resume", call, lambda: participant(call, call.sid).update(hold=False))
    except TwilioFailed:
        return "transfer_answered:held"
    end_hold(call)
    return "transfer_answered"


def requeue_caller(call: Call, now: datetime) -> str:
    """Nobody took the transferred caller, and the agent has left: back to the queue."""
    url = public_url(url_for("ivr.agent_requeue", call=call.id, s=len(call.events)))
    try:
        twilio_request("requeue", call, lambda: twilio_client().calls(call.sid).update(url=url, method="POST"))
    except TwilioFailed:
        return "stuck"
    if call.agent is not None:  # the agent who transferred it, wrapping up: their part is gone
        release_agent(call.agent, now)
    rows_back_to_queue(call, now)
    return "requeued"


def transfer_leg_status(call: Call, leg: CallLeg, status: str) -> str:
    """The outside number a call was transferred to answered, hung up or never answered."""
    now = utcnow()
    if status == "in-progress" and leg.answered_at is None and leg.ended_at is None:
        leg.answered_at = now
        return transfer_answered(call)
    if status not in NOT_ANSWERED and status != "completed":
        return "transfer_" + status[:20]
    answered = leg.answered_at is not None
    close_leg(leg, status, now)
    if answered or call.ended_at is not None:
        return "transfer_ended"
    return "transfer_missed:" + requeue_caller(call, now)


# --- an outside number consulted (warm transfer to another office), and tones sent to it ----

# An outside number consulted is a consult leg without a user; its label is CallLeg.detail.
OUTSIDE_CONSULT_LABEL = "consult-number"
# How it is in the conference: it may start it and never ends it (the caller and the agent
# do); `send_tones` puts it back in the same way.
OUTSIDE_CONSULT_FLAGS: dict[str, Any] = {"start_conference_on_enter": True, "end_conference_on_exit": False}
TONE_KEYS = frozenset("0123456789*#w")  # what <Play digits> plays: w waits half a second
MAX_TONE_KEYS = 32
TONES_LEAD_IN = "w"  # the party has just left the conference: a moment before the first tone


class TonesTwiml(Protocol):
    """ivr/twiml.py's `tones_then_conference` (the domain does not import the IVR)."""

    def __call__(
        self,
        digits: str,
        *,
        name: str,
        label: str | None,
        start_conference_on_enter: bool,
        end_conference_on_exit: bool,
    ) -> object: ...


def is_outside(leg: CallLeg | None) -> bool:
    return leg is not None and leg.role == LegRole.consult and leg.user_id is None


def leg_party(leg: CallLeg) -> str:
    """Who a consult leg rang, for the timeline: `user:ID` or `number:LABEL`."""
    return f"number:{leg.detail}" if is_outside(leg) else f"user:{leg.user_id}"


def outside_consult(call: Call) -> CallLeg | None:
    """The outside number the call's agent is consulting now, if that is whom they consult."""
    leg = open_consult(call)
    return leg if is_outside(leg) else None


def consult_number(call: Call, agent: User, label: str | None, *, address: str | None = None) -> Control:
    """Warm transfer to another office: the caller holds while an outside number from
    TRANSFER_NUMBERS rings into the conference and the agent talks to whoever answers (tones
    reach an extension: `send_tones`); then, as with a colleague, `join_all`, `hand_over`
    or `cancel_consult`. Not answering brings the caller back (`consult_leg_status`)."""
    if not in_conference(call, agent):
        return Control.not_live
    if open_consult(call) is not None:
        return Control.busy
    number = transfer_numbers().get(label or "")
    if label is None or number is None:
        return Control.unavailable
    hold = CallerHold(call)
    try:
        hold.start()
        created = ring_in(
            call,
            "adding an outside number to consult",
            to=number,
            label=OUTSIDE_CONSULT_LABEL,
            timeout=CONSULT_RING_TIMEOUT_S,
            leg_args={"consult": "number"},
            early_media=True,
            beep="onEnter",
            **OUTSIDE_CONSULT_FLAGS,
        )
    except TwilioFailed:
        db.session.rollback()
        hold.undo()
        return Control.failed
    hold.keep()
    db.session.add(
        CallLeg(
            call_id=call.id, call_sid=created.call_sid, role=LegRole.consult, added_by_id=agent.id, detail=label[:64]
        )
    )
    call.consults = (call.consults or 0) + 1
    step(call, agent, "call_consult", f"number:{label}", address, {"kind": "number", "label": label})
    db.session.commit()
    return Control.done


def handed_to_number(call: Call, agent: User, leg: CallLeg, now: datetime, address: str | None) -> None:
    """`hand_over` to an outside number: its leg ends the conference from now on; the agent,
    gone, wraps the call up (as after a cold transfer to a number). Leaves the commit."""
    from domain.calls.agent import agent_leg_ended

    step(call, agent, "call_transfer", leg_party(leg), address, {"kind": "warm_number", "label": leg.detail})
    call.agent_muted = False
    call.transfers = (call.transfers or 0) + 1
    close_leg(leg, "handed_over", now)
    agent_leg_ended(call, agent, now)


def tones_of(text: str | None) -> str | None:
    """The keys typed, when they are tones to send: only 0-9 * # and w (a half-second wait),
    at least one tone, at most MAX_TONE_KEYS keys. None otherwise: nothing is guessed."""
    keys = (text or "").strip()
    if not 0 < len(keys) <= MAX_TONE_KEYS or not set(keys) <= TONE_KEYS or set(keys) == {"w"}:
        return None
    return keys


def tone_count(keys: str) -> int:
    return sum(1 for key in keys if key != "w")


def send_tones(call: Call, agent: User, keys: str | None, build: TonesTwiml, *, address: str | None = None) -> Control:
    """Tones (DTMF) to the outside number the agent consults, e.g. an extension for another
    office's phone menu. The caller does not hear them.

    Twilio cannot send tones to a conference participant; the party's own call is given
    TwiML (`build`: ivr/twiml.py) that plays them, then dials it back into the same
    conference as it was. A refusal leaves the party where they were. The timeline and the
    audit log keep how many tones were sent, never which: they may be a PIN.
    """
    tones = tones_of(keys)
    if tones is None:
        return Control.invalid
    if not in_conference(call, agent):
        return Control.not_live
    leg = outside_consult(call)
    if leg is None or leg.answered_at is None:
        return Control.no_consult
    twiml = str(
        build(TONES_LEAD_IN + tones, name=conference_name(call), label=OUTSIDE_CONSULT_LABEL, **OUTSIDE_CONSULT_FLAGS)
    )
    sid = leg.call_sid
    try:
        twilio_request("sending tones", call, lambda: twilio_client().calls(sid).update(twiml=twiml))
    except TwilioFailed:
        db.session.rollback()
        return Control.failed
    count = tone_count(tones)
    step(call, agent, "call_tones", f"tones:{count}", address, {"tones": count, "label": leg.detail})
    db.session.commit()
    return Control.done


# --- supervisors: monitor, whisper, barge --------------------------------------------------


class Supervise(str, enum.Enum):
    """How a supervisor is on an agent's call (CallLeg.detail of a supervisor leg)."""

    monitor = "monitor"  # listens, muted: nobody hears them
    whisper = "whisper"  # coaching: only the agent hears them
    barge = "barge"  # everyone hears them


SUPERVISOR_RING_TIMEOUT_S = 25


def supervise_options(call: Call, mode: Supervise) -> dict[str, Any]:
    """The participant's muted/coaching for a mode (create and update take the same names)."""
    if mode is Supervise.whisper:
        return {"muted": False, "coaching": True, "call_sid_to_coach": call.agent_leg_sid}
    return {"muted": mode is Supervise.monitor, "coaching": False}


def live_calls_of(agents: list[User] | None) -> dict[int, Call]:
    """{agent id: the call they are on in a conference now}, for the agents that are (one query);
    `None`: every agent on such a call (the wallboard's list)."""
    if agents is not None and not agents:
        return {}
    query = select(Call).where(
        Call.conference_sid.is_not(None),
        Call.agent_leg_sid.is_not(None),
        Call.answered_at.is_not(None),
        Call.ended_at.is_(None),
        Call.agent_ended_at.is_(None),
    )
    if agents is not None:
        query = query.where(Call.agent_id.in_([agent.id for agent in agents]))
    calls = db.session.scalars(query.order_by(Call.id))
    return {call.agent_id: call for call in calls if call.agent_id is not None}  # the newest wins


def agent_live_call(agent: User) -> Call | None:
    """The call the agent is on in a conference now, if any (what a supervisor can join)."""
    return live_calls_of([agent]).get(agent.id)


def heard_supervision(call: Call) -> Supervise | None:
    """How the call's agent hears a supervisor now: barge (everyone does), whisper (only the
    agent), or None. A supervisor listening in, or whose phone has not answered yet, is not
    heard, so the agent is not told of them."""
    modes = set(
        db.session.scalars(
            select(CallLeg.detail).where(
                CallLeg.call_id == call.id,
                CallLeg.role == LegRole.supervisor,
                CallLeg.answered_at.is_not(None),
                CallLeg.ended_at.is_(None),
            )
        )
    )
    return next((mode for mode in (Supervise.barge, Supervise.whisper) if mode.value in modes), None)


def open_supervisions(supervisor: User, calls: list[Call]) -> dict[int, CallLeg]:
    """{call id: the supervisor's leg still on it} for these calls (one query)."""
    if not calls:
        return {}
    legs = db.session.scalars(
        select(CallLeg).where(
            CallLeg.role == LegRole.supervisor,
            CallLeg.user_id == supervisor.id,
            CallLeg.ended_at.is_(None),
            CallLeg.call_id.in_([call.id for call in calls]),
        )
    )
    return {leg.call_id: leg for leg in legs}


def open_supervision(supervisor: User, call: Call | None = None) -> CallLeg | None:
    """The supervisor's leg still on a call (this one, or any)."""
    query = select(CallLeg).where(
        CallLeg.role == LegRole.supervisor, CallLeg.user_id == supervisor.id, CallLeg.ended_at.is_(None)
    )
    if call is not None:
        query = query.where(CallLeg.call_id == call.id)
    return db.session.scalar(query.order_by(CallLeg.id.desc()).limit(1))


def supervise(call: Call, supervisor: User, mode: Supervise, *, address: str | None = None) -> Control:
    """A supervisor joins the agent's call (their own endpoint rung in by REST) or, already
    on it, changes how: monitor (muted), whisper (coaching the agent) or barge (heard by all).

    Their leg never starts or ends the conference. Twilio refusing leaves everything as it was.
    """
    if call.agent is None or not in_conference(call, call.agent) or call.agent_id == supervisor.id:
        return Control.not_live
    leg = open_supervision(supervisor, call)
    if leg is not None and leg.detail == mode.value:
        return Control.unchanged
    if leg is None and open_supervision(supervisor) is not None:
        return Control.busy  # on another call already: leave it first
    if leg is None and not (supervisor.active and dialled_endpoint(supervisor)):
        return Control.unavailable
    options = supervise_options(call, mode)
    try:
        if leg is not None:
            sid = leg.call_sid
            twilio_request("supervisor mode", call, lambda: participant(call, sid).update(**options))
        else:
            created = ring_in(
                call,
                "adding a supervisor",
                to=participant_address(supervisor, {"kind": "supervise", "callId": str(call.id)}),
                label=f"supervisor-{supervisor.id}",
                timeout=SUPERVISOR_RING_TIMEOUT_S,
                leg_args={"supervise": supervisor.id},
                beep="false",
                start_conference_on_enter=False,
                end_conference_on_exit=False,
                **options,
            )
    except TwilioFailed:
        db.session.rollback()
        return Control.failed
    if leg is None:
        leg = CallLeg(
            call_id=call.id,
            call_sid=created.call_sid,
            role=LegRole.supervisor,
            user_id=supervisor.id,
            added_by_id=supervisor.id,
        )
        db.session.add(leg)
    leg.detail = mode.value
    detail = {"mode": mode.value, "agent": call.agent_id}
    step(call, supervisor, f"call_{mode.value}", f"supervisor:{supervisor.id}", address, detail)
    db.session.commit()
    return Control.done


def stop_supervising(call: Call, supervisor: User, *, address: str | None = None) -> Control:
    """The supervisor leaves the call: their participant is removed; the call goes on."""
    leg = open_supervision(supervisor, call)
    if leg is None:
        return Control.not_live
    sid = leg.call_sid
    try:
        twilio_request("removing a supervisor", call, lambda: participant(call, sid).delete())
    except TwilioFailed as error:
        if not error.reason.startswith("HTTP 404"):
            db.session.rollback()
            return Control.failed
        # Twilio no longer has the participant (hung up, or the call ended): the row catches up.
    close_leg(leg, "removed")
    step(call, supervisor, "call_supervise_leave", f"supervisor:{supervisor.id}", address, {"mode": leg.detail})
    db.session.commit()
    return Control.done


def supervisor_leg_status(call: Call, leg: CallLeg, status: str) -> str:
    """A supervisor's phone answered, hung up or never answered. Leaves the commit to the webhook."""
    if status == "in-progress" and leg.answered_at is None and leg.ended_at is None:
        leg.answered_at = utcnow()
        return "supervisor_answered"
    if status not in NOT_ANSWERED and status != "completed":
        return "supervisor_" + status[:20]
    if leg.ended_at is not None:
        return "supervisor_closed"
    answered = leg.answered_at is not None
    close_leg(leg, status)
    return f"supervisor_{'ended' if answered else 'missed'}"
