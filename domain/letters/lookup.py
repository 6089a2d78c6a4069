"""Finding a letter by (number, date): one function for the IVR, the console and the inquiry page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select

from extensions import db
from models import Direction, Transaction

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

    value: object = None
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


_BY_NUMBER_AND_DATE = (
    select(Transaction)
    .where(Transaction.number == bindparam("number"), Transaction.date == bindparam("on"))
    .order_by(Transaction.direction)
)


def find_transactions(number: str, on: date) -> list[Transaction]:
    """Every letter with this number and date: none, one, or one per direction."""
    rows = db.session.execute(_BY_NUMBER_AND_DATE, {"number": number, "on": on}).scalars()
    return list(rows.unique())


def find_transaction(number: str, on: date, direction: Direction | None = None) -> Transaction | None:
    matches = find_transactions(number, on)
    if direction is not None:
        matches = [t for t in matches if t.direction == direction]
    return matches[0] if len(matches) == 1 else None
