"""Access tokens for the agents' browser phones (Twilio Voice JS SDK), signed with an API key."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

# Twilio refuses access tokens that live longer than a day; a minute is the least useful.
MAX_TTL_S = 24 * 3600
MIN_TTL_S = 60
REQUIRED_SETTINGS = ("TWILIO_ACCOUNT_SID", "TWILIO_API_KEY_SID", "TWILIO_API_KEY_SECRET")


def voice_tokens_configured(config: Mapping) -> bool:
    """Whether the settings needed to sign a token are all there (the TwiML app is optional)."""
    return all(config.get(name) for name in REQUIRED_SETTINGS)


def voice_access_token(
    *,
    account_sid: str,
    api_key_sid: str,
    api_key_secret: str,
    identity: str,
    ttl_s: int,
    outgoing_application_sid: str = "",
) -> str:
    """A JWT that lets a browser register as `identity` and receive calls to <Client>identity.

    Outgoing calls from the browser are only granted when a TwiML app is given.
    """
    token = AccessToken(
        account_sid, api_key_sid, api_key_secret, identity=identity, ttl=max(MIN_TTL_S, min(ttl_s, MAX_TTL_S))
    )
    token.add_grant(VoiceGrant(incoming_allow=True, outgoing_application_sid=outgoing_application_sid or None))
    return token.to_jwt()


def token_for(config: Mapping, identity: str) -> str:
    """voice_access_token with the app's settings."""
    return voice_access_token(
        account_sid=config["TWILIO_ACCOUNT_SID"],
        api_key_sid=config["TWILIO_API_KEY_SID"],
        api_key_secret=config["TWILIO_API_KEY_SECRET"],
        identity=identity,
        ttl_s=config["VOICE_TOKEN_TTL_S"],
        outgoing_application_sid=config.get("TWILIO_TWIML_APP_SID", ""),
    )
