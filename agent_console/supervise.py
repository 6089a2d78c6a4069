"""Supervisors on an agent's call, from the Agents page: monitor (listen, muted), whisper (only
the agent hears) and barge (everyone hears), then leave. The supervisor's own phone (their
endpoint, rung as agents are) joins the call's conference; domain/calls/conference.py does it.

Plain forms (no JavaScript needed); the answer says in the supervisor's language what came of it.
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from agent_console import bp
from agent_console.access import client_address, supervisor_required
from agent_console.forms import ActionForm
from agent_console.labels import STEP_LABELS
from domain.calls import conference
from domain.calls.conference import Control, Supervise
from extensions import db
from models import Call, User

STEP_LABELS.update(
    {
        "call_monitor": _l("Supervisor listening in"),
        "call_whisper": _l("Supervisor whispering to the agent"),
        "call_barge": _l("Supervisor joined the call"),
        "call_supervise_leave": _l("Supervisor left the call"),
    }
)

MODES = {
    "monitor": _l("Listen"),
    "whisper": _l("Whisper"),
    "barge": _l("Barge in"),
}

DONE = {
    "monitor": _l("Your phone is joining the call. You listen; nobody hears you."),
    "whisper": _l("Only the agent hears you now."),
    "barge": _l("The caller and the agent both hear you now."),
    "leave": _l("You have left the call."),
}

REFUSED = {
    Control.not_live: (409, _l("This agent is not on a call you can join now.")),
    Control.unchanged: (200, _l("Nothing to change: it is already so.")),
    Control.busy: (409, _l("You are already on another call. Leave it first.")),
    Control.unavailable: (409, _l("Your account has no phone to ring. Ask an administrator to set one.")),
    Control.failed: (
        502,
        _l("The telephone service did not answer. Nothing has changed on the call; please try again."),
    ),
}


def supervision(users: list[User]) -> dict[int, dict]:
    """For the Agents page: each agent's live conference call and how this supervisor is on it
    (two queries, whatever the number of agents)."""
    others = [user for user in users if user.id != current_user.id]
    calls = conference.live_calls_of(others)
    legs = conference.open_supervisions(current_user, list(calls.values()))
    return {
        agent_id: {"call": call, "mode": legs[call.id].detail if call.id in legs else None}
        for agent_id, call in calls.items()
    }


def wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


@bp.post("/agents/<int:user_id>/supervise")
@supervisor_required
def agent_supervise(user_id: int):
    """Form fields: `mode` (monitor, whisper, barge or leave) and `call` (the call shown)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    agent = db.session.get(User, user_id)
    if agent is None:
        abort(404)
    mode = request.form.get("mode", "")
    if mode not in (*MODES, "leave"):
        return answer(Control.not_live, mode)
    supervisor, address = current_user._get_current_object(), client_address()
    if mode == "leave":
        leg = conference.open_supervision(supervisor)
        call = db.session.get(Call, leg.call_id) if leg is not None else None
        result = conference.stop_supervising(call, supervisor, address=address) if call else Control.not_live
    else:
        call = conference.agent_live_call(agent)
        result = (
            Control.not_live
            if call is None
            else conference.supervise(call, supervisor, Supervise(mode), address=address)
        )
    return answer(result, mode)


def answer(result: Control, mode: str):
    if result is Control.done:
        status, message, ok = 200, str(DONE[mode]), True
    else:
        status, label = REFUSED[result]
        message, ok = str(label), result is Control.unchanged
    if wants_json():
        return jsonify(ok=ok, reason=result.value, message=message), status
    flash(message, "success" if ok else "error")
    return redirect(url_for("console.agents"), code=303)


@bp.app_context_processor
def supervise_helpers():
    return {"supervision_of": supervision, "supervise_modes": MODES}
