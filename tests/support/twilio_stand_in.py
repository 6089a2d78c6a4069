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
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from simulator import twilio_shapes as shapes
from simulator.twilio_shapes import new_sid, rfc2822_now, twilio_error  # noqa: F401  (used by tests)

API = "/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})"
CALL = re.compile(API + r"/Calls/(?P<sid>CA[0-9a-zA-Z]+)\.json$")
CALLS = re.compile(API + r"/Calls\.json$")
MESSAGES = re.compile(API + r"/Messages\.json$")
CONFERENCE = re.compile(API + r"/Conferences/(?P<conference>CF[0-9a-fA-F]{32})\.json$")
PARTICIPANTS = re.compile(API + r"/Conferences/(?P<conference>[^/]+)/Participants\.json$")
PARTICIPANT = re.compile(API + r"/Conferences/(?P<conference>CF[0-9a-fA-F]{32})/Participants/(?P<sid>[^/]+)\.json$")
RECORDING_MEDIA = re.compile(API + r"/Recordings/(?P<sid>RE[0-9a-fA-F]{32})\.mp3$")
RECORDING = re.compile(API + r"/Recordings/(?P<sid>RE[0-9a-fA-F]{32})\.json$")


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
        # Conferences: friendly name -> sid; (conference sid, call sid) -> the participant's state.
        self.conferences: dict[str, str] = {}
        self.participants: dict[tuple[str, str], dict] = {}
        self.ended_conferences: set[str] = set()
        # Calls given TwiML (calls(sid).update(twiml=...)): the tones each was made to play.
        self.played_digits: dict[str, list[str]] = {}
        # Recordings: sid -> media; deleted ones are gone (404), as at Twilio.
        self.recordings: dict[str, bytes] = {}
        # Fail only some requests: (HTTP method, a regular expression of the path, status).
        self.failing: list[tuple[str, re.Pattern, int]] = []
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

    def fail(self, method: str, path_pattern: str, status: int = 500) -> None:
        """From now on, answer requests of this method whose path matches with this status."""
        with self._lock:
            self.failing.append((method, re.compile(path_pattern), status))

    def failure_for(self, method: str, path: str) -> int | None:
        with self._lock:
            if self.fail_with:
                return self.fail_with
            return next((status for m, pattern, status in self.failing if m == method and pattern.search(path)), None)

    def conference_requests(self) -> list[Recorded]:
        """Every request about conferences and their participants, in order."""
        with self._lock:
            return [r for r in self.requests if "/Conferences/" in r.path]

    def participant(self, call_sid: str) -> dict | None:
        """The state of a participant (by call sid), in whichever conference it is."""
        with self._lock:
            return next((state for (_, sid), state in self.participants.items() if sid == call_sid), None)

    def hang_up_participant(self, call_sid: str) -> None:
        with self._lock:
            for key in [key for key in self.participants if key[1] == call_sid]:
                del self.participants[key]

    def add_recording(self, seconds: int = 2) -> str:
        """A recording Twilio made (its media a small silent MP3); returns its sid."""
        sid = new_sid("RE")
        with self._lock:
            self.recordings[sid] = shapes.silent_mp3(seconds)
        return sid

    def recording_requests(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if "/Recordings/" in r.path]

    def record(self, entry: Recorded) -> None:
        with self._lock:
            self.requests.append(entry)

    # --- resources, shaped like Twilio's ------------------------------------------------
    def refused_participant_form(self, conference_sid: str | None, form: dict) -> tuple[int, dict] | None:
        """Twilio's documented constraints on a participant's parameters (create and update);
        called with the lock held. Booleans are `true`/`false`; Beep is `true`, `false`,
        `onEnter` or `onExit`; `Coaching=true` needs `CallSidToCoach`, a participant of the
        same conference."""
        for key in ("Muted", "Hold", "Coaching", "StartConferenceOnEnter", "EndConferenceOnExit", "EarlyMedia"):
            if key in form and form[key] not in ("true", "false"):
                return 400, twilio_error(21236, f"Invalid {key}: {form[key]}", 400)
        if "Beep" in form and form["Beep"] not in ("true", "false", "onEnter", "onExit"):
            return 400, twilio_error(21236, f"Invalid Beep: {form['Beep']}", 400)
        coach = form.get("CallSidToCoach")
        if form.get("Coaching") == "true" and not coach:
            return 400, twilio_error(21236, "CallSidToCoach is required when Coaching is true", 400)
        if coach and (conference_sid, coach) not in self.participants:
            return 400, twilio_error(21236, f"CallSidToCoach {coach} is not a participant of this conference", 400)
        return None

    def add_participant(self, conference: str, form: dict) -> tuple[int, dict]:
        """participants.create: the conference by sid, or by friendly name (made if new)."""
        if not form.get("To") or not form.get("From"):
            return 400, twilio_error(21201, "No 'To' or 'From' number is specified", 400)
        with self._lock:
            if conference.startswith("CF"):
                if conference not in self.conferences.values() or conference in self.ended_conferences:
                    return 404, twilio_error(20404, f"Conference {conference} was not found", 404)
                sid = conference
            else:
                sid = self.conferences.setdefault(conference, new_sid("CF"))
            refused = self.refused_participant_form(sid, form)
            if refused is not None:
                return refused
            call_sid = new_sid("CA")
            state = {"to": form["To"], "from": form["From"], **shapes.participant_changes(form)}
            self.participants[(sid, call_sid)] = state
        return 201, shapes.participant_resource(self.account_sid, sid, call_sid, state, status="queued")

    def update_participant(self, conference: str, key: str, form: dict) -> tuple[int, dict]:
        with self._lock:
            found = next(
                (
                    (call_sid, state)
                    for (cf, call_sid), state in self.participants.items()
                    if cf == conference and key in (call_sid, state.get("label"))
                ),
                None,
            )
            if found is None:
                return 404, twilio_error(20404, f"Participant {key} was not found", 404)
            call_sid, state = found
            refused = self.refused_participant_form(conference, form)
            if refused is not None:
                return refused
            state.update(shapes.participant_changes(form))
        return 200, shapes.participant_resource(self.account_sid, conference, call_sid, state)

    def remove_participant(self, conference: str, key: str) -> int:
        with self._lock:
            for (cf, call_sid), state in list(self.participants.items()):
                if cf == conference and key in (call_sid, state.get("label")):
                    del self.participants[(cf, call_sid)]
                    return 204
        return 404

    def join_caller(self, conference_name: str, call_sid: str) -> str:
        """The caller's <Dial><Conference> ran: they are a participant of the named conference."""
        with self._lock:
            sid = self.conferences.setdefault(conference_name, new_sid("CF"))
            self.participants[(sid, call_sid)] = {"label": None}
        return sid

    def run_twiml(self, call_sid: str, twiml: str) -> tuple[int, dict] | None:
        """calls(sid).update(twiml=...): the call leaves the conference it is in and runs the
        TwiML; the tones of its <Play digits> are kept in `played_digits`, and a <Dial><Conference>
        puts it in that conference again, as the noun says (Twilio's defaults otherwise:
        startConferenceOnEnter true, endConferenceOnExit false). None when Twilio takes it."""
        try:
            root = ET.fromstring(twiml)
        except ET.ParseError:
            return 400, twilio_error(12100, "Document parse failure", 400)
        if root.tag != "Response":
            return 400, twilio_error(12100, "Document parse failure", 400)
        with self._lock:
            played = [verb.get("digits", "") for verb in root.findall("Play") if verb.get("digits")]
            self.played_digits.setdefault(call_sid, []).extend(played)
            was = {}
            for key in [key for key in self.participants if key[1] == call_sid]:
                was = self.participants.pop(key)
            noun = root.find("Dial/Conference")
            if noun is not None and (noun.text or "").strip():
                sid = self.conferences.setdefault(noun.text.strip(), new_sid("CF"))
                self.participants[(sid, call_sid)] = {
                    **{k: v for k, v in was.items() if k in ("to", "from")},
                    "label": noun.get("participantLabel"),
                    "start_conference_on_enter": noun.get("startConferenceOnEnter", "true") == "true",
                    "end_conference_on_exit": noun.get("endConferenceOnExit", "false") == "true",
                    "muted": noun.get("muted", "false") == "true",
                    "hold": False,
                }
        return None

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
        media = RECORDING_MEDIA.search(parts.path)
        if not self.authorised():
            self.answer(401, twilio_error(20003, "Authenticate", 401))
        elif failure := self.twilio.failure_for("GET", parts.path):
            self.answer(failure, twilio_error(20500, "Internal Server Error", failure))
        elif media is not None and media.group("account") == self.twilio.account_sid:
            self.send_media(media.group("sid"))
        elif match is not None and match.group("account") == self.twilio.account_sid:
            self.answer(200, self.twilio.message_page(query))
        else:
            self.answer(404, twilio_error(20404, "The requested resource was not found", 404))

    def send_media(self, sid: str) -> None:
        """A recording's MP3, the whole of it or the one byte range asked for (206)."""
        with self.twilio._lock:
            body = self.twilio.recordings.get(sid)
        if body is None:
            self.answer(404, twilio_error(20404, f"The requested resource /Recordings/{sid}.mp3 was not found", 404))
            return
        wanted = shapes.byte_range(self.headers.get("Range"), len(body))
        self.send_response(206 if wanted else 200)
        if wanted:
            first, last = wanted
            self.send_header("Content-Range", f"bytes {first}-{last}/{len(body)}")
            body = body[first : last + 1]
        self.send_header("Content-Type", "audio/mpeg")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        form = self.read_form()
        self.twilio.record(Recorded("POST", path, form))
        if not self.authorised():
            self.answer(401, twilio_error(20003, "Authenticate", 401))
            return
        failure = self.twilio.failure_for("POST", path)
        if failure:
            self.answer(failure, twilio_error(20500, "Internal Server Error", failure))
            return
        if self.conference_post(path, form):
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

    def conference_post(self, path: str, form: dict) -> bool:
        """Conferences and participants; False when the path is not about them."""
        twilio = self.twilio
        match = PARTICIPANTS.search(path) or PARTICIPANT.search(path) or CONFERENCE.search(path)
        if match is None:
            return False
        if match.group("account") != twilio.account_sid:
            self.answer(404, twilio_error(20404, "The requested resource was not found", 404))
        elif match.re is PARTICIPANTS:
            self.answer(*twilio.add_participant(match.group("conference"), form))
        elif match.re is PARTICIPANT:
            self.answer(*twilio.update_participant(match.group("conference"), match.group("sid"), form))
        else:
            sid = match.group("conference")
            name = next((n for n, s in twilio.conferences.items() if s == sid), None)
            if name is None:
                self.answer(404, twilio_error(20404, f"Conference {sid} was not found", 404))
                return True
            if form.get("Status") == "completed":
                with twilio._lock:
                    twilio.ended_conferences.add(sid)
                    for key in [key for key in twilio.participants if key[0] == sid]:
                        del twilio.participants[key]
            self.answer(200, shapes.conference_resource(twilio.account_sid, sid, name, status="completed"))
        return True

    def do_DELETE(self) -> None:
        path = urlsplit(self.path).path
        self.read_form()
        self.twilio.record(Recorded("DELETE", path, {}))
        match = PARTICIPANT.search(path)
        recording = RECORDING.search(path)
        failure = self.twilio.failure_for("DELETE", path)
        if not self.authorised():
            self.answer(401, twilio_error(20003, "Authenticate", 401))
        elif failure:
            self.answer(failure, twilio_error(20500, "Internal Server Error", failure))
        elif recording is not None and recording.group("account") == self.twilio.account_sid:
            with self.twilio._lock:
                found = self.twilio.recordings.pop(recording.group("sid"), None)
            if found is None:
                self.answer(404, twilio_error(20404, "The requested resource was not found", 404))
            else:
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
        elif match is None or match.group("account") != self.twilio.account_sid:
            self.answer(404, twilio_error(20404, "The requested resource was not found", 404))
        elif self.twilio.remove_participant(match.group("conference"), match.group("sid")) == 204:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.answer(404, twilio_error(20404, "The requested resource was not found", 404))

    def update_call(self, sid: str, form: dict) -> None:
        if sid in self.twilio.unknown_calls:
            self.answer(404, twilio_error(20404, f"The requested resource /Calls/{sid}.json was not found", 404))
        elif sid in self.twilio.ended_calls:
            self.answer(400, twilio_error(21220, "Call is not in-progress. Cannot redirect.", 400))
        elif "Twiml" in form and (refused := self.twilio.run_twiml(sid, form["Twiml"])) is not None:
            self.answer(*refused)
        else:
            self.answer(200, self.twilio.call_resource(sid, form))
