"""GET/POST /inquiry: the same lookup, disclosure and throttling as the IVR, on a web page.

Throttling uses one mechanism for both limits: LookupAttempt rows (channel "web"). The
per-number limit is the IVR's own (failures from every channel count together); the
per-address limit counts this address's failed lookups in the last hour, as the IVR
counts a caller number's.
"""
from __future__ import annotations

import dataclasses
import re
import secrets
import tomllib
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date
from flask import current_app, make_response, render_template, request

from domain.clock import local_today
from domain.letters.lookup import EARLIEST_DATE, ascii_digits, check_date, check_number, find_transactions
from domain.letters.throttle import Limits, Throttle, failed_lookups, lock_lookups, record_attempt
from extensions import db
from inquiry import bp

LANGUAGES = ("ar", "ckb", "en")
BABEL_LOCALES = {"ar": "ar_IQ", "ckb": "ckb", "en": "en"}
DATE_FORMS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),      # <input type=date>
    re.compile(r"(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4})"),  # 15/03/2024
    re.compile(r"(?P<d>\d{2})(?P<m>\d{2})(?P<y>\d{4})"),              # 15032024, as on the phone
)
NO_CALL = 10**9  # the per-call limit of the IVR has no meaning on the web


@lru_cache(maxsize=None)
def texts_of(language: str) -> dict:
    with open(Path(__file__).with_name("texts.toml"), "rb") as handle:
        return tomllib.load(handle)[language]


def chosen_language() -> str:
    lang = request.values.get("lang", "")
    return lang if lang in LANGUAGES else "ar"


def keyed_date(text: str) -> str:
    """A typed date in any of the usual forms -> DDMMYYYY, checked by the IVR's own rules."""
    text = ascii_digits(text.strip())
    for form in DATE_FORMS:
        found = form.fullmatch(text)
        if found:
            return f"{int(found['d']):02d}{int(found['m']):02d}{found['y']}"
    return "invalid"


def web_limits() -> Limits:
    config = current_app.config
    return dataclasses.replace(Limits.from_config(config), per_call=NO_CALL,
                               per_caller_hour=config["INQUIRY_LIMIT_PER_ADDRESS_HOUR"])


def result_view(letter, lang: str) -> dict:
    """Status, holder and the date of the last change: nothing else leaves the building."""
    texts = texts_of(lang)
    return {
        "direction": texts[f"direction.{letter.direction.value}"],
        "status": texts[f"status.{letter.status.value}"],
        "holder": letter.holder.name(lang),
        "changed": format_date(letter.status_date, "d MMMM y", locale=BABEL_LOCALES[lang]),
    }


def page(lang: str, status: int = 200, **context):
    today = local_today(current_app.config["TIMEZONE"])
    response = make_response(render_template(
        "inquiry/page.html", lang=lang, t=texts_of(lang), languages=LANGUAGES,
        today=today.isoformat(), earliest=EARLIEST_DATE.isoformat(), **context,
    ), status)
    response.headers["Cache-Control"] = "no-store"  # a result must not linger in a shared cache
    return response


@bp.get("")
def form():
    return page(chosen_language())


@bp.post("")
def look_up():
    lang = chosen_language()
    typed_number = request.form.get("number", "")[:40]
    typed_date = request.form.get("date", "")[:40]
    entered = {"number": typed_number, "date": typed_date}
    number = check_number(ascii_digits(typed_number.strip()))
    if not number.ok:
        return page(lang, 400, error="bad_number", entered=entered)
    on = check_date(keyed_date(typed_date), local_today(current_app.config["TIMEZONE"]))
    if not on.ok:
        return page(lang, 400, error="bad_date", entered=entered)
    who = f"web:{request.remote_addr or 'unknown'}"
    limits = web_limits()
    lock_lookups(caller_key=who, number=number.value)
    throttled = failed_lookups(limits, caller_key=who, number=number.value).throttle(limits)
    if throttled is not None:
        key = "throttled_number" if throttled is Throttle.per_number else "throttled"
        return page(lang, 429, error=key, entered=entered)
    letters = find_transactions(number.value, on.value)
    record_attempt(dedupe_key=f"web-{secrets.token_hex(12)}", caller_key=who, number=number.value,
                   found=bool(letters), channel="web")
    db.session.commit()
    if not letters:
        # One message whether the number or the date was wrong: never tell which.
        return page(lang, 200, error="not_found", entered=entered)
    return page(lang, 200, results=[result_view(letter, lang) for letter in letters], entered=entered)
