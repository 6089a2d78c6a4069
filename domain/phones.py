"""Phone numbers, parsed and formatted with `phonenumbers` (region IQ by default)."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

ANONYMOUS = "anonymous"
# What Twilio and carriers put in From when the caller withholds the number.
WITHHELD = {"", "anonymous", "restricted", "unknown", "private", "unavailable", "+266696687"}


def normalize_phone(raw: str | None, region: str = "IQ") -> str | None:
    """E.164 for a valid number, None for a withheld or unusable one."""
    if raw is None or raw.strip().lower() in WITHHELD:
        return None
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def caller_key(e164: str | None) -> str:
    """The throttling bucket of a caller: withheld numbers share one."""
    return e164 or ANONYMOUS


def national_format(e164: str | None, region: str = "IQ") -> str:
    if not e164:
        return ""
    try:
        parsed = phonenumbers.parse(e164, region)
    except NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(parsed) == region:
        return phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, PhoneNumberFormat.INTERNATIONAL)


def is_valid_number(e164: str | None) -> bool:
    """Whether a (normalised) number is one that can really be dialled, not merely possible."""
    if not e164:
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(e164, None))
    except NumberParseException:
        return False


def is_mobile(e164: str | None) -> bool:
    if not e164:
        return False
    try:
        parsed = phonenumbers.parse(e164, None)
    except NumberParseException:
        return False
    return phonenumbers.number_type(parsed) in {
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
