"""Complaint codes: digits only, so a caller can key one in on a phone.

Ten digits: nine drawn at random by `secrets` (not sequential: one code tells nothing about
another), the first never 0, then a Damm check digit (python-stdnum's). Damm's check catches
every single mistyped digit and every swap of two neighbouring digits, so a mistyped code
is refused as "not a code" before anything is looked up.
"""

from __future__ import annotations

import secrets

from stdnum import damm

LENGTH = 10  # nine random digits and the check digit


def new_code() -> str:
    body = str(1 + secrets.randbelow(9)) + "".join(str(secrets.randbelow(10)) for _ in range(LENGTH - 2))
    return body + damm.calc_check_digit(body)


def clean(text: str | None) -> str:
    """Digits only: what a citizen typed with spaces or dashes, or keyed on a phone."""
    if not text:
        return ""
    return "".join(ch for ch in text if ch in "0123456789")


def is_valid(code: str | None) -> bool:
    """The right length, ASCII digits only, and the check digit right."""
    if code is None or len(code) != LENGTH or not (code.isascii() and code.isdigit()):
        return False
    return damm.is_valid(code)


def spaced(code: str) -> str:
    """Written for people: 123 456 7890."""
    return f"{code[:3]} {code[3:6]} {code[6:]}"
