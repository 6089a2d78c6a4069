"""Does a whole call work against a real gunicorn, as Twilio would reach it over HTTP?"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urljoin

import pytest
import requests

from tests.support.gunicorn_server import Gunicorn
from tests.support.ivr import add_letter
from tests.support.webhooks import sign

TOKEN = "gunicorn-test-token"
pytestmark = pytest.mark.gunicorn


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    server = Gunicorn(
        {"DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": TOKEN, "AGENT_HOURS": "00:00-24:00"},
        log_dir=tmp_path_factory.mktemp("gunicorn"),
    )
    try:
        yield server.start().base
    finally:
        server.stop()


def post(base: str, url: str, sid: str, **params) -> ET.Element:
    form = {"CallSid": sid, "From": "+9647501234567", "To": "+9645599", **params}
    full = urljoin(base + "/ivr/voice", url)
    response = requests.post(full, data=form, headers={"X-Twilio-Signature": sign(full, form, TOKEN)}, timeout=10)
    assert response.status_code == 200, response.text
    return ET.fromstring(response.content)


def said(root: ET.Element) -> str:
    return " ".join(el.text or "" for el in root.iter("Say"))


@pytest.mark.parametrize(
    "language_key, expected",
    [
        ("1", "محال"),
        ("2", "محال"),
        ("3", "This letter has been forwarded."),
    ],
)
def test_a_whole_call_through_gunicorn(server, app_context, language_key, expected):
    add_letter()
    sid = f"CA{int(language_key):032d}"
    root = post(server, "/ivr/voice", sid)
    for digits in (language_key, "1", "1234", "1", "15032024", "1"):
        root = post(server, root.find("Gather").get("action"), sid, Digits=digits)
    assert expected in said(root)
    assert post(server, "/ivr/status", sid, CallStatus="completed", CallDuration="50").tag == "Response"


def test_gunicorn_refuses_unsigned_webhooks(server):
    assert requests.post(server + "/ivr/voice", data={"CallSid": "CA1"}, timeout=5).status_code == 403
