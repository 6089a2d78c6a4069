"""Voice prompts as data: one catalog per language, rendered into speech segments.

Arabic and English are spoken by Twilio <Say>. Kurdish has no Twilio voice, so a Kurdish
prompt is a sequence of recorded clips played with <Play>; a prompt whose clips are not
all approved yet is spoken from the Arabic catalog instead, and logged. An Arabic or English
prompt whose clips are all recorded and approved is played with the human voice too.
"""

from __future__ import annotations

import logging
import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date

from domain.languages import BABEL_LOCALES, LANGUAGES  # noqa: F401  (importable from here too)

RECORDED_LANGUAGES = ("ckb",)
CATALOG_DIR = Path(__file__).resolve().parent
DATE_PATTERN = "d MMMM y"
log = logging.getLogger(__name__)
_warned: set[tuple[str, str]] = set()


# --- what a prompt renders to -------------------------------------------------------


@dataclass(frozen=True)
class Say:
    text: str
    voice: str
    language: str


@dataclass(frozen=True)
class Play:
    url: str


@dataclass(frozen=True)
class Voices:
    """How each language is spoken: the Twilio voices, and the approved recorded clips."""

    say: dict  # language -> (voice, language code) for <Say>
    audio_base_url: str
    # language -> {clip name: version}: the approved clips, the version in their URL so that
    # a clip approved again is fetched again (Twilio caches <Play> audio by URL).
    recorded: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config) -> "Voices":
        base = config.get("AUDIO_BASE_URL") or config["PUBLIC_BASE_URL"] + "/ivr/audio"
        return cls(
            say={
                "ar": (config["VOICE_AR"], config["VOICE_AR_LANGUAGE"]),
                "en": (config["VOICE_EN"], config["VOICE_EN_LANGUAGE"]),
            },
            audio_base_url=base,
        )


# --- placeholder values -------------------------------------------------------------


@dataclass(frozen=True)
class Digits:
    """A number read digit by digit."""

    value: str


@dataclass(frozen=True)
class SpokenDate:
    value: date


@dataclass(frozen=True)
class Phrase:
    """Another catalog entry, e.g. a status phrase."""

    key: str


@dataclass(frozen=True)
class EntityName:
    code: str
    names: dict  # language -> name


@dataclass(frozen=True)
class Count:
    value: int


@dataclass(frozen=True)
class Hour:
    text: str  # "08:00"


# --- catalogs -----------------------------------------------------------------------


@lru_cache(maxsize=None)
def catalog(language: str) -> dict[str, str]:
    with open(CATALOG_DIR / f"{language}.toml", "rb") as handle:
        return tomllib.load(handle)["prompts"]


@lru_cache(maxsize=None)
def extra_clips(language: str) -> dict[str, str]:
    """Clips (name -> script) for the dynamic parts: digits, days, months, years, hours."""
    with open(CATALOG_DIR / f"{language}.toml", "rb") as handle:
        clips = dict(tomllib.load(handle).get("clips", {}))
    months = Locale.parse(BABEL_LOCALES[language]).months["format"]["wide"]
    for day in range(1, 32):
        clips[f"day.{day}"] = str(day)
    for month in range(1, 13):
        clips[f"month.{month}"] = months[month]
    for year in range(2000, 2041):
        clips[f"year.{year}"] = str(year)
    for hour in range(0, 25):
        clips[f"hour.{hour}"] = f"{hour:02d}:00"
    for count in range(1, 31):
        clips[f"count.{count}"] = str(count)
    return clips


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def template_pieces(template: str) -> list[tuple[str, str | None]]:
    """(literal text, following placeholder) pairs, as string.Formatter splits them."""
    return [(text, name) for text, name, _, _ in string.Formatter().parse(template)]


def prompt_clip_names(key: str, template: str) -> list[str]:
    """The recorded pieces of one prompt: KEY when it has no placeholder, else KEY.1, KEY.2..."""
    pieces = [text for text, _ in template_pieces(template) if text.strip()]
    if not placeholders(template):
        return [key]
    return [f"{key}.{i}" for i in range(1, len(pieces) + 1)]


def clip_file(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".mp3"


def all_clip_scripts(language: str = "ckb", entities: dict | None = None) -> dict[str, str]:
    """Every clip the IVR can play in a language, with the script the voice talent reads."""
    scripts: dict[str, str] = {}
    for key, template in catalog(language).items():
        pieces = [text.strip() for text, _ in template_pieces(template) if text.strip()]
        names = prompt_clip_names(key, template)
        if not placeholders(template):
            scripts[key] = template
        else:
            scripts.update(zip(names, pieces, strict=True))
    scripts.update(extra_clips(language))
    for code, name in (entities or {}).items():
        scripts[f"entity.{code}"] = name
    return scripts


# --- rendering ----------------------------------------------------------------------


def render_text(key: str, language: str, **values) -> str:
    """A prompt as text in a language (what <Say> speaks, and what the simulator prints)."""
    template = catalog(language)[key]
    return template.format(**{name: value_text(v, language) for name, v in values.items()})


def value_text(value, language: str) -> str:
    if isinstance(value, Digits):
        return " ".join(value.value)
    if isinstance(value, SpokenDate):
        return format_date(value.value, DATE_PATTERN, locale=BABEL_LOCALES[language])
    if isinstance(value, Phrase):
        return catalog(language)[value.key]
    if isinstance(value, EntityName):
        return value.names.get(language) or value.names["ar"]
    if isinstance(value, Hour):
        return spoken_hour(value.text, language)
    if isinstance(value, Count):
        return str(value.value)
    return str(value)


def spoken_hour(text: str, language: str) -> str:
    """An opening hour as people say it: "8 a.m.", "midnight"; not "08:00" or "24:00"."""
    hours, minutes = (int(part) for part in text.split(":"))
    minute_text = f":{minutes:02d}" if minutes else ""
    if hours % 24 == 0 and not minutes:
        return {"en": "midnight", "ar": "منتصف الليل"}.get(language, text)
    if hours == 12 and not minutes:
        return {"en": "noon", "ar": "الساعة الثانية عشرة ظهراً"}.get(language, text)
    clock = hours % 12 or 12
    if language == "en":
        return f"{clock}{minute_text} {'a.m.' if hours < 12 else 'p.m.'}"
    if language == "ar":
        return f"الساعة {clock}{minute_text} {'صباحاً' if hours < 12 else 'مساءً'}"
    return text


def value_clips(value) -> list[str] | None:
    """The clips that speak a value in Kurdish, or None when it cannot be joined from clips."""
    if isinstance(value, Digits):
        return [f"digit.{d}" for d in value.value]
    if isinstance(value, SpokenDate):
        return [f"day.{value.value.day}", f"month.{value.value.month}", f"year.{value.value.year}"]
    if isinstance(value, Phrase):
        return [value.key]
    if isinstance(value, EntityName):
        return [f"entity.{value.code}"]
    if isinstance(value, Count):
        return [f"count.{value.value}"] if 1 <= value.value <= 30 else None
    if isinstance(value, Hour):
        hours, minutes = value.text.split(":")
        return [f"hour.{int(hours)}"] if minutes == "00" else None
    return None


def render(key: str, language: str, voices: Voices, **values) -> list:
    """A prompt as the segments to speak: [Play, ...] when every clip it needs is approved,
    else [Say] (Kurdish, which no voice speaks, falls back to Arabic)."""
    approved = voices.recorded.get(language) or {}
    if approved or language in RECORDED_LANGUAGES:
        clips = recorded_sequence(key, language, values)
        if clips and all(name in approved for name in clips):
            base = f"{voices.audio_base_url}/{language}/"
            return [Play(f"{base}{clip_file(name)}?v={approved[name]}") for name in clips]
    if language in RECORDED_LANGUAGES:
        if (key, language) not in _warned:  # once per prompt and process, not per call
            _warned.add((key, language))
            log.warning("prompt %s has no complete %s recording; speaking Arabic", key, language)
        return render(key, "ar", voices, **values)
    voice, code = voices.say[language]
    return [Say(render_text(key, language, **values), voice, code)]


def recorded_sequence(key: str, language: str, values: dict) -> list[str] | None:
    template = catalog(language)[key]
    if not placeholders(template):
        return [key]
    sequence: list[str] = []
    piece_names = iter(prompt_clip_names(key, template))
    for text, name in template_pieces(template):
        if text.strip():
            sequence.append(next(piece_names))
        if name:
            clips = value_clips(values[name])
            if clips is None:
                return None
            sequence.extend(clips)
    return sequence
