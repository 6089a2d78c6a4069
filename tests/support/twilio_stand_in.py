"""A local stand-in for Twilio's REST API, for tests: the real `twilio` client talks to it over HTTP.

It answers the few resources the hotline uses the way Twilio does (JSON bodies, status
codes, error documents), checks HTTP basic auth with the account SID and token, and
records every request so that tests can ask what the app told Twilio to do.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from simulator import twilio_shapes as shapes
from simulator.twilio_shapes import new_sid, rfc2822_now, twilio_error  # noqa: F401  (used by tests)

API = "/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})"
CALL = re.compile(API + r"/Calls/(?P<sid>CA[0-9a-zA-Z]+)\.json$")
CALLS = re.compile(API + r"/Calls\.json$")
MESSAGES = re.compile(API + r"/Messages\.json$")


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    form: dict[str, str]


class TwilioStandIn:
    """Start with `start()`, point TWILIO_API_BASE_URL at `url`, `stop()` at the end."""

    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[Recorded] = []
        self.ended_calls: set[str] = set()
        self.unknown_calls: set[str] = set()
        self.fail_with: int | None = None  # answer every request with this HTTP status
        self.messages: list[dict] = []  # every message created, newest last, as Twilio keeps them
        self.message_delay_s: float = 0.0  # hold the answer to a new message (a slow Twilio)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- what tests use ----------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "TwilioStandIn":
        stand_in = self

        class Handler(TwilioHandler):
            twilio = stand_in

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="twilio-stand-in", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)

    def end_call(self, sid: str) -> None:
        """From now on, redirecting this call fails as Twilio fails it for a hung-up call."""
        with self._lock:
            self.ended_calls.add(sid)

    def calls_updated(self, sid: str | None = None) -> list[Recorded]:
        with self._lock:
            return [
                r
                for r in self.requests
                if r.method == "POST" and CALL.search(r.path) and (sid is None or r.path.endswith(f"/Calls/{sid}.json"))
            ]

    def messages_sent(self, to: str | None = None) -> list[Recorded]:
        """The POSTs that created a message (to one number, if given)."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.method == "POST" and MESSAGES.search(r.path) and (to is None or r.form.get("To") == to)
            ]

    def record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    # --- resources, shaped like Twilio's ------------------------------------------------
    def call_resource(self, sid: str, form: dict, status: str = "in-progress") -> dict:
        direction = "outbound-api" if status == "queued" else "inbound"
        return shapes.call_resource(self.account_sid, sid, form, status=status, direction=direction)

    def message_resource(self, form: dict) -> dict:
        message = shapes.message_resource(self.account_sid, new_sid("SM"), form)
        with self._lock:
            self.messages.append(message)  # kept from the moment the request arrives, as Twilio does
        return message

    def message_page(self, query: dict) -> dict:
        """GET .../Messages.json: newest first, filtered by To, one page."""
        to = query.get("To")
        with self._lock:
            found = [m for m in reversed(self.messages) if to is None or m["to"] == to]
        return shapes.message_page(self.account_sid, found, int(query.get("PageSize", "50")))


class TwilioHandler(BaseHTTPRequestHandler):
    twilio: TwilioStandIn  # set on the subclass made by TwilioStandIn.start
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet test output
        pass

    def authorised(self) -> bool:
        expected = f"{self.twilio.account_sid}:{self.twilio.auth_token}".encode()
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            return base64.b64decode(header[6:]) == expected
        except ValueError:
            return False

    def read_form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        return {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}

    def answer(self, status: int, document: dict) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.read_form()
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.twilio.record(Recorded("GET", parts.path, query))
        match = MESSAGES.search(parts.path)
        if not self.authorised():
            self.answer(401, twilio_error(20003, "Authenticate", 401))
        elif match is not None and match.group("account") == self.twilio.account_sid:
            self.answer(200, self.twilio.message_page(query))
        else:
            self.answer(404, twilio_error(20404, "The requested resource was not found", 404))

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        form = self.read_form()
        self.twilio.record(Recorded("POST", path, form))
        if not self.authorised():
            self.answer(401, twilio_error(20003, "Authenticate", 401))
            return
        if self.twilio.fail_with:
            self.answer(self.twilio.fail_with, twilio_error(20500, "Internal Server Error", self.twilio.fail_with))
            return
        match = CALL.search(path) or CALLS.search(path) or MESSAGES.search(path)
        if match is None or match.group("account") != self.twilio.account_sid:
            self.answer(404, twilio_error(20404, "The requested resource was not found", 404))
        elif match.re is CALL:
            self.update_call(match.group("sid"), form)
        elif match.re is CALLS:
            self.answer(201, self.twilio.call_resource(new_sid("CA"), form, status="queued"))
        else:
            message = self.twilio.message_resource(form)
            if self.twilio.message_delay_s:
                time.sleep(self.twilio.message_delay_s)
            try:
                self.answer(201, message)
            except OSError:  # the client is gone (a killed worker): Twilio has the message anyway
                pass

    def update_call(self, sid: str, form: dict) -> None:
        if sid in self.twilio.unknown_calls:
            self.answer(404, twilio_error(20404, f"The requested resource /Calls/{sid}.json was not found", 404))
        elif sid in self.twilio.ended_calls:
            self.answer(400, twilio_error(21220, "Call is not in-progress. Cannot redirect.", 400))
        else:
            self.answer(200, self.twilio.call_resource(sid, form))
