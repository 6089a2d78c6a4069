"""One call's timeline as the supervisor reads it: words for steps and milestones, prompt texts."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import get_locale, lazy_gettext as _l

from agent_console.labels import prompt_text, step_label
from domain.calls.timeline import Entry, call_timeline
from domain.languages import language_or_default
from models import Call

MILESTONES = {
    "queued": _l("Entered the agents' queue"),
    "queue_left": _l("Left the queue"),
    "taken": _l("Taken by an agent"),
    "answered": _l("Answered by the agent"),
    "agent_ended": _l("Agent's leg ended"),
    "wrapped_up": _l("Wrapped up"),
    "ended": _l("Call ended"),
    "sms": _l("SMS"),
    "subscribed": _l("Asked for an SMS when the letter changes"),
}
SMS_KINDS = {
    "status": _l("the letter's status, asked for in the IVR"),
    "agent": _l("the letter's status, sent by the agent"),
    "notification": _l("a change of the letter"),
}
SMS_STATUSES = {
    "pending": _l("waiting to be sent"),
    "queued": _l("waiting to be sent"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "delivered": _l("delivered"),
    "undelivered": _l("not delivered"),
    "failed": _l("failed"),
    "suppressed": _l("not sent"),  # why: the outbox's error, in words (labels.sms_reason)
}
# Steps the call screen does not name (it shows only what an agent needs).
MORE_STEPS = {"survey": _l("Satisfaction survey"), "recording": _l("Recording of the agent's part")}


@dataclass(frozen=True)
class Prompt:
    key: str
    text: str | None  # None when the catalog no longer has the key


def sms_kind_label(code: str | None) -> str:
    return str(SMS_KINDS.get(code, code or ""))


def sms_status_label(code: str | None) -> str:
    return str(SMS_STATUSES.get(code, code or ""))


def entry_title(entry: Entry) -> str:
    if entry.kind == "step":
        return str(MORE_STEPS[entry.step]) if entry.step in MORE_STEPS else step_label(entry.step)
    return str(MILESTONES.get(entry.kind, entry.kind))


def timeline_entries(call: Call) -> list[dict]:
    """The entries with their words, the prompts in the console's language."""
    language = str(get_locale())
    language = language_or_default(language, "en")
    return [
        {
            "entry": entry,
            "title": entry_title(entry),
            "prompts": [Prompt(key, prompt_text(key, language)) for key in entry.prompts],
        }
        for entry in call_timeline(call)
    ]
