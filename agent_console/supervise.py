"""Supervisors on an agent's call, from the Agents page or the wallboard: monitor (listen,
muted), whisper (only the agent hears) and barge (everyone hears), then leave. The supervisor's
own phone (their endpoint, rung as agents are) joins the call's conference;
domain/calls/conference.py does it.

Plain forms (no JavaScript needed), the same on both pages (templates/console/_supervise.html);
the wallboard posts them with fetch and reads its list again as the board refreshes. The
answer says in the supervisor's language what came of it.
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from agent_console import bp
from agent_console.access import client_address, supervisor_required
from agent_console.forms import ActionForm
from agent_console.labels import STEP_LABELS
from domain.calls import conference
from domain.calls.conference import Control, Supervise
from domain.live import publish_call_changed
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


def modes_on(calls: dict[int, Call]) -> dict[int, dict]:
    """{agent id: their live call and how this supervisor is on it (None: not)} (one query)."""
    legs = conference.open_supervisions(current_user, list(calls.values()))
    return {
        agent_id: {"call": call, "mode": legs[call.id].detail if call.id in legs else None}
        for agent_id, call in calls.items()
    }


def supervision(users: list[User]) -> dict[int, dict]:
    """For the Agents page: each agent's live conference call and how this supervisor is on it
    (two queries, whatever the number of agents)."""
    return modes_on(conference.live_calls_of([user for user in users if user.id != current_user.id]))


def agents_on_calls() -> list[tuple[User, dict]]:
    """For the wallboard: every other agent on a live conference call, by name, with the call
    and how this supervisor is on it (three queries)."""
    calls = {agent_id: call for agent_id, call in conference.live_calls_of(None).items() if agent_id != current_user.id}
    if not calls:
        return []
    on_calls = modes_on(calls)
    agents = db.session.scalars(select(User).where(User.id.in_(list(calls))).order_by(User.display_name, User.id))
    return [(agent, on_calls[agent.id]) for agent in agents]


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
    if result is Control.done and call is not None:
        publish_call_changed(call.id)  # the agent's call screen says whether a supervisor is heard
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
    back = "console.wallboard" if request.form.get("back") == "wallboard" else "console.agents"
    return redirect(url_for(back), code=303)


@bp.get("/wallboard/supervise")
@supervisor_required
def wallboard_supervise():
    """The wallboard's list of agents on a call with the supervise controls, for wallboard_supervise.js."""
    response = render_template("console/_wallboard_supervise.html", on_calls=agents_on_calls())
    return response, 200, {"Cache-Control": "no-store"}


@bp.app_context_processor
def supervise_helpers():
    return {"supervision_of": supervision, "supervise_modes": MODES}
