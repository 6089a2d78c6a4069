"""One turn of the conversation: what Twilio sent, what we will say, and where it goes next.

Call state travels in the (signed) action URLs and on the Call row, never in a process,
so any web node can answer any step of any call.
"""

from __future__ import annotations

from datetime import date

from flask import current_app, request, url_for

from domain.calls.record import request_key
from domain.languages import language_or_default
from ivr import twiml
from voice_prompts import Voices, render

MAX_SEQUENCE = 100_000


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "")
    try:
        value = int(raw)
    except ValueError:
        return default
    return min(max(value, low), high)


def date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


class Turn:
    """Reads one webhook request and builds the TwiML that answers it."""

    def __init__(self, voices: Voices | None = None):
        config = current_app.config
        form = request.form
        self.sid = form.get("CallSid", "")[:64]
        self.digits = form.get("Digits")
        # Unique to this request of the call (the URL carries a sequence number): a replay
        # of it has the same key.
        self.request_key = request_key(self.sid, request.full_path, self.digits or "")
        self.lang = language_or_default(request.args.get("lang"))
        self.seq = int_arg("s", 0, 0, MAX_SEQUENCE)
        self.tries = int_arg("t", 1, 1, 50)
        self.timeout = config["GATHER_TIMEOUT_S"]
        self.max_tries = config["INPUT_TRIES"]
        self.voices = voices or Voices.from_config(config)
        self.spoken: list[str] = []
        self.segments: list = []

    # --- speech ---------------------------------------------------------------------
    def say(self, key: str, language: str | None = None, **values) -> "Turn":
        self.segments.extend(render(key, language or self.lang, self.voices, **values))
        self.spoken.append(key)
        return self

    # --- where the caller goes next ---------------------------------------------------
    def url(self, endpoint: str, **params) -> str:
        """A relative action URL carrying the language and the next sequence number.

        The sequence number makes every legitimate request of a call unique, so that an
        identical request can only be Twilio replaying one.
        """
        params = {k: v for k, v in params.items() if v is not None}
        return url_for(endpoint, lang=self.lang, s=self.seq + 1, **params)

    def ask(self, endpoint: str, *, num_digits: int | None = 1, finish_on_key: str | None = None, **params):
        if num_digits == 1 and finish_on_key is None:
            finish_on_key = ""  # on a one-key menu, # is a wrong key, not "end of input"
        return twiml.ask(
            self.segments,
            action=self.url(endpoint, **params),
            timeout=self.timeout,
            num_digits=num_digits,
            finish_on_key=finish_on_key,
        )

    def hang_up(self):
        return twiml.say_and_hang_up(self.segments)

    def enqueue(self, queue: str):
        return twiml.enqueue(
            self.segments,
            queue=queue,
            wait_url=url_for("ivr.queue_wait", lang=self.lang),
            action=self.url("ivr.queue_left"),
        )

    @property
    def out_of_tries(self) -> bool:
        return self.tries >= self.max_tries
