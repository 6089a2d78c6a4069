"""The supervisors' audit log page: who viewed, searched or exported what, filterable and paged."""

from __future__ import annotations

import re

from flask import current_app, flash, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from agent_console import bp
from agent_console.access import supervisor_required
from agent_console.call_log import read_day_range
from agent_console.labels import label
from agent_console.paging import page_cursor
from domain.audit import AuditFilters, audit_log_page, user_choices
from domain.letters.lookup import ascii_digits

PAGE_SIZE = 50
MAX_FIELD = 64
ACTION_CODE = re.compile(r"^[a-z][a-z_]{0,39}$")
TARGET_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FIELDS = ("user", "action", "start", "end", "target_type", "target_id")

# The actions the console records, as the page names them; a newer code shows as is.
ACTIONS = {
    "login": _l("Logged in"),
    "logout": _l("Logged out"),
    "search": _l("Searched"),
    "view_transaction": _l("Viewed a letter"),
    "view_call": _l("Viewed a call's timeline"),
    "export": _l("Exported"),
    "take_call": _l("Took a call"),
    "callback_create": _l("Added a callback request"),
    "callback_take": _l("Took a callback"),
    "callback_call": _l("Placed a callback call"),
    "callback_release": _l("Gave back a callback"),
    "callback_close": _l("Closed a callback"),
    "user_create": _l("Created a user"),
    "user_activate": _l("Reactivated a user"),
    "user_deactivate": _l("Deactivated a user"),
    "lookup_alarm": _l("Alarm: failed letter lookups jumped"),
    "send_sms": _l("Sent a letter's status by SMS"),
    "attach_letter": _l("Attached a letter to a call"),
    "view_complaint": _l("Viewed a complaint"),
    "download_attachment": _l("Downloaded a complaint's attachment"),
    "file_complaint": _l("Recorded a complaint on a call"),
    "prompt_take": _l("Recorded a voice prompt"),
    "prompt_approve": _l("Approved a voice prompt"),
    "presence_set": _l("Set an agent's state"),
    "agent_logout": _l("Logged an agent out"),
    "user_languages": _l("Changed an agent's languages"),
    "call_hold": _l("Put a caller on hold"),
    "call_resume": _l("Took a caller off hold"),
    "call_mute": _l("Muted their microphone"),
    "call_unmute": _l("Unmuted their microphone"),
    "call_consult": _l("Called a colleague to consult"),
    "call_consult_end": _l("Ended a consultation"),
    "call_join": _l("Joined the caller and a colleague"),
    "call_transfer": _l("Handed a call over"),
    "call_tones": _l("Sent tones to an outside number"),
    "play_recording": _l("Played a call's recording"),
    "delete_recording": _l("Deleted a call's recording"),
}
TARGETS = {
    "transaction": _l("Letter"),
    "call": _l("Call"),
    "callback": _l("Callback"),
    "user": _l("User"),
    "complaint": _l("Complaint"),
    "prompt_recording": _l("Voice prompt"),
}
# The names of the details entries keep (search terms, filters, what changed); a newer one shows as is.
DETAIL_KEYS = {
    "by": _l("By"),
    "number": _l("Letter number"),
    "date": _l("Date"),
    "phone": _l("Phone"),
    "caller": _l("Caller"),
    "matches": _l("Found"),
    "refused": _l("Refused"),
    "call_id": _l("Call"),
    "transaction_id": _l("Letter"),
    "attachment_id": _l("Attachment"),
    "target": _l("Colleague"),
    "label": _l("Outside number"),
    "tones": _l("Tones"),
    "kind": _l("Kind"),
    "start": _l("From"),
    "end": _l("To"),
    "outcome": _l("Outcome"),
    "agent_id": _l("Agent"),
    "language": _l("Language"),
    "languages": _l("Languages"),
    "status": _l("Status"),
    "direction": _l("Direction"),
    "part": _l("Side"),
    "presence": _l("State"),
    "reason": _l("Reason"),
    "clip": _l("Prompt"),
    "recording": _l("Recording"),
    "code": _l("Code"),
    "period": _l("Period"),
    "username": _l("Username"),
    "role": _l("Role"),
    "entity_id": _l("Entity"),
}
# Detail values that are codes of a vocabulary the console has words for (labels.py).
DETAIL_VALUES = {
    "language": "language",
    "languages": "language",
    "outcome": "outcome",
    "role": "role",
    "presence": "presence",
    "reason": "away_reason",
}
SEARCH_BY = {
    "transaction": _l("letter number and date"),
    "phone": _l("phone number"),
    "caller": _l("the caller's number"),
}


def action_label(code: str) -> str:
    return str(ACTIONS.get(code, code))


def target_label(code: str | None) -> str:
    return str(TARGETS.get(code, code)) if code else ""


def target_url(kind: str | None, target_id: str | None) -> str | None:
    """Where a target can be opened, for the kinds that have a page of their own."""
    if not target_id or not target_id.isdigit():
        return None
    if kind == "call":
        return url_for("console.call_timeline", call_id=int(target_id))
    if kind == "transaction":
        return url_for("console.transaction", transaction_id=int(target_id))
    return None


def read_filters(args) -> tuple[AuditFilters, dict[str, str], dict[str, str]]:
    """(the checked filters, the raw values to show again, an error message per field)."""
    raw = {name: str(args.get(name, "") or "")[:MAX_FIELD].strip() for name in FIELDS}
    values: dict = {}
    errors: dict[str, str] = {}
    if raw["user"]:
        digits = ascii_digits(raw["user"])
        if digits.isascii() and digits.isdigit() and 0 < int(digits) < 2**31:
            values["user_id"] = int(digits)
        else:
            errors["user"] = _("Choose a user from the list.")
    if raw["action"]:
        if ACTION_CODE.match(raw["action"]):
            values["action"] = raw["action"]
        else:
            errors["action"] = _("Choose an action from the list.")
    read_day_range(raw, values, errors)
    if raw["target_type"]:
        if raw["target_type"] in TARGETS:
            values["target_type"] = raw["target_type"]
        else:
            errors["target_type"] = _("Choose what was looked at from the list.")
    if raw["target_id"]:
        target_id = ascii_digits(raw["target_id"])
        if TARGET_ID.match(target_id):
            values["target_id"] = target_id
        else:
            errors["target_id"] = _("A record number has letters and digits only.")
    return AuditFilters(**values), raw, errors


def detail_value(key: str, value) -> str:
    """One detail's value in words where it is a code the console knows, else as kept."""
    values = value if isinstance(value, list) else [value]
    if key == "by":
        return ", ".join(str(SEARCH_BY.get(str(item), item)) for item in values)
    if key in DETAIL_VALUES:
        return ", ".join(label(DETAIL_VALUES[key], str(item)) for item in values)
    return ", ".join(map(str, values))


def detail_items(detail) -> list[tuple[str, str]]:
    """An entry's detail (search terms, filters) as short pairs to read, in the user's words."""
    if not isinstance(detail, dict):
        return []
    return [(str(DETAIL_KEYS.get(key, key)), detail_value(str(key), value)) for key, value in detail.items()]


@bp.get("/audit")
@supervisor_required
def audit_log():
    filters, raw, errors = read_filters(request.args)
    page = None
    if not errors:
        cursor, direction, cursor_ok = page_cursor()
        if not cursor_ok:
            flash(_("That page link is not valid any more; here is the first page."), "warning")
        page = audit_log_page(
            filters, tz_name=current_app.config["TIMEZONE"], size=PAGE_SIZE, cursor=cursor, direction=direction
        )
    kept = {name: value for name, value in raw.items() if value}
    return render_template(
        "console/audit_log.html",
        raw=raw,
        kept=kept,
        errors=errors,
        page=page,
        users=user_choices(),
        actions=ACTIONS,
        targets=TARGETS,
        action_label=action_label,
        target_label=target_label,
        target_url=target_url,
        detail_items=detail_items,
    ), 422 if errors else 200
