"""The prompt studio: every clip the IVR can play, its takes, which one is approved, and the
approved set the IVR reads (from the database, so every web node plays the same clips).

A clip is missing (no take), recorded (its current take awaits approval) or approved (its
current take is the live one). Every take is kept: an earlier one can be made current again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select, update

from domain.clock import utcnow
from domain.prompts.audio import convert_clip
from extensions import db
from models import Entity, PromptRecording, User
from voice_prompts import (
    Count,
    Digits,
    EntityName,
    Hour,
    Phrase,
    SpokenDate,
    all_clip_scripts,
    catalog,
    clip_file,
    placeholders,
    prompt_clip_names,
    recorded_sequence,
)

log = logging.getLogger(__name__)
STUDIO_LANGUAGES = ("ckb", "ar", "en")
STATES = ("missing", "recorded", "approved")
# The clips of the dynamic parts, grouped for the studio's prompt filter.
DYNAMIC_GROUPS = ("digit", "day", "month", "year", "hour", "count", "entity")
CACHE_KEY = "hotline.approved_clips"


class UnknownClip(LookupError):
    """No such clip in that language (or no such take of it)."""


# --- which clips there are -----------------------------------------------------------


def entity_names(language: str) -> dict[str, str]:
    return {entity.code: entity.name(language) for entity in db.session.scalars(select(Entity))}


def clip_scripts(language: str) -> dict[str, str]:
    """Every clip of a language with the script the voice talent reads; entities included, so
    an entity added by an import is a missing clip at once."""
    return all_clip_scripts(language, entity_names(language))


def clip_prompt(name: str, language: str) -> str:
    """The prompt (catalog key) a clip belongs to, or its group of dynamic parts."""
    prompts = catalog(language)
    if name in prompts:
        return name
    head, _, tail = name.rpartition(".")
    if head in prompts and tail.isdigit():
        return head
    group = name.split(".", 1)[0]
    return group if group in DYNAMIC_GROUPS else name


def prompt_keys(language: str) -> list[str]:
    return list(catalog(language))


# --- the takes -------------------------------------------------------------------------


@dataclass(frozen=True)
class ClipRow:
    name: str
    script: str
    prompt: str
    state: str
    take: PromptRecording | None  # the current take (its audio not loaded)
    live_id: int | None  # the take the IVR plays, which may be an earlier one


def current_takes(language: str) -> tuple[dict[str, PromptRecording], dict[str, int]]:
    rows = db.session.scalars(
        select(PromptRecording).where(
            PromptRecording.language == language, PromptRecording.is_current | PromptRecording.is_live
        )
    ).all()
    current = {row.name: row for row in rows if row.is_current}
    live = {row.name: row.id for row in rows if row.is_live}
    return current, live


def clip_state(take: PromptRecording | None) -> str:
    if take is None:
        return "missing"
    return "approved" if take.is_live else "recorded"


def clip_rows(language: str, prompt: str = "", state: str = "") -> list[ClipRow]:
    current, live = current_takes(language)
    rows = [
        ClipRow(
            name, script, clip_prompt(name, language), clip_state(current.get(name)), current.get(name), live.get(name)
        )
        for name, script in clip_scripts(language).items()
    ]
    return [row for row in rows if (not prompt or row.prompt == prompt) and (not state or row.state == state)]


def takes_of(language: str, name: str) -> list[PromptRecording]:
    return list(
        db.session.scalars(
            select(PromptRecording)
            .where(PromptRecording.language == language, PromptRecording.name == name)
            .order_by(PromptRecording.id.desc())
        )
    )


def check_clip(language: str, name: str) -> str:
    """The clip's script; UnknownClip when the language has no such clip."""
    if language not in STUDIO_LANGUAGES:
        raise UnknownClip(name)
    script = clip_scripts(language).get(name)
    if script is None:
        raise UnknownClip(name)
    return script


def save_take(language: str, name: str, data: bytes, filename: str, by: User) -> PromptRecording:
    """Convert an uploaded take and keep it as the clip's current take (not yet live).

    Raises ClipRefused (with the reason) or UnknownClip; commits.
    """
    check_clip(language, name)
    clip = convert_clip(data, filename, max_seconds=current_app.config["PROMPT_CLIP_MAX_SECONDS"])
    db.session.execute(
        update(PromptRecording)
        .where(PromptRecording.language == language, PromptRecording.name == name, PromptRecording.is_current)
        .values(is_current=False)
    )
    take = PromptRecording(
        language=language,
        name=name,
        audio=clip.audio,
        mimetype=clip.mimetype,
        sha256=clip.sha256,
        duration_ms=clip.duration_ms,
        loudness_lufs=clip.loudness_lufs,
        source_name=(filename or "")[:200],
        recorded_by=by.username,
        user_id=by.id,
        is_current=True,
        is_live=False,
    )
    db.session.add(take)
    db.session.commit()
    return take


def find_take(language: str, name: str, take_id: int) -> PromptRecording:
    take = db.session.get(PromptRecording, take_id) if 0 < take_id < 2**31 else None
    if take is None or take.language != language or take.name != name:
        raise UnknownClip(name)
    return take


def approve_take(language: str, name: str, take_id: int, by: User) -> PromptRecording:
    """This take becomes the clip's current and live one: the IVR plays it (every node within
    PROMPT_CLIPS_CACHE_SECONDS). Commits."""
    take = find_take(language, name, take_id)
    others = (PromptRecording.language == language, PromptRecording.name == name, PromptRecording.id != take.id)
    db.session.execute(update(PromptRecording).where(*others, PromptRecording.is_live).values(is_live=False))
    db.session.execute(update(PromptRecording).where(*others, PromptRecording.is_current).values(is_current=False))
    db.session.flush()
    take.is_current = True
    take.is_live = True
    take.approved_by = by.username
    take.approved_at = utcnow()
    db.session.commit()
    forget_approved_clips()
    return take


def restore_take(language: str, name: str, take_id: int) -> PromptRecording:
    """An earlier take becomes the current one again, to listen to and approve. Commits."""
    take = find_take(language, name, take_id)
    db.session.execute(
        update(PromptRecording)
        .where(
            PromptRecording.language == language,
            PromptRecording.name == name,
            PromptRecording.id != take.id,
            PromptRecording.is_current,
        )
        .values(is_current=False)
    )
    db.session.flush()
    take.is_current = True
    db.session.commit()
    return take


# --- what the IVR reads ----------------------------------------------------------------


def load_approved_clips() -> dict[str, dict[str, int]]:
    """language -> {clip name: id of its live take}, on a connection of its own (so that a
    failure leaves the caller's transaction alone)."""
    clips: dict[str, dict[str, int]] = {}
    with db.engine.connect() as connection:
        query = select(PromptRecording.language, PromptRecording.name, PromptRecording.id).where(
            PromptRecording.is_live
        )
        for language, name, take_id in connection.execute(query):
            clips.setdefault(language, {})[name] = take_id
    return clips


def approved_clips(refresh: bool = True) -> Mapping[str, Mapping[str, int]]:
    """The approved clips, read again at most every PROMPT_CLIPS_CACHE_SECONDS per process.

    With `refresh=False` (the apology, when the database may be what failed) only what this
    process already knows. A failed read keeps the last known set until the next period.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cached = app.extensions.get(CACHE_KEY)
    now = time.monotonic()
    if cached is not None and (not refresh or now < cached[0]):
        return cached[1]
    if not refresh:
        return {}
    try:
        clips = load_approved_clips()
    except Exception:  # the IVR speaks what it knew, or Arabic; never an error for the caller
        log.warning("the approved prompt clips could not be read; keeping the last known ones")
        clips = cached[1] if cached is not None else {}
    app.extensions[CACHE_KEY] = (now + app.config["PROMPT_CLIPS_CACHE_SECONDS"], clips)
    return clips


def forget_approved_clips() -> None:
    """This process reads the approved set again at its next use (other nodes within the period)."""
    current_app.extensions.pop(CACHE_KEY, None)


def approved_take(language: str, filename: str, version: str) -> PromptRecording | None:
    """The approved take a <Play> URL names: by its version (any take ever approved, so a call
    still holding an older URL hears it), else the clip's live take."""
    if language not in STUDIO_LANGUAGES or not filename.endswith(".mp3"):
        return None
    if version.isascii() and version.isdigit() and len(version) < 10:
        take = db.session.get(PromptRecording, int(version))
        if take is not None and take.language == language and take.approved_at is not None:
            if clip_file(take.name) == filename:
                return take
    names = db.session.execute(
        select(PromptRecording.id, PromptRecording.name).where(
            PromptRecording.language == language, PromptRecording.is_live
        )
    ).all()
    for take_id, name in names:
        if clip_file(name) == filename:
            return db.session.get(PromptRecording, take_id)
    return None


# --- coverage and preview ----------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    language: str
    total: int
    approved: int
    unapproved_prompts: list[str]  # prompts whose own clips are not all approved

    @property
    def percent(self) -> int:
        return int(100 * self.approved / self.total) if self.total else 100


def coverage(language: str = "ckb") -> Coverage:
    scripts = clip_scripts(language)
    live = approved_clips().get(language, {})
    unapproved = [
        key
        for key, template in catalog(language).items()
        if not all(name in live for name in prompt_clip_names(key, template))
    ]
    return Coverage(language, len(scripts), sum(1 for name in scripts if name in live), unapproved)


def sample_values(language: str) -> dict:
    """Values for every placeholder of the catalogs, as a preview plays them."""
    entity = db.session.scalars(select(Entity).order_by(Entity.id).limit(1)).first()
    holder = (
        EntityName(entity.code, {"ar": entity.name_ar, "ckb": entity.name_ckb, "en": entity.name_en})
        if entity is not None
        else EntityName("example", {"ar": "وزارة المالية", "ckb": "وەزارەتی دارایی", "en": "Ministry of Finance"})
    )
    return {
        "number": Digits("4821"),
        "date": SpokenDate(date(2026, 4, 2)),
        "status": Phrase("status.forwarded"),
        "holder": holder,
        "position": Count(3),
        "start": Hour("08:00"),
        "end": Hour("20:00"),
    }


@dataclass(frozen=True)
class PreviewPiece:
    name: str
    state: str
    take_id: int | None


def preview(language: str, key: str) -> list[PreviewPiece]:
    """The clips of a prompt in the order a caller hears them, with sample dynamic parts; each
    with the take a preview plays (the current one, approved or not)."""
    template = catalog(language)[key]
    values = {name: value for name, value in sample_values(language).items() if name in placeholders(template)}
    names = recorded_sequence(key, language, values) or []
    current, _ = current_takes(language)
    return [
        PreviewPiece(name, clip_state(current.get(name)), current[name].id if name in current else None)
        for name in names
    ]
