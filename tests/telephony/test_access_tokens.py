"""Access tokens for the browser phone, made without an app: the grant, the identity, the lifetime."""

from __future__ import annotations

import jwt

from telephony.access_tokens import MAX_TTL_S, voice_access_token, voice_tokens_configured

SECRET = "s" * 32


def claims(**options) -> dict:
    token = voice_access_token(
        account_sid="AC" + "1" * 32,
        api_key_sid="SK" + "2" * 32,
        api_key_secret=SECRET,
        identity=options.pop("identity", "amira"),
        **options,
    )
    return jwt.decode(token, SECRET, algorithms=["HS256"])


def test_a_token_lets_the_identity_receive_calls_and_nothing_more():
    found = claims(ttl_s=3600)
    assert found["grants"] == {"identity": "amira", "voice": {"incoming": {"allow": True}}}
    assert found["iss"] == "SK" + "2" * 32 and found["sub"] == "AC" + "1" * 32
    assert found["exp"] - found["nbf"] == 3600


def test_a_twiml_app_adds_outgoing_calls():
    voice = claims(ttl_s=600, outgoing_application_sid="AP" + "3" * 32)["grants"]["voice"]
    assert voice["outgoing"] == {"application_sid": "AP" + "3" * 32}


def test_the_lifetime_is_kept_within_what_twilio_accepts():
    found = claims(ttl_s=10 * 24 * 3600)
    assert found["exp"] - found["nbf"] == MAX_TTL_S
    found = claims(ttl_s=0)
    assert found["exp"] - found["nbf"] == 60


def test_configured_needs_the_account_and_both_halves_of_the_key():
    full = {"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_API_KEY_SID": "SK1", "TWILIO_API_KEY_SECRET": "x"}
    assert voice_tokens_configured(full)
    for name in full:
        assert not voice_tokens_configured({**full, name: ""})
    assert voice_tokens_configured({**full, "TWILIO_TWIML_APP_SID": ""})  # optional
