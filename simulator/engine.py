"""A stand-in for Twilio: posts signed webhooks to the IVR and plays back its TwiML answers.

The engine prints nothing and keeps all state on the call object, so the terminal command,
the development page and a load benchmark can all drive calls with it.
"""

from __future__ import annotations

import math
import re
import secrets
import threading
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol
from urllib.parse import urljoin, urlsplit

from twilio.request_validator import RequestValidator

DEFAULT_CALLER = "+9647501234567"
HOTLINE_NUMBER = "+9645599"
WITHHELD_CALLER = "anonymous"  # what Twilio puts in From for a withheld number
VOICE_PATH = "/ivr/voice"
STATUS_PATH = "/ivr/status"
KEYS = re.compile(r"[0-9*#]*")
TWILIO_DEFAULT_FINISH_KEY = "#"  # Twilio's default when <Gather> names no finishOnKey
MAX_REDIRECTS = 10  # a redirect loop in our TwiML must fail the simulation, not hang it
INBOUND = "inbound"
OUTBOUND_API = "outbound-api"  # a call placed with the REST API (calls.create)
DIAL_NOUNS = {"Client": "client", "Sip": "sip", "Number": "number", "Queue": "queue", "Conference": "conference"}
HTTP_TIMEOUT_S = 15


class SimulatorError(RuntimeError):
    """The IVR answered something Twilio could not play, or the call cannot do that now."""


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def check_keys(keys: str) -> str:
    """Keys as a caller can press them: digits, * and #; '' is silence."""
    if not isinstance(keys, str) or not KEYS.fullmatch(keys):
        raise ValueError("keys may only be the digits 0-9, * and #")
    return keys


# --- what a turn of the call sounds like -------------------------------------------


class Speech(NamedTuple):
    """One thing the caller hears: ("say", text, language), ("play", url, None) or a pause."""

    kind: str  # say | play | pause | note (a verb the simulator does not play)
    content: str
    language: str | None = None


@dataclass(frozen=True)
class Gather:
    """A <Gather> waiting for keys; `after` are the verbs Twilio plays if it times out."""

    action_url: str  # a path on the IVR, e.g. /ivr/menu?lang=en&s=2
    num_digits: int | None = None
    finish_on_key: str = TWILIO_DEFAULT_FINISH_KEY
    timeout: int = 5
    action_on_empty_result: bool = True
    after: tuple = ()
    document_url: str = ""  # the request whose TwiML held this <Gather>, to resolve `after`

    def digits_for(self, keys: str) -> str:
        """What Twilio would post as Digits: up to the finish key, at most numDigits."""
        digits = check_keys(keys)
        if self.finish_on_key and self.finish_on_key in digits:
            digits = digits[: digits.index(self.finish_on_key)]
        if self.num_digits:
            digits = digits[: self.num_digits]
        return digits


@dataclass(frozen=True)
class QueueEntry:
    """An <Enqueue>: the caller waits in `name` until an agent takes the call or they hang up."""

    name: str
    wait_url: str | None
    action_url: str | None
    entered_at: float = field(default_factory=time.monotonic, compare=False)


class DialTarget(NamedTuple):
    """Whom a <Dial> rings: ("client", identity), ("sip", uri), ("number", e164)..."""

    kind: str
    address: str


@dataclass(frozen=True)
class Dial:
    """A <Dial>: the caller is connected (or ringing) until one side hangs up.

    Twilio posts `action_url` when the dialled leg ends, with DialCallStatus; without an
    action it goes on with the verbs after <Dial> (`after`).
    """

    targets: tuple[DialTarget, ...]
    action_url: str | None
    timeout: int = 30
    after: tuple = ()
    document_url: str = ""
    conference_events_url: str | None = None  # a <Conference statusCallback>, as a path of the app

    @property
    def conference(self) -> str | None:
        """The conference the caller waits in (`<Dial><Conference>`), or None."""
        return next((t.address for t in self.targets if t.kind == "conference"), None)

    def describe(self) -> str:
        return ", ".join(f"{t.kind} {t.address}" for t in self.targets) or "nobody"


class Exchange(NamedTuple):
    """One webhook request, for a benchmark's latency figures."""

    path: str
    status: int
    elapsed_s: float


@dataclass
class SimulatedTurn:
    """What one step of the call sounded like and what the call waits for next."""

    digits: str | None = None  # what was posted as Digits (None on the first request)
    spoken: list[Speech] = field(default_factory=list)
    gather: Gather | None = None
    queue: QueueEntry | None = None
    hold: list[Speech] = field(default_factory=list)  # what the waiting caller hears
    dial: Dial | None = None
    ended: bool = False
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def expects_input(self) -> bool:
        return self.gather is not None

    @property
    def enqueued(self) -> bool:
        return self.queue is not None

    @property
    def connected(self) -> bool:
        return self.dial is not None

    @property
    def state(self) -> str:
        if self.gather is not None:
            return "waiting"
        if self.dial is not None:
            return "connected"
        return "queued" if self.queue is not None else "ended"

    def text(self) -> str:
        """Everything said in this turn, one line per <Say>; handy in tests."""
        return "\n".join(s.content for s in self.spoken if s.kind == "say")


# --- transports: how a signed webhook reaches the app ---------------------------------


class Reply(NamedTuple):
    status: int
    body: str


class Transport(Protocol):
    public_base_url: str

    def post(self, path: str, form: dict) -> Reply: ...


class Signer:
    """Signs as Twilio does: the public URL Twilio requested, plus the form parameters."""

    def __init__(self, auth_token: str, public_base_url: str):
        self.validator = RequestValidator(auth_token)
        self.public_base_url = public_base_url.rstrip("/")

    def headers(self, path: str, form: dict) -> dict:
        signature = self.validator.compute_signature(self.public_base_url + path, form)
        return {"X-Twilio-Signature": signature}


class FlaskTransport:
    """In-process: the app's own test client, signing with the app's token and public URL."""

    def __init__(self, app, auth_token: str | None = None, public_base_url: str | None = None):
        self.app = app
        self.signer = Signer(
            auth_token or app.config["TWILIO_AUTH_TOKEN"], public_base_url or app.config["PUBLIC_BASE_URL"]
        )
        self.public_base_url = self.signer.public_base_url

    def post(self, path: str, form: dict) -> Reply:
        # A fresh app context per request, so that a simulated webhook made from inside
        # another request (the development page) gets its own database session.
        with self.app.app_context():
            response = self.app.test_client().post(path, data=form, headers=self.signer.headers(path, form))
            return Reply(response.status_code, response.get_data(as_text=True))


class HttpTransport:
    """Over HTTP to a running server (e.g. gunicorn), signing for the URL Twilio would use."""

    def __init__(self, base_url: str, auth_token: str, public_base_url: str):
        import requests  # a test/development dependency; production never simulates calls

        self.base_url = base_url.rstrip("/")
        self.signer = Signer(auth_token, public_base_url)
        self.public_base_url = self.signer.public_base_url
        self._requests = requests
        self._local = threading.local()  # requests.Session is not safe to share across threads

    @classmethod
    def for_app(cls, app, base_url: str) -> "HttpTransport":
        return cls(base_url, app.config["TWILIO_AUTH_TOKEN"], app.config["PUBLIC_BASE_URL"])

    def session(self):
        if not hasattr(self._local, "session"):
            self._local.session = self._requests.Session()
        return self._local.session

    def post(self, path: str, form: dict) -> Reply:
        try:
            response = self.session().post(
                self.base_url + path,
                data=form,
                headers=self.signer.headers(path, form),
                timeout=HTTP_TIMEOUT_S,
                allow_redirects=False,
            )
        except self._requests.RequestException as exc:
            raise SimulatorError(f"could not reach {self.base_url}: {exc}") from exc
        return Reply(response.status_code, response.text)


def public_path(base: str, current_path: str, url: str) -> str:
    """A URL, resolved against the current request URL as Twilio does, as a path of the app."""
    absolute = urljoin(base + current_path, url)
    if urlsplit(absolute)[:2] != urlsplit(base)[:2] or not absolute.startswith(base):
        raise SimulatorError(f"{url} is outside PUBLIC_BASE_URL ({base}); not simulated")
    return absolute[len(base) :] or "/"


# --- reading TwiML --------------------------------------------------------------------


def parse_twiml(body: str, path: str) -> list[ElementTree.Element]:
    try:
        root = ElementTree.fromstring(body.encode("utf-8"))
    except ElementTree.ParseError as exc:
        raise SimulatorError(f"{path} did not answer valid TwiML: {exc}") from exc
    if root.tag != "Response":
        raise SimulatorError(f"{path} answered <{root.tag}>, not <Response>")
    return list(root)


def speech_of(verb: ElementTree.Element) -> Speech | None:
    """What a caller hears from a speech verb; None for verbs that steer the call."""
    text = (verb.text or "").strip()
    if verb.tag == "Say":
        return Speech("say", text, verb.get("language"))
    if verb.tag == "Play":
        return Speech("play", text)
    if verb.tag == "Pause":
        return Speech("pause", verb.get("length", "1"))
    return None


def int_attribute(verb: ElementTree.Element, name: str, default: int | None) -> int | None:
    raw = verb.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SimulatorError(f"<{verb.tag} {name}={raw!r}> is not a number") from exc


def check_method(verb: ElementTree.Element, name: str = "method") -> None:
    method = verb.get(name, "POST").upper()
    if method != "POST":  # our IVR only answers POST; Twilio would GET with a query string
        raise SimulatorError(f"<{verb.tag} {name}={method}> is not simulated; use POST")


# --- the call ---------------------------------------------------------------------------


class SimulatedCall:
    """One inbound call to 5599, driven step by step; safe to use from several threads."""

    def __init__(
        self,
        transport: Transport,
        caller: str | None = DEFAULT_CALLER,
        *,
        called: str = HOTLINE_NUMBER,
        sid: str | None = None,
        account_sid: str | None = None,
        direction: str = INBOUND,
        status_callback: str | None = STATUS_PATH,
    ):
        """`caller` and `called` are Twilio's From and To; for a call placed with the REST
        API (direction outbound-api) From is the hotline and To the person it rings.
        `status_callback` is the path the final status goes to (None: nowhere)."""
        self.transport = transport
        self.caller = caller or WITHHELD_CALLER
        self.called = called
        self.direction = direction
        self.status_callback = status_callback
        self.sid = sid or new_sid("CA")
        self.queue_sid = new_sid("QU")
        self.account_sid = account_sid or "AC" + "0" * 32
        self.turns: list[SimulatedTurn] = []
        self.exchanges: list[Exchange] = []  # every webhook of the call, status callback included
        self.gather: Gather | None = None
        self.queue: QueueEntry | None = None
        self.dial: Dial | None = None
        self.started_at: float | None = None
        self.ended = False
        self.status_sent = False
        self._lock = threading.Lock()

    @classmethod
    def resume(
        cls,
        transport: Transport,
        *,
        sid: str,
        caller: str | None,
        gather: Gather | None = None,
        queue: QueueEntry | None = None,
        dial: Dial | None = None,
        started_at: float | None = None,
        **options,
    ) -> "SimulatedCall":
        """A call some other process started, e.g. from the state a browser kept."""
        call = cls(transport, caller, sid=sid, **options)
        call.gather, call.queue, call.dial = gather, queue, dial
        call.started_at = started_at if started_at is not None else time.monotonic()
        return call

    # --- what a caller can do -----------------------------------------------------------
    def start(self) -> SimulatedTurn:
        """The phone rings: Twilio's first webhook."""
        with self._lock:
            if self.started_at is not None:
                raise SimulatorError("the call has already started")
            self.started_at = time.monotonic()
            return self._request(VOICE_PATH, {"CallStatus": "ringing"}, SimulatedTurn())

    def answer(self, url: str | None = None, twiml: str | None = None) -> SimulatedTurn:
        """A call placed with the REST API is picked up: Twilio fetches its Url (or runs its Twiml)."""
        with self._lock:
            if self.started_at is not None:
                raise SimulatorError("the call has already started")
            self.started_at = time.monotonic()
            if twiml is not None:
                return self._finish_turn(self._play(parse_twiml(twiml, "Twiml"), VOICE_PATH, SimulatedTurn()))
            return self._request(self._resolve("/", url or ""), {}, SimulatedTurn())

    def decline(self, status: str = "busy") -> None:
        """A placed call is not picked up (busy, no-answer): only its status callback, if any."""
        with self._lock:
            if self.started_at is not None or self.ended:
                raise SimulatorError("the call was already answered")
            self.ended = self.status_sent = True
            if self.status_callback:
                self._post(self.status_callback, {"CallStatus": status, "CallDuration": "0"}, [])

    def press(self, keys: str) -> SimulatedTurn:
        """Keys for the waiting <Gather>; '' is silence until its timeout."""
        with self._lock:
            gather = self._waiting_gather()
            digits = gather.digits_for(keys)
            self.gather = None
            turn = SimulatedTurn(digits=digits)
            if digits or gather.action_on_empty_result:
                return self._request(gather.action_url, {"Digits": digits}, turn)
            # Silence without actionOnEmptyResult: Twilio goes on with the verbs after <Gather>.
            return self._finish_turn(self._play(list(gather.after), gather.document_url, turn))

    def leave_queue(self, result: str = "bridged") -> SimulatedTurn:
        """The caller leaves the queue (an agent bridged, an error...): Twilio posts <Enqueue action>."""
        with self._lock:
            return self._leave_queue(result)

    # --- what the REST API does to a live call (calls(sid).update) ---------------------
    def redirect(self, url: str, method: str = "POST") -> SimulatedTurn:
        """Update with Url: the call leaves what it was doing and runs the TwiML at `url`.

        A caller in a queue leaves it first (Twilio posts <Enqueue action> with
        QueueResult=redirected and ignores what it answers).
        """
        with self._lock:
            if method.upper() != "POST":
                raise SimulatorError(f"a redirect with Method={method} is not simulated; use POST")
            path = self._resolve("/", url)
            turn = self._interrupt()
            return self._request(path, {}, turn)

    def run_twiml(self, twiml: str) -> SimulatedTurn:
        """Update with Twiml: the call runs this document at once."""
        with self._lock:
            turn = self._interrupt()
            return self._finish_turn(self._play(parse_twiml(twiml, "Twiml"), VOICE_PATH, turn))

    def end_by_api(self) -> int | None:
        """Update with Status=completed: Twilio hangs up the call."""
        return self.hang_up()

    def dial_ended(self, dial_status: str = "completed", duration: int | None = None) -> SimulatedTurn:
        """The dialled party (the agent) hung up, or never answered: Twilio posts the <Dial action>."""
        with self._lock:
            if self.ended:
                raise SimulatorError("the call has ended")
            if self.dial is None:
                raise SimulatorError("the call is not connected to anyone")
            dial, self.dial = self.dial, None
            turn = SimulatedTurn()
            form = {"DialCallStatus": dial_status, "DialCallSid": new_sid("CA")}
            if dial_status == "completed":
                form["DialCallDuration"] = str(duration if duration is not None else 1)
            if dial.action_url:
                return self._request(dial.action_url, form, turn)
            return self._finish_turn(self._play(list(dial.after), dial.document_url, turn))

    def hang_up(self, duration: int | None = None) -> int | None:
        """The caller hangs up (or the IVR did): queue-left if queued, then the status callback.

        Returns the CallDuration reported, or None when the status was already sent.
        """
        with self._lock:
            if self.started_at is None:
                raise SimulatorError("the call has not started")
            if self.status_sent:
                return None
            if self.queue is not None and self.queue.action_url:
                self._post(self.queue.action_url, self._queue_form(self.queue, "hangup"), [])
            self.gather = self.queue = self.dial = None
            self.ended = True
            seconds = duration if duration is not None else self.elapsed_s()
            if self.status_callback:
                self._post(self.status_callback, {"CallStatus": "completed", "CallDuration": str(seconds)}, [])
            self.status_sent = True
            return seconds

    def elapsed_s(self) -> int:
        """Whole seconds since the call was answered, rounded up as Twilio bills them."""
        if self.started_at is None:
            return 0
        return max(1, math.ceil(time.monotonic() - self.started_at))

    # --- what Twilio posts about the call's conference (simulator/conference.py) ---------
    def notify(self, url: str, fields: dict) -> None:
        """A status callback Twilio posts about this call or a leg of it (`fields` override
        CallSid, From, To...): signed; any 2xx will do, its body is ignored as Twilio does."""
        with self._lock:
            path = self._resolve("/", url)
            began = time.perf_counter()
            reply = self.transport.post(path, self._form(fields))
            self.exchanges.append(Exchange(path, reply.status, time.perf_counter() - began))
            if not 200 <= reply.status < 300:
                raise SimulatorError(f"POST {path} answered HTTP {reply.status}")

    def listen(self, url: str) -> list[Speech]:
        """What the caller hears from a conference's holdUrl (or waitUrl): fetched once."""
        with self._lock:
            path = self._resolve("/", url)
            verbs = parse_twiml(self._post(path, {}, []), path)
            return [
                s if s is not None else Speech("note", f"<{v.tag}> in the hold URL is not simulated")
                for s, v in zip((speech_of(verb) for verb in verbs), verbs, strict=True)
            ]

    # --- internals ----------------------------------------------------------------------
    def _waiting_gather(self) -> Gather:
        if self.ended:
            raise SimulatorError("the call has ended")
        if self.gather is None:
            what = (
                "is waiting in the queue"
                if self.queue
                else "is connected to an agent"
                if self.dial
                else "is not waiting for keys"
            )
            raise SimulatorError(f"the call {what}")
        return self.gather

    def _interrupt(self) -> SimulatedTurn:
        """What a REST update does first: stop the current verb; a queued caller leaves the queue."""
        if self.ended or self.started_at is None:
            raise SimulatorError("the call is not in progress")
        turn = SimulatedTurn()
        entry, self.queue = self.queue, None
        self.gather = self.dial = None
        if entry is not None and entry.action_url:
            self._post(entry.action_url, self._queue_form(entry, "redirected"), turn.exchanges)
        return turn

    def _leave_queue(self, result: str) -> SimulatedTurn:
        if self.queue is None:
            raise SimulatorError("the call is not in a queue")
        entry, self.queue = self.queue, None
        turn = SimulatedTurn()
        if not entry.action_url:  # without an action Twilio goes on after <Enqueue>: here, the end
            return self._finish_turn(turn)
        return self._request(entry.action_url, self._queue_form(entry, result), turn)

    def _queue_form(self, entry: QueueEntry, result: str) -> dict:
        waited = max(0, round(time.monotonic() - entry.entered_at))
        return {"QueueResult": result, "QueueSid": self.queue_sid, "QueueTime": str(waited)}

    def _form(self, extra: dict) -> dict:
        form = {
            "CallSid": self.sid,
            "AccountSid": self.account_sid,
            "From": self.caller,
            "To": self.called,
            "Direction": self.direction,
            "CallStatus": "in-progress",
            "ApiVersion": "2010-04-01",
        }
        form.update(extra)
        return form

    def _post(self, path: str, extra: dict, exchanges: list) -> str:
        began = time.perf_counter()
        reply = self.transport.post(path, self._form(extra))
        exchange = Exchange(path, reply.status, time.perf_counter() - began)
        exchanges.append(exchange)
        self.exchanges.append(exchange)
        if reply.status != 200:
            raise SimulatorError(
                f"POST {path} answered HTTP {reply.status}; Twilio would play its application-error message"
            )
        return reply.body

    def _request(self, path: str, extra: dict, turn: SimulatedTurn) -> SimulatedTurn:
        verbs = parse_twiml(self._post(path, extra, turn.exchanges), path)
        return self._finish_turn(self._play(verbs, path, turn))

    def _finish_turn(self, turn: SimulatedTurn) -> SimulatedTurn:
        self.gather, self.queue, self.dial = turn.gather, turn.queue, turn.dial
        self.ended = turn.ended
        self.turns.append(turn)
        return turn

    def _play(self, verbs: list, path: str, turn: SimulatedTurn, redirects: int = 0) -> SimulatedTurn:
        """Run TwiML verbs in order, as Twilio does, until one waits, queues or ends the call."""
        for index, verb in enumerate(verbs):
            speech = speech_of(verb)
            if speech is not None:
                turn.spoken.append(speech)
            elif verb.tag == "Gather":
                return self._gather(verb, verbs[index + 1 :], path, turn)
            elif verb.tag == "Enqueue":
                return self._enqueue(verb, path, turn)
            elif verb.tag == "Dial":
                return self._dial(verb, verbs[index + 1 :], path, turn)
            elif verb.tag == "Redirect":
                return self._redirect(verb, path, turn, redirects)
            elif verb.tag in {"Hangup", "Reject"}:
                break
            else:
                turn.spoken.append(Speech("note", f"<{verb.tag}> is not simulated"))
        turn.ended = True  # Twilio hangs up at the end of a document
        return turn

    def _gather(self, verb, after: list, path: str, turn: SimulatedTurn) -> SimulatedTurn:
        check_method(verb)
        for nested in verb:
            speech = speech_of(nested)
            if speech is not None:
                turn.spoken.append(speech)
        turn.gather = Gather(
            action_url=self._resolve(path, verb.get("action") or path),
            num_digits=int_attribute(verb, "numDigits", None),
            finish_on_key=verb.get("finishOnKey", TWILIO_DEFAULT_FINISH_KEY),
            timeout=int_attribute(verb, "timeout", 5),
            action_on_empty_result=verb.get("actionOnEmptyResult", "false").lower() == "true",
            after=tuple(after),
            document_url=path,
        )
        return turn

    def _dial(self, verb, after: list, path: str, turn: SimulatedTurn) -> SimulatedTurn:
        check_method(verb)
        targets = []
        for noun in verb:
            if noun.tag in DIAL_NOUNS:
                identity = noun.find("Identity")  # <Client><Identity>x</Identity></Client>
                address = (identity.text if identity is not None else noun.text) or ""
                targets.append(DialTarget(DIAL_NOUNS[noun.tag], address.strip()))
        if not targets and (verb.text or "").strip():
            targets.append(DialTarget("number", verb.text.strip()))  # <Dial>+964...</Dial>
        action = verb.get("action")
        conference = verb.find("Conference")
        events = conference.get("statusCallback") if conference is not None else None
        turn.dial = Dial(
            targets=tuple(targets),
            action_url=self._resolve(path, action) if action else None,
            timeout=int_attribute(verb, "timeout", 30),
            after=tuple(after),
            document_url=path,
            conference_events_url=self._resolve(path, events) if events else None,
        )
        return turn

    def _enqueue(self, verb, path: str, turn: SimulatedTurn) -> SimulatedTurn:
        check_method(verb)
        wait_url = verb.get("waitUrl")
        action = verb.get("action")
        turn.queue = QueueEntry(
            name=(verb.text or "").strip(),
            wait_url=self._resolve(path, wait_url) if wait_url else None,
            action_url=self._resolve(path, action) if action else None,
        )
        if turn.queue.wait_url:
            check_method(verb, "waitUrlMethod")
            turn.hold = self._hold_music(turn.queue, turn.exchanges)
        return turn

    def _hold_music(self, entry: QueueEntry, exchanges: list) -> list[Speech]:
        """Fetch the wait URL once, as Twilio does when the caller joins the queue."""
        form = {
            "QueueSid": self.queue_sid,
            "QueuePosition": "1",
            "QueueTime": "0",
            "AvgQueueTime": "0",
            "CurrentQueueSize": "1",
            "MaxQueueSize": "100",
        }
        verbs = parse_twiml(self._post(entry.wait_url, form, exchanges), entry.wait_url)
        heard = [speech_of(verb) for verb in verbs]
        return [
            s if s is not None else Speech("note", f"<{v.tag}> in the wait URL is not simulated")
            for s, v in zip(heard, verbs, strict=True)
        ]

    def _redirect(self, verb, path: str, turn: SimulatedTurn, redirects: int) -> SimulatedTurn:
        check_method(verb)
        if redirects >= MAX_REDIRECTS:
            raise SimulatorError(f"more than {MAX_REDIRECTS} redirects in a row from {path}")
        target = self._resolve(path, (verb.text or "").strip() or path)
        verbs = parse_twiml(self._post(target, {}, turn.exchanges), target)
        return self._play(verbs, target, turn, redirects + 1)

    def _resolve(self, current_path: str, url: str) -> str:
        return public_path(self.transport.public_base_url, current_path, url)
