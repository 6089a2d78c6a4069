"""`flask prompts missing`: the clips the voice talent still has to record (or have approved)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from domain.prompts.studio import STUDIO_LANGUAGES, clip_rows

prompts = AppGroup("prompts", help="Voice prompt catalogs and recorded audio.")


@prompts.command("missing")
@click.option("--language", default="ckb", show_default=True, type=click.Choice(STUDIO_LANGUAGES))
def missing(language: str) -> None:
    """List every clip without an approved take, with its state and the script to record."""
    rows = clip_rows(language)
    todo = [row for row in rows if row.state != "approved"]
    for row in sorted(todo, key=lambda row: row.name):
        click.echo(f"{row.name}\t{row.state}\t{row.script}")
    click.echo(f"{len(todo)} of {len(rows)} {language} clips not approved", err=True)
