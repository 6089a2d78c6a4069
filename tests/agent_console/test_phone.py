"""The browser phone on the console's pages, and the vendored Twilio Voice SDK it runs on."""

from __future__ import annotations

import hashlib
import json
import re
from html import unescape
from pathlib import Path

import pytest

from agent_console.phone import VOICE_SDK_VERSION
from models import EndpointKind, Role
from tests.support.console import agent_client

VENDOR = Path(__file__).resolve().parents[2] / "agent_console" / "static" / "vendor"
SDK_FILE = VENDOR / f"twilio-voice-{VOICE_SDK_VERSION}.min.js"


# --- the phone on the pages ------------------------------------------------------------------


def page_of(client, path: str = "/console/") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def script_sources(html: str) -> list[str]:
    return re.findall(r'<script src="([^"]+)"', html)


@pytest.mark.parametrize("path", ["/console/", "/console/search", "/console/callbacks"])
def test_a_browser_agent_has_the_phone_and_its_sdk_on_every_page(app, app_context, voice_key, path):
    html = page_of(agent_client(app, "amira"), path)
    assert 'id="phone"' in html and 'data-state="connecting"' in html
    assert 'data-token-url="/console/phone/token"' in html
    sources = script_sources(html)
    sdk = f"/console/static/vendor/twilio-voice-{VOICE_SDK_VERSION}.min.js"
    assert sdk in sources and "/console/static/phone.js" in sources
    assert sources.index(sdk) < sources.index("/console/static/phone.js")  # the SDK runs first


def test_a_sip_agent_has_no_browser_phone(app, app_context, voice_key):
    html = page_of(agent_client(app, "amira", endpoint_kind=EndpointKind.sip, endpoint="sip:amira@pbx.example.org"))
    assert 'id="phone"' not in html
    assert not [src for src in script_sources(html) if "twilio-voice" in src or "phone.js" in src]


def test_without_the_key_the_page_says_the_phone_is_not_configured_and_loads_no_sdk(app, app_context):
    html = page_of(agent_client(app, "amira"))
    assert 'data-state="not_configured"' in html
    assert "Browser phone not configured" in html
    assert "TWILIO_API_KEY_SID" not in html  # the administrator is told, on the Agents page: not every agent
    assert not [src for src in script_sources(html) if "twilio-voice" in src or "phone.js" in src]


def test_the_phones_words_reach_the_script_in_the_agents_language(app, app_context, voice_key):
    html = page_of(agent_client(app, "amira"))
    found = re.search(r"data-strings='([^']+)'", html)
    assert found, "phone.js gets its words from data-strings"
    strings = json.loads(unescape(found.group(1)))
    assert strings["ready"] == "Ready for calls" and "{caller}" in strings["call_from"]
    assert {"connecting", "ringing", "on_call", "error", "mic_denied", "unreachable"} <= strings.keys()


# --- the vendored SDK ------------------------------------------------------------------------------


def test_the_voice_sdk_is_vendored_with_its_licence_and_where_it_came_from():
    assert SDK_FILE.is_file(), f"missing {SDK_FILE.name}: run scripts/update-voice-sdk {VOICE_SDK_VERSION}"
    code = SDK_FILE.read_bytes()
    assert 100_000 < len(code) < 2_000_000  # the browser build is a few hundred KB
    assert b"Twilio.Device=Twilio.Device||" in code  # the UMD build that defines window.Twilio.Device
    assert f'"{VOICE_SDK_VERSION}"'.encode() in code
    assert "Apache License" in (VENDOR / "twilio-voice-LICENSE.md").read_text()
    readme = (VENDOR / "README.md").read_text()
    assert f"@twilio/voice-sdk@{VOICE_SDK_VERSION}" in readme and "scripts/update-voice-sdk" in readme
    assert hashlib.sha256(code).hexdigest() in readme  # the file is the one the README describes
    assert [p.name for p in VENDOR.glob("twilio-voice-*.min.js")] == [SDK_FILE.name]


def test_the_sdk_is_served_by_the_app_itself(app, client):
    response = client.get(f"/console/static/vendor/{SDK_FILE.name}")
    assert response.status_code == 200 and len(response.data) == SDK_FILE.stat().st_size
    response.close()


def test_the_administrator_is_told_once_on_the_agents_page_what_to_set(app, app_context):
    agent_client(app, "amira")
    agent_client(app, "bilal")
    admin = agent_client(app, "adam", role=Role.admin)
    html = admin.get("/console/agents").get_data(as_text=True)
    assert 'id="phone-setup-warning"' in html and "TWILIO_API_KEY_SID" in html
    assert "users&#39; calls are meant to ring in the browser" in html
    assert "TWILIO_API_KEY_SID" not in admin.get("/console/search").get_data(as_text=True)  # not every page
    supervisor = agent_client(app, "sami", role=Role.supervisor)
    assert 'id="phone-setup-warning"' not in supervisor.get("/console/agents").get_data(as_text=True)


def test_with_the_key_the_administrator_is_not_warned(app, app_context, voice_key):
    agent_client(app, "amira")
    admin = agent_client(app, "adam", role=Role.admin)
    assert 'id="phone-setup-warning"' not in admin.get("/console/agents").get_data(as_text=True)
