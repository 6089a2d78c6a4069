"""The agent's queue page: waiting calls, presence, and the call in hand."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from agent_console import bp
from agent_console.access import agent_required
from agent_console.forms import PresenceForm


@bp.get("/")
@agent_required
def home():
    form = PresenceForm(presence=current_user.presence.value)
    return render_template("console/home.html", presence_form=form)
