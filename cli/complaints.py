"""`flask complaints ...`: complaints' reference data."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from domain.complaints.categories import ensure_categories
from extensions import db
from models import ComplaintCategory

complaints = AppGroup("complaints", help="Complaints' reference data.")


@complaints.command("categories")
def categories_command() -> None:
    """Add the default complaint categories that are missing (safe to run again), then list them."""
    added = ensure_categories()
    click.echo(f"added {len(added)} categories" + (f": {', '.join(added)}" if added else ""))
    for category in db.session.scalars(select(ComplaintCategory).order_by(ComplaintCategory.id)):
        state = "" if category.active else "  (inactive)"
        click.echo(
            f"  {category.code:<26} {category.kind.value:<9} {category.sla_hours:>3} h  {category.name_en}{state}"
        )
