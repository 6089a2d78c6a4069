"""Finding a letter by (number, date): one function for the IVR, the console and the inquiry page.

`look_up_letter` is the citizen's lookup under the anti-guessing policy, for the IVR and
the inquiry page alike; the agents' search (no limits) calls `find_transactions` directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select

from domain.letters.alarm import check_failures
from domain.letters.throttle import Limits, Throttle, failed_lookups, lock_lookups, record_attempt
from extensions import db
from models import Transaction

MAX_NUMBER_DIGITS = 12
EARLIEST_DATE = date(2000, 1, 1)
# Arabic-Indic and Eastern Arabic-Indic digits, as typed on Arabic and Kurdish keyboards.
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)


def ascii_digits(text: str) -> str:
    """The same text with ٠-٩ and ۰-۹ written as 0-9, so typed numbers check the same."""
    return text.translate(_ARABIC_DIGITS)


@dataclass(frozen=True)
class Checked:
    """A keyed-in value after checking: `value` when good, else `error` names why not."""

    value: Any = None  # a str for a number, a date for a date
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_number(digits: str | None) -> Checked:
    """A transaction number: 1 to 12 digits (the # that ends it is already removed)."""
    text = (digits or "").strip()
    if not text:
        return Checked(error="empty")
    if not text.isascii() or not text.isdigit():
        return Checked(error="not_digits")
    if len(text) > MAX_NUMBER_DIGITS:
        return Checked(error="too_long")
    return Checked(value=text)


def check_date(digits: str | None, today: date) -> Checked:
    """A letter's date keyed as DDMMYYYY: a real day, not in the future, not before 2000."""
    text = (digits or "").strip()
    if not text:
        return Checked(error="empty")
    if not text.isascii() or not text.isdigit() or len(text) != 8:
        return Checked(error="wrong_length")
    try:
        value = date(int(text[4:8]), int(text[2:4]), int(text[0:2]))
    except ValueError:
        return Checked(error="not_a_date")
    if value > today:
        return Checked(error="in_future")
    if value < EARLIEST_DATE:
        return Checked(error="too_old")
    return Checked(value=value)


# Dates as people type them: YYYY-MM-DD as a browser's date picker sends it, and DD/MM/YYYY
# (also with - or ., a one-digit day or month, spaces around the separators).
_ISO_DATE = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})")
_DAY_FIRST = re.compile(r"(?P<d>\d{1,2})\s*[/.\-]\s*(?P<m>\d{1,2})\s*[/.\-]\s*(?P<y>\d{4})")


def date_digits(text: str | None) -> str:
    """A typed date as the IVR's DDMMYYYY digits; other text unchanged, for check_date to judge."""
    text = ascii_digits(text or "").strip()
    for form in (_ISO_DATE, _DAY_FIRST):
        if found := form.fullmatch(text):
            return f"{int(found['d']):02d}{int(found['m']):02d}{found['y']}"
    return text  # DDMMYYYY as keyed on a phone, or something check_date will explain


def check_typed_date(text: str | None, today: date) -> Checked:
    """A date typed on a page (the console's search, the inquiry page), by the IVR's rules."""
    return check_date(date_digits(text), today)


_BY_NUMBER_AND_DATE = (
    select(Transaction)
    .where(Transaction.number == bindparam("number"), Transaction.date == bindparam("on"))
    .order_by(Transaction.direction)
)


def find_transactions(number: str, on: date) -> list[Transaction]:
    """Every letter with this number and date: none, one, or one per direction."""
    rows = db.session.execute(_BY_NUMBER_AND_DATE, {"number": number, "on": on}).scalars()
    return list(rows.unique())


# --- a citizen's lookup, under the limits on guessing ---------------------------------

# Limits after which a failure ends the guessing of this call or caller (not of a number:
# the caller may still ask about another letter).
_LAST_TRY = {Throttle.per_call, Throttle.per_caller}


@dataclass(frozen=True)
class LetterLookup:
    """What came of a citizen's lookup: refused (`throttled`), found (`letters`) or not found."""

    letters: tuple[Transaction, ...] = ()
    throttled: Throttle | None = None
    # Not found, and that failure used up this call's or this caller's last try.
    last_try: bool = False

    @property
    def found(self) -> bool:
        return bool(self.letters)


def look_up_letter(
    number: str,
    on: date,
    *,
    who: str,
    limits: Limits,
    attempt_key: str,
    call_sid: str | None = None,
    channel: str = "ivr",
    commit: bool = True,
) -> LetterLookup:
    """Look up a letter for `who` (a caller key, or "web:<address>"), counting the attempt.

    The limits are checked and the attempt written under one lock per caller and number,
    so that a burst of guesses is counted one after the other. `attempt_key` identifies
    the request: a replayed webhook is judged as the original was and counted once. The
    channels differ only in their `limits` (the web has no call) and `channel`. A voice
    webhook passes commit=False: its step commits everything at once (see ivr/steps.py).
    A failure may raise the alarm over every caller and address (domain/letters/alarm.py).
    """
    lock_lookups(caller_key=who, number=number)
    failed = failed_lookups(limits, caller_key=who, call_sid=call_sid, number=number, exclude_key=attempt_key)
    throttled = failed.throttle(limits)
    if throttled is not None:
        outcome = LetterLookup(throttled=throttled)
    else:
        letters = tuple(find_transactions(number, on))
        record_attempt(
            dedupe_key=attempt_key,
            caller_key=who,
            number=number,
            found=bool(letters),
            call_sid=call_sid,
            channel=channel,
        )
        outcome = LetterLookup(
            letters=letters,
            last_try=not letters and failed.plus_one().throttle(limits) in _LAST_TRY,
        )
        if not letters:
            check_failures(limits.alarm_failures, limits.alarm_window_s)
    if commit:
        db.session.commit()
    return outcome
