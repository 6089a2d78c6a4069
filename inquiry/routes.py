"""GET/POST /inquiry: the same lookup, disclosure and throttling as the IVR, on a web page.

Throttling uses one mechanism for both limits: LookupAttempt rows (channel "web"). The
per-number limit is the IVR's own (failures from every channel count together); the
per-address limit counts this address's failed lookups in the last hour, as the IVR
counts a caller number's. An IPv6 address is counted with its whole network
(INQUIRY_IPV6_PREFIX bits, /64 by default): a client given a /64 has 2^64 addresses.
"""

from __future__ import annotations

import dataclasses
import secrets
import tomllib
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date
from flask import current_app, make_response, render_template, request

from domain.clock import local_today
from domain.languages import BABEL_LOCALES, LANGUAGES, language_or_default
from domain.letters.lookup import EARLIEST_DATE, ascii_digits, check_number, check_typed_date, look_up_letter
from domain.letters.throttle import Limits, Throttle, web_caller_key
from inquiry import bp


@lru_cache(maxsize=None)
def texts_of(language: str) -> dict:
    with open(Path(__file__).with_name("texts.toml"), "rb") as handle:
        return tomllib.load(handle)[language]


def chosen_language() -> str:
    return language_or_default(request.values.get("lang"))


def web_limits() -> Limits:
    """The IVR's per-number limit; no call to limit; the address's hourly limit as the caller's."""
    config = current_app.config
    return dataclasses.replace(
        Limits.from_config(config), per_call=None, per_caller_hour=config["INQUIRY_LIMIT_PER_ADDRESS_HOUR"]
    )


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
    response = make_response(
        render_template(
            "inquiry/page.html",
            lang=lang,
            t=texts_of(lang),
            languages=LANGUAGES,
            today=today.isoformat(),
            earliest=EARLIEST_DATE.isoformat(),
            **context,
        ),
        status,
    )
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
    on = check_typed_date(typed_date, local_today(current_app.config["TIMEZONE"]))
    if not on.ok:
        return page(lang, 400, error="bad_date", entered=entered)
    lookup = look_up_letter(
        number.value,
        on.value,
        who=web_caller_key(request.remote_addr, current_app.config["INQUIRY_IPV6_PREFIX"]),
        limits=web_limits(),
        attempt_key=f"web-{secrets.token_hex(12)}",
        channel="web",
    )
    if lookup.throttled is not None:
        key = "throttled_number" if lookup.throttled is Throttle.per_number else "throttled"
        return page(lang, 429, error=key, entered=entered)
    if not lookup.found:
        # One message whether the number or the date was wrong: never tell which.
        return page(lang, 200, error="not_found", entered=entered)
    return page(lang, 200, results=[result_view(letter, lang) for letter in lookup.letters], entered=entered)
