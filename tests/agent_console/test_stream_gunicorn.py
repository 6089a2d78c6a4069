"""Do many open console streams and the IVR share gunicorn's gevent workers, across workers?

The production command serves the app with `-k gevent`: each open stream is a greenlet, not
a worker, so a shift of agents with the queue open does not starve Twilio's webhooks. The
event reaches streams held by every worker through Redis.
"""

from __future__ import annotations

import re
import threading
import uuid
from urllib.parse import urljoin

import pytest
import redis
import requests

from tests.support.console import PASSWORD, make_user
from tests.support.services import REDIS_URL, RUN_PREFIX
from tests.support.webhooks import sign

TOKEN = "gunicorn-console-token"
STREAMS = 40
pytestmark = pytest.mark.gunicorn


@pytest.fixture
def gevent_server(database_url, gunicorn):
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not answering at {REDIS_URL}; the suite needs a real Redis")
    server = gunicorn(
        {
            "DATABASE_URL": database_url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "AGENT_HOURS": "00:00-24:00",
            "REDIS_URL": REDIS_URL,
            "SESSION_COOKIE_SECURE": "0",
            "SSE_KEEPALIVE_S": "1",
            # this test's own channel and limits on the shared Redis
            "LIVE_CHANNEL": f"hotline:live:{RUN_PREFIX}{uuid.uuid4().hex}",
            "RATELIMIT_KEY_PREFIX": f"{RUN_PREFIX}{uuid.uuid4().hex}",
        },
        worker_class="gevent",
        worker_connections=500,
    )
    return server.base


def logged_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/console/login", timeout=5).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = session.post(
        base + "/console/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:300]
    return session


def post(base: str, url: str, sid: str, **params) -> str:
    form = {"CallSid": sid, "From": "+9647501234567", "To": "+9645599", **params}
    full = urljoin(base + "/ivr/voice", url)
    answer = requests.post(full, data=form, headers={"X-Twilio-Signature": sign(full, form, TOKEN)}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.text


class Listener(threading.Thread):
    """One agent's browser: holds /console/stream open and notes each queue event's call count."""

    def __init__(self, session: requests.Session, base: str):
        super().__init__(daemon=True)
        self.session, self.base = session, base
        self.connected = threading.Event()
        self.saw_caller = threading.Event()

    def run(self) -> None:
        with self.session.get(self.base + "/console/stream", stream=True, timeout=30) as response:
            assert response.status_code == 200
            for line in response.iter_lines(decode_unicode=True):
                if line.startswith("data: ") and '"type": "queue"' in line:
                    self.connected.set()
                    if '"waiting": 1' in line:
                        self.saw_caller.set()
                        return


def test_many_streams_and_a_call_through_gevent_workers(gevent_server, app_context):
    make_user("amira")
    session = logged_in(gevent_server, "amira")
    listeners = [Listener(session, gevent_server) for _ in range(STREAMS)]
    for listener in listeners:
        listener.start()
    assert all(listener.connected.wait(20) for listener in listeners), "not every stream opened"

    # With every stream open, a whole call still goes through to the queue.
    sid = "CA" + "7" * 32
    xml = post(gevent_server, "/ivr/voice", sid)
    xml = post(gevent_server, re.search(r'action="([^"]+)"', xml).group(1).replace("&amp;", "&"), sid, Digits="3")
    xml = post(gevent_server, re.search(r'action="([^"]+)"', xml).group(1).replace("&amp;", "&"), sid, Digits="0")
    assert "<Enqueue" in xml

    missed = [listener for listener in listeners if not listener.saw_caller.wait(10)]
    assert not missed, f"{len(missed)} of {STREAMS} streams did not get the caller"
    assert session.get(gevent_server + "/console/queue.json", timeout=5).json()["waiting"] == 1
