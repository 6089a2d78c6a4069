"""Does every prompt the code speaks exist in every language, with the same placeholders?"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.letters.lookup import check_date, check_number
from ivr.conversation import THROTTLED_PROMPTS
from models import ComplaintStatus, Status
from voice_prompts import LANGUAGES, catalog, extra_clips, placeholders, render_text

ROOT = Path(__file__).resolve().parents[2]
# Keys built from values at run time, in the families the code uses.
DYNAMIC_KEYS = (
    {f"status.{s.value}" for s in Status}
    | {f"language_option.{lang}" for lang in LANGUAGES}
    | {f"invalid.number.{reason}" for reason in ("empty", "not_digits", "too_long")}
    | {f"invalid.date.{reason}" for reason in ("empty", "wrong_length", "not_a_date", "in_future", "too_old")}
    | {f"complaint_status.{s.value}" for s in ComplaintStatus}
    | {key for prompts in THROTTLED_PROMPTS.values() for key in prompts.values()}
)


def keys_in_code() -> set[str]:
    found = set()
    for path in (ROOT / "ivr").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'(?:say|render)\(\s*"([a-z_.]+)"', source))
        found |= set(re.findall(r'choice_retry\([^)]*?"ivr\.[a-z_]+", "([a-z_]+)"', source, re.S))
        found |= set(re.findall(r'retry_or_hand_off\([^)]*?"ivr\.[a-z_]+", "([a-z_]+)"', source, re.S))
    return found


def test_the_code_uses_keys_we_can_find():
    assert {"welcome", "ask_number", "status_found", "goodbye", "readback_date"} <= keys_in_code()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_the_code_uses_exists(language):
    missing = (keys_in_code() | DYNAMIC_KEYS) - set(catalog(language))
    assert not missing, f"{language} lacks {sorted(missing)}"


def test_error_reasons_are_the_ones_the_checks_give():
    from datetime import date

    reasons = {check_number(x).error for x in ("", "12a", "1" * 13)}
    reasons |= {check_date(x, date(2026, 1, 1)).error for x in ("", "1", "31022024", "01011999", "01012027")}
    assert {f"invalid.number.{r}" for r in reasons if r in {"empty", "not_digits", "too_long"}} <= DYNAMIC_KEYS
    assert {"empty", "not_digits", "too_long", "wrong_length", "not_a_date", "in_future", "too_old"} == reasons


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogs_have_the_same_keys_and_placeholders(language):
    reference = catalog("en")
    other = catalog(language)
    assert set(other) == set(reference)
    for key, template in reference.items():
        assert placeholders(other[key]) == placeholders(template), key


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_prompt_is_empty(language):
    assert all(text.strip() for text in catalog(language).values())


def test_kurdish_digit_clips_cover_every_digit():
    clips = extra_clips("ckb")
    assert {f"digit.{d}" for d in range(10)} <= set(clips)
    assert clips["month.1"] == "کانوونی دووەم"


def test_arabic_uses_iraqi_month_names():
    from datetime import date

    from voice_prompts import SpokenDate

    text = render_text("readback_date", "ar", date=SpokenDate(date(2025, 1, 9)))
    assert "9 كانون الثاني 2025" in text
