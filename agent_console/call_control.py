"""Call control on the live call screen: hold, mute, consult a colleague or an outside number
(with a keypad for the tones its phone menu asks for) and hand the call over.

The buttons are plain forms (they work without JavaScript); call_control.js posts them with
fetch and swaps in the fresh controls, so the notes being typed stay. The actions are
domain/calls/conference.py's; this module says in the agent's language what came of them.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from agent_console import bp
from agent_console.access import agent_required, client_address
from agent_console.call_screen import RESULT_LABELS, visible_call
from agent_console.labels import STEP_LABELS
from domain.calls import conference
from domain.calls.conference import Control
from domain.calls.queue import publish_queue
from domain.db.ids import row_id
from domain.live import publish_agents_changed
from extensions import db
from ivr import twiml
from models import Call, User

# The timeline's names for the call-control steps (the call screen's own table, extended here
# so that the call screen needs no change of its own).
STEP_LABELS.update(
    {
        "call_hold": _l("Caller put on hold"),
        "call_resume": _l("Caller taken off hold"),
        "call_mute": _l("Agent muted"),
        "call_unmute": _l("Agent unmuted"),
        "call_consult": _l("Colleague called for a consultation"),
        "call_consult_end": _l("Consultation ended"),
        "call_join": _l("Caller joined the consultation"),
        "call_transfer": _l("Call transferred"),
        "call_tones": _l("Tones sent to the outside number"),
        "conference": _l("Conference event"),
        "conference_leg": _l("Colleague's or agent's line"),
        "agent_requeue": _l("Back to the queue (agent did not answer)"),
    }
)
RESULT_LABELS.update({"tones": _l("Tones")})  # "tones:4": how many were sent, never which

DONE = {
    "hold": _l("The caller is on hold and hears music."),
    "resume": _l("The caller is back with you."),
    "mute": _l("You are muted. The caller cannot hear you."),
    "unmute": _l("You are no longer muted."),
    "consult": _l("Calling your colleague. The caller is on hold."),
    "join": _l("The caller has joined you and your colleague."),
    "cancel": _l("The consultation has ended. The caller is back with you."),
    "hand_over": _l("The call is handed over to your colleague. You are available for the next caller."),
    "transfer_queue": _l("The caller is back in the queue with your note. You are available for the next caller."),
    "transfer_agent": _l("Your colleague's phone is ringing with the call. You are available for the next caller."),
    "transfer_number": _l("The number is being called and you have left the call. Please wrap it up."),
    "consult_number": _l("Calling the outside number. The caller is on hold."),
    "join_number": _l("The caller has joined you and the outside number."),
    "hand_over_number": _l("The call is handed over to the outside number and you have left it. Please wrap it up."),
    "tones": _l("The tones were sent. The caller does not hear them."),
}

REFUSED = {
    Control.not_live: (409, _l("This call is not connected to you, so it cannot be controlled from here.")),
    Control.unchanged: (200, _l("Nothing to change: it is already so.")),
    Control.busy: (409, _l("A consultation is already going on. End it first.")),
    Control.no_consult: (409, _l("Your colleague has not answered yet.")),
    Control.unavailable: (409, _l("This colleague is not available. Choose someone who is.")),
    Control.failed: (
        502,
        _l("The telephone service did not answer. Nothing has changed on the call; please try again."),
    ),
    Control.invalid: (
        400,
        _l(
            "Only the keys 0 to 9, * and # can be sent, and w for a half-second wait: at most %(count)s keys.",
            count=conference.MAX_TONE_KEYS,
        ),
    ),
}
# What a refusal means for some actions in particular.
REFUSED_FOR = {
    ("tones", Control.no_consult): (
        409,
        _l("Tones go only to an outside number you are consulting, once it has answered."),
    ),
    ("consult_number", Control.unavailable): (409, _l("This number is not on the list of outside numbers.")),
}

ACTIONS = ("hold", "resume", "mute", "unmute", "consult", "join", "cancel", "hand_over", "transfer", "tones")


def controls(call: Call) -> dict:
    """What the controls partial shows for this call and this user."""
    mine = conference.in_conference(call, current_user)
    consulting = conference.open_consult(call) if call.conference_sid else None
    outside = conference.is_outside(consulting)
    enabled = call.conference_sid is not None or call.agent_leg_sid is not None
    return {
        "enabled": enabled,
        # Taken a moment ago: the agent is being rung into the conference. The page looks
        # again until the controls can be shown (or the call ends).
        "pending": not enabled
        and conference.conferences_enabled()
        and call.agent_id == current_user.id
        and call.ended_at is None,
        "live": mine,
        "held": call.held_at is not None,
        "muted": call.agent_muted,
        "consulting": consulting,
        "outside": outside,
        # The keypad: tones go to an outside number consulted, once it has answered.
        "keypad": mine and outside and consulting is not None and consulting.answered_at is not None,
        "max_tones": conference.MAX_TONE_KEYS,
        "targets": conference.consult_targets(current_user) if mine and consulting is None else [],
        "numbers": list(conference.transfer_numbers()),
        "hold_s": conference.held_seconds(call),
        "transfers": call.transfers or 0,
        "consults": call.consults or 0,
    }


@bp.app_context_processor
def call_control_helpers():
    return {"call_controls": controls}


def wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def run(call: Call, action: str) -> Control:
    agent, address = current_user._get_current_object(), client_address()
    if action in ("hold", "resume"):
        return conference.set_hold(call, agent, action == "hold", address=address)
    if action in ("mute", "unmute"):
        return conference.set_mute(call, agent, action == "mute", address=address)
    if action == "consult" and consult_kind() == "consult_number":
        label = (request.form.get("target") or "").strip().partition(":")[2]
        return conference.consult_number(call, agent, label[:40], address=address)
    if action == "consult":
        target_id = row_id(request.form.get("target"))
        target = db.session.get(User, target_id) if target_id else None
        return conference.consult(call, agent, target, address=address)
    if action == "join":
        return conference.join_all(call, agent, address=address)
    if action == "cancel":
        return conference.cancel_consult(call, agent, address=address)
    if action == "hand_over":
        return conference.hand_over(call, agent, address=address)
    if action == "tones":
        return conference.send_tones(
            call, agent, request.form.get("digits"), twiml.tones_then_conference, address=address
        )
    return transfer(call, agent, address)


def consult_kind() -> str:
    """A consultation's target is a colleague's id or "number:LABEL" (an outside number)."""
    return "consult_number" if (request.form.get("target") or "").strip().startswith("number:") else "consult"


def transfer_kind(value: str) -> str:
    return value.partition(":")[0] if value.partition(":")[0] in ("agent", "number") else "queue"


def transfer(call: Call, agent: User, address: str | None) -> Control:
    """Cold transfer; the form's target is "queue", "agent:ID" or "number:LABEL"."""
    target = (request.form.get("target") or "").strip()
    kind, _, value = target.partition(":")
    if target == "queue":
        return conference.transfer_to_queue(call, agent, request.form.get("note", ""), address=address)
    if kind == "agent":
        user_id = row_id(value)
        user = db.session.get(User, user_id) if user_id else None
        if user is None:
            return Control.unavailable
        return conference.transfer_to(call, agent, target=user, address=address)
    if kind == "number":
        return conference.transfer_to(call, agent, label=value[:40], address=address)
    return Control.unavailable


@bp.post("/calls/<int:call_id>/control/<action>")
@agent_required
def call_control(call_id: int, action: str):
    if action not in ACTIONS:
        return jsonify(ok=False, message="unknown action"), 404
    call = visible_call(call_id)
    # Consulting an outside number, the words (and, handed over, the page after) differ.
    outside = conference.is_outside(conference.open_consult(call)) if call.conference_sid else False
    result = run(call, action)
    key = action
    if action == "transfer":
        key = f"transfer_{transfer_kind(request.form.get('target') or '')}"
    elif action == "consult":
        key = consult_kind()
    elif action in ("join", "hand_over") and outside:
        key = f"{action}_number"
    if result is Control.done:
        if action in ("consult", "hand_over", "cancel", "transfer"):
            publish_agents_changed()
        if action == "transfer":
            publish_queue()
        status, message, ok = 200, str(DONE[key]), True
    else:
        status, label = REFUSED_FOR.get((key, result)) or REFUSED[result]
        message, ok = str(label), result is Control.unchanged
    # After a hand-over the call is the colleague's: the agent goes back to the queue.
    handed_over = action in ("hand_over", "transfer") and result is Control.done
    if key in ("transfer_number", "hand_over_number"):
        handed_over = False  # the agent stays on the call's page to wrap it up
    target = url_for("console.home") if handed_over else url_for("console.call", call_id=call.id)
    if wants_json():
        return jsonify(ok=ok, reason=result.value, message=message, url=target), status
    flash(message, "success" if ok else "error")
    return redirect(target, code=303)


@bp.get("/calls/<int:call_id>/controls")
@agent_required
def call_controls_fragment(call_id: int):
    """The controls alone, for call_control.js to swap in after an action."""
    call = visible_call(call_id)
    response = render_template("console/_call_controls.html", call=call)
    return response, 200, {"Cache-Control": "no-store"}
