"""Helpers for the console tests: users, logging in, CSRF tokens, callers put in the queue."""

from __future__ import annotations

import contextvars
import json
import re
from datetime import date

from flask.testing import FlaskClient
from sqlalchemy import select

from domain.staff.users import create_user
from extensions import db
from models import Call, EndpointKind, Presence, Role, User
from tests.support.ivr import Caller, add_letter, agent_on_duty
from tests.support.webhooks import Twilio

PASSWORD = "correct horse battery"
NUMBER, KEYED_DATE = "1234", "15032024"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class ConsoleClient(FlaskClient):
    """A browser: each request gets an app context (and `g`, and database session) of its own.

    The tests hold an app context open to read the database, and Flask reuses an open
    app context for requests, so without this a CSRF token cached in `g` by one request
    would leak into the next, as it never would between a real browser's requests.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.context = contextvars.Context()  # holds no app context between requests

    def open(self, *args, **kwargs):
        return self.context.run(super().open, *args, **kwargs)


def console_client(app) -> ConsoleClient:
    return ConsoleClient(app, app.response_class, use_cookies=True)


def make_user(
    username: str,
    role: Role = Role.agent,
    *,
    language: str = "en",
    endpoint_kind: EndpointKind = EndpointKind.client,
    endpoint: str = "",
    entity_id: int | None = None,
) -> User:
    user = create_user(
        username,
        PASSWORD,
        role,
        display_name=username.title(),
        language=language,
        endpoint_kind=endpoint_kind,
        endpoint=endpoint,
        entity_id=entity_id,
    )
    user.presence = Presence.available
    db.session.commit()
    return user


def csrf_token(client, path: str = "/console/login") -> str:
    page = client.get(path)
    match = CSRF_META.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def log_in(client, username: str, password: str = PASSWORD) -> None:
    token = csrf_token(client)
    response = client.post("/console/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def agent_client(app, username: str, **user_options):
    """A test client logged in as a new agent (or the role given)."""
    make_user(username, **user_options)
    client = console_client(app)
    log_in(client, username)
    return client


def call_sid(n: int) -> str:
    return f"CA{n:032d}"


def enqueue_caller(client, n: int = 1, *, caller: str = "+9647501234567", ask_letter: bool = True) -> Call:
    """A caller walks the IVR in English (optionally looking up letter 1234 of 15/03/2024),
    then presses 0 for an agent and lands in the agents' queue."""
    agent_on_duty()
    walker = Caller(Twilio(client, sid=call_sid(n), caller=caller))
    presses = ["3", "1", NUMBER, "1", KEYED_DATE, "1", "0"] if ask_letter else ["3", "0"]
    answer = walker.walk(*presses)
    assert answer.enqueued is not None, "the caller did not reach the agents' queue"
    return db.session.scalar(select(Call).where(Call.sid == call_sid(n)))


def letter(**options):
    return add_letter(number=NUMBER, on=date(2024, 3, 15), **options)


class Stream:
    """Reads a streamed response one SSE event at a time."""

    def __init__(self, client, path: str = "/console/stream"):
        self.client = client
        response = client.get(path, buffered=False)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/event-stream"
        self.response = response
        self.chunks = iter(response.response)
        self.buffer = ""

    def next_block(self) -> str:
        while "\n\n" not in self.buffer:
            # The streamed response runs in the browser's own context (see ConsoleClient).
            chunk = self.client.context.run(next, self.chunks)
            self.buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        block, self.buffer = self.buffer.split("\n\n", 1)
        return block

    def next_event(self, name: str = "queue", skip: int = 20) -> dict:
        for _ in range(skip):
            block = self.next_block()
            fields = [line for line in block.splitlines() if ": " in line and not line.startswith(":")]
            lines = dict(line.split(": ", 1) for line in fields)
            if lines.get("event") == name:
                return json.loads(lines["data"])
        raise AssertionError(f"no {name} event in {skip} blocks")

    def close(self) -> None:
        self.client.context.run(self.response.close)
