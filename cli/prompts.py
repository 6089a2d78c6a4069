"""`flask prompts missing`: the Kurdish clips the voice talent still has to record."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from extensions import db
from models import Entity
from voice_prompts import all_clip_scripts, clip_file, recorded_clips

prompts = AppGroup("prompts", help="Voice prompt catalogs and recorded audio.")


@prompts.command("missing")
@click.option("--language", default="ckb", show_default=True)
def missing(language: str) -> None:
    """List every clip without an audio file, with the script to record."""
    entities = {code: name for code, name in db.session.execute(select(Entity.code, Entity.name_ckb))}
    scripts = all_clip_scripts(language, entities)
    have = recorded_clips(current_app.config["PROMPTS_AUDIO_DIR"], language)
    todo = {name: text for name, text in scripts.items() if name not in have}
    folder = current_app.config["PROMPTS_AUDIO_DIR"] / language
    for name, text in sorted(todo.items()):
        click.echo(f"{folder / clip_file(name)}\t{text}")
    click.echo(f"{len(todo)} of {len(scripts)} {language} clips missing", err=True)
