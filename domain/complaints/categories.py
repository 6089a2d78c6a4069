"""The default complaint categories (categories.toml), made once in a fresh install.

`ensure_categories()` adds the ones whose code is missing and leaves existing ones as
they are: an administrator's changes to names, SLA hours or `active` are kept.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select

from extensions import db
from models import ComplaintCategory, ComplaintKind


@lru_cache(maxsize=1)
def default_categories() -> dict[str, dict]:
    with open(Path(__file__).with_name("categories.toml"), "rb") as handle:
        return tomllib.load(handle)


def ensure_categories() -> list[str]:
    """Add the default categories that are missing; the codes added. Commits."""
    existing = set(db.session.scalars(select(ComplaintCategory.code)))
    added = []
    for code, values in default_categories().items():
        if code in existing:
            continue
        db.session.add(
            ComplaintCategory(
                code=code,
                kind=ComplaintKind(values["kind"]),
                sla_hours=int(values["sla_hours"]),
                name_ar=values["ar"],
                name_ckb=values["ckb"],
                name_en=values["en"],
                active=True,
            )
        )
        added.append(code)
    db.session.commit()
    return added
