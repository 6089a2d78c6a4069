"""Words the console shows for stored codes (statuses, directions, outcomes...), in the UI language."""

from __future__ import annotations

from flask import current_app
from flask_babel import get_locale, gettext as _, lazy_gettext as _l

from agent_console import bp
from domain.phones import national_format
from voice_prompts import catalog, placeholders, render_text

LABELS = {
    "status": {
        "received": _l("Received"),
        "under_review": _l("Under review"),
        "forwarded": _l("Forwarded"),
        "awaiting_reply": _l("Awaiting reply"),
        "replied": _l("Replied"),
        "returned": _l("Returned"),
    },
    "direction": {
        "to_federal": _l("Region → Federal"),
        "to_region": _l("Federal → Region"),
    },
    "outcome": {
        "self_served": _l("Self-served"),
        "agent_answered": _l("Answered by an agent"),
        "abandoned_in_queue": _l("Abandoned in queue"),
        "callback_requested": _l("Callback requested"),
        "after_hours": _l("After hours"),
        "failed_input": _l("Failed input"),
        "throttled": _l("Throttled"),
        "hung_up_in_ivr": _l("Hung up in the IVR"),
        "error": _l("Error"),
    },
    "callback_status": {
        "pending": _l("Pending"),
        "in_progress": _l("In progress"),
        "done": _l("Done"),
        "cancelled": _l("Cancelled"),
    },
    "callback_source": {"ivr": _l("IVR"), "agent": _l("Agent")},
    # the call's disposition, config DISPOSITIONS
    "disposition": {
        "status_given": _l("Status given"),
        "status_explained": _l("Status explained"),
        "wrong_office": _l("Wrong office"),
        "complaint_logged": _l("Complaint logged"),
        "callback_promised": _l("Callback promised"),
        "transferred": _l("Transferred"),
        "no_record": _l("No record found"),
        "silent_or_dropped": _l("Silent or dropped"),
    },
    "presence": {
        "available": _l("Available"),
        "away": _l("Away"),
        "on_call": _l("On a call"),
        "wrap_up": _l("Wrap-up"),
        "offline": _l("Offline"),
    },
    # Why an agent is away (AWAY_REASONS; a reason added there is shown as written).
    "away_reason": {
        "break": _l("Break"),
        "prayer": _l("Prayer"),
        "lunch": _l("Lunch"),
        "training": _l("Training"),
        "admin": _l("Admin work"),
        "missed": _l("Missed a call"),
    },
    "role": {"officer": _l("officer"), "agent": _l("agent"), "supervisor": _l("supervisor"), "admin": _l("admin")},
    "endpoint_kind": {"client": _l("Browser (Twilio Client)"), "sip": _l("SIP"), "phone": _l("Phone")},
    # Each language is named in itself, as on the language menus.
    "language": {"ar": "العربية", "ckb": "کوردی", "en": "English"},
}

# Badge colours for statuses that an agent should notice at a glance.
TONES = {
    "status": {"replied": "good", "returned": "bad", "awaiting_reply": "warn"},
    "callback_status": {"pending": "warn", "in_progress": "", "done": "good", "cancelled": "bad"},
    "presence": {"available": "good", "on_call": "warn", "wrap_up": "warn", "offline": "bad"},
}


def label(kind: str, value) -> str:
    """The word for a stored code; the code itself when the vocabulary has grown."""
    code = getattr(value, "value", value)
    if code is None:
        return ""
    return str(LABELS.get(kind, {}).get(code, code))


# Why an SMS was not sent or failed, from the outbox's error (domain.sms), in words.
SMS_REASONS = {
    "sms disabled": _l("SMS is switched off on this hotline"),
    "demo letter": _l("this is a demonstration letter"),
    "real Twilio API outside production": _l("this is not the production system"),
}


def sms_reason(error: str | None) -> str:
    """The outbox's error in words: why not sent, or Twilio's error code; "" for none."""
    if not error:
        return ""
    found = next((text for prefix, text in SMS_REASONS.items() if error.startswith(prefix)), None)
    if found is not None:
        return str(found)
    if error.startswith("twilio "):
        return _("Twilio error %(code)s", code=error.removeprefix("twilio "))
    return ""


def tone(kind: str, value) -> str:
    return TONES.get(kind, {}).get(getattr(value, "value", value), "")


def phone(e164: str | None) -> str:
    return national_format(e164, current_app.config["DEFAULT_PHONE_REGION"])


def entity_name(entity) -> str:
    """An entity's name in the console's language (Arabic when no translation is kept)."""
    return entity.name(str(get_locale())) if entity is not None else ""


@bp.app_context_processor
def label_helpers():
    return {"label": label, "tone": tone, "phone": phone, "entity_name": entity_name}


# The IVR's step codes (CallEvent.step) as the call screen names them.
STEP_LABELS = {
    "incoming": _l("Call answered"),
    "language": _l("Language chosen"),
    "menu": _l("Main menu"),
    "number": _l("Letter number keyed"),
    "number_confirm": _l("Number confirmed"),
    "date": _l("Letter date keyed"),
    "date_confirm": _l("Date confirmed"),
    "direction": _l("Direction chosen"),
    "result": _l("After the status"),
    "not_found_menu": _l("After not found"),
    "callback": _l("Callback offer"),
    "queue_left": _l("Left the queue"),
    "agent_take": _l("Taken by an agent"),
    "agent_connect": _l("Ringing the agent"),
    "agent_done": _l("Agent's leg ended"),
    "callback_connect": _l("Callback answered: ringing the agent"),
    "status": _l("Call ended"),
}


def step_label(step: str) -> str:
    return str(STEP_LABELS.get(step, step))


def prompt_text(key: str, language: str) -> str | None:
    """What the prompt says in `language`; a placeholder (a number, a date) shows as '…',
    since the call keeps which prompts were spoken, not the values spoken in them."""
    template = catalog(language).get(key)
    if template is None:
        return None
    if not placeholders(template):
        return render_text(key, language)
    return template.format(**{name: "…" for name in placeholders(template)})
