"""The agent's browser phone: its Twilio Voice access token, and what every page needs to show it.

Agents whose endpoint kind is "client" are dialled as <Client>identity</Client>; the console
registers a Twilio.Device under that identity so that the call rings in their browser.
"""

from __future__ import annotations

import logging

from flask import current_app, jsonify, url_for
from flask_babel import gettext as _
from flask_login import current_user

from agent_console import bp
from agent_console.access import agent_required
from domain.staff.users import dialled_endpoint
from models import EndpointKind, Role
from telephony.access_tokens import token_for, voice_tokens_configured

log = logging.getLogger(__name__)

VOICE_SDK_VERSION = "2.18.5"  # the file in static/vendor/; scripts/update-voice-sdk changes it


def rings_in_browser(user) -> bool:
    """Whether Twilio rings this user's calls in the console (endpoint kind "client")."""
    return user.is_authenticated and user.has_role(Role.agent) and user.endpoint_kind == EndpointKind.client


@bp.app_context_processor
def phone_helpers():
    def browser_phone() -> dict | None:
        """The top bar's phone for the logged-in user, or None when their calls ring elsewhere."""
        if not rings_in_browser(current_user):
            return None
        return {
            "configured": voice_tokens_configured(current_app.config),
            "token_url": url_for("console.phone_token"),
            "call_url": url_for("console.call", call_id=0),
            "sdk_url": url_for("console.static", filename=f"vendor/twilio-voice-{VOICE_SDK_VERSION}.min.js"),
            "script_url": url_for("console.static", filename="phone.js"),
        }

    return {"browser_phone": browser_phone}


def refused(status: int, reason: str, message: str):
    response = jsonify(ok=False, reason=reason, message=message)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/phone/token")
@agent_required
def phone_token():
    """A short-lived access token for the browser phone, for the identity Twilio dials."""
    if current_user.endpoint_kind != EndpointKind.client:
        return refused(
            409,
            "not_browser",
            _(
                "Your calls ring your SIP phone or telephone, not this browser. An administrator can "
                "change how you are reached."
            ),
        )
    if not voice_tokens_configured(current_app.config):
        return refused(
            503,
            "not_configured",
            _("The browser phone is not configured on the server (Twilio API key missing). Ask an administrator."),
        )
    identity = dialled_endpoint(current_user)
    token = token_for(current_app.config, identity)
    log.info("voice access token issued to user %s", current_user.id)  # never the token itself
    response = jsonify(ok=True, token=token, identity=identity, ttl_s=current_app.config["VOICE_TOKEN_TTL_S"])
    response.headers["Cache-Control"] = "no-store"
    return response
