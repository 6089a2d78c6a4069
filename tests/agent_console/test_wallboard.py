"""The wallboard: each number counted as a supervisor would, and kept live from the queue's broker."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from domain.live import InProcessBroker
from domain.reporting.wallboard import wallboard_snapshot
from extensions import db
from models import Call, Presence, Role
from tests.support.console import agent_client, call_sid, console_client, csrf_token, enqueue_caller, log_in, make_user
from tests.support.webhooks import Twilio

NOW = datetime(2025, 3, 10, 9, 0, tzinfo=timezone.utc)


def a_call(n: int, started_min_ago: float, **fields) -> Call:
    call = Call(
        sid=call_sid(900 + n),
        caller="+9647501234567",
        language="ar",
        started_at=NOW - timedelta(minutes=started_min_ago),
        **fields,
    )
    db.session.add(call)
    db.session.commit()
    return call


def minutes_ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def test_each_number_counts_what_it_says(app_context):
    a_call(1, 1)  # in the IVR
    a_call(2, 3)  # in the IVR
    a_call(3, 4, ended_at=minutes_ago(1))  # hung up
    a_call(4, 180)  # no end after three hours: its status callback was lost, not in the IVR
    a_call(5, 5, queued_at=minutes_ago(2))  # waiting 2 minutes
    a_call(6, 2, queued_at=minutes_ago(0.5))  # waiting 30 s
    a_call(7, 6, queued_at=minutes_ago(5), queue_left_at=minutes_ago(1))  # left the queue
    agent = make_user("dana")
    a_call(8, 6, queued_at=minutes_ago(4), agent_id=agent.id, taken_at=minutes_ago(1))  # taken
    for name, presence in [
        ("aya", Presence.available),
        ("bashir", Presence.on_call),
        ("chiman", Presence.on_call),
        ("dilan", Presence.wrap_up),
        ("evin", Presence.away),
        ("faris", Presence.offline),
    ]:
        make_user(name).presence = presence
    gone = make_user("gona")
    gone.active = False  # a deactivated account counts nowhere
    db.session.commit()

    board = wallboard_snapshot(NOW)
    assert board["in_ivr"] == 2
    assert board["waiting"] == 2 and board["longest_wait_s"] == 120
    assert board["longest_since"] == minutes_ago(2).isoformat()
    # make_user leaves new users available: dana and aya.
    assert board["agents"] == {"available": 2, "on_call": 2, "wrap_up": 1, "away": 1}


def test_nobody_waiting_is_zero_not_an_error(app_context):
    board = wallboard_snapshot(NOW)
    assert (board["in_ivr"], board["waiting"], board["longest_wait_s"], board["longest_since"]) == (0, 0, 0, None)


def test_the_page_and_its_json(app, app_context):
    a_call(1, 0, queued_at=minutes_ago(0))
    make_user("sara", Role.supervisor)
    client = console_client(app)
    log_in(client, "sara")
    html = client.get("/console/wallboard").get_data(as_text=True)
    assert 'data-value="waiting">1<' in html and 'data-value="available">1<' in html
    assert 'data-stream-url="/console/wallboard/stream"' in html
    data = client.get("/console/wallboard.json").get_json()
    assert data["waiting"] == 1 and data["agents"]["available"] == 1 and data["live"] is True
    assert "calls" not in data and "caller" not in json.dumps(data)  # numbers only on a wall screen


# --- live ----------------------------------------------------------------------------------


class Stream:
    """Reads the wallboard's streamed response one SSE event at a time."""

    def __init__(self, client, path: str = "/console/wallboard/stream"):
        self.client = client
        self.response = client.get(path, buffered=False)
        assert self.response.status_code == 200
        assert self.response.mimetype == "text/event-stream"
        self.chunks = iter(self.response.response)
        self.buffer = ""

    def next_event(self, name: str = "wallboard", skip: int = 20) -> dict:
        for _ in range(skip):
            while "\n\n" not in self.buffer:
                chunk = self.client.context.run(next, self.chunks)
                self.buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
            block, self.buffer = self.buffer.split("\n\n", 1)
            lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if lines.get("event") == name:
                return json.loads(lines["data"])
        raise AssertionError(f"no {name} event in {skip} blocks")

    def next_matching(self, check, tries: int = 10) -> dict:
        for _ in range(tries):
            event = self.next_event()
            if check(event):
                return event
        raise AssertionError("the wallboard never showed the change")

    def close(self) -> None:
        self.client.context.run(self.response.close)


@pytest.fixture
def live(app):
    app.extensions["hotline.broker"] = broker = InProcessBroker()
    refresh = app.config["WALLBOARD_REFRESH_S"]
    app.config["WALLBOARD_REFRESH_S"] = 1
    yield broker
    app.config["WALLBOARD_REFRESH_S"] = refresh
    app.extensions.pop("hotline.broker", None)


def test_a_caller_entering_the_queue_shows_at_once(app, app_context, client, live):
    make_user("sara", Role.supervisor)
    supervisor = console_client(app)
    log_in(supervisor, "sara")
    stream = Stream(supervisor)
    assert stream.next_event()["waiting"] == 0
    enqueue_caller(client, 1, ask_letter=False)
    event = stream.next_matching(lambda e: e["waiting"] == 1)
    assert event["longest_since"] is not None
    stream.close()
    assert len(live._subscribers) == 0  # nothing left listening for a gone screen


def test_a_call_in_the_ivr_shows_within_the_refresh(app, app_context, client, live):
    make_user("sara", Role.supervisor)
    supervisor = console_client(app)
    log_in(supervisor, "sara")
    stream = Stream(supervisor)
    assert stream.next_event()["in_ivr"] == 0
    Twilio(client, sid=call_sid(1)).post("/ivr/voice")  # no event is published for this
    assert stream.next_matching(lambda e: e["in_ivr"] == 1)["waiting"] == 0
    stream.close()


def test_an_agent_going_away_shows(app, app_context, live):
    make_user("sara", Role.supervisor)
    supervisor = console_client(app)
    log_in(supervisor, "sara")
    agent = agent_client(app, "amira")
    stream = Stream(supervisor)
    assert stream.next_event()["agents"]["available"] == 2  # sara and amira
    token = csrf_token(agent, "/console/")
    agent.post("/console/presence", data={"presence": "away", "csrf_token": token})
    event = stream.next_matching(lambda e: e["agents"]["away"] == 1)
    assert event["agents"]["available"] == 1
    stream.close()


def test_agents_may_not_open_the_wallboard(app, app_context):
    agent = agent_client(app, "amira")
    for path in ["/console/wallboard", "/console/wallboard.json", "/console/wallboard/stream"]:
        assert agent.get(path).status_code == 403, path
