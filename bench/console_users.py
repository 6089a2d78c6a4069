"""Make sure the console benchmark's agents exist: bench-agent-000, -001, ... with one password.

    python bench/console_users.py --app-dir . --database-url URL --agents 200

Creates the missing ones with the project's own `domain.staff.users.create_user` (Argon2 hash
included) in an app context with production settings, and puts every bench agent back
to `offline` with no call in hand, as at the start of a shift. Prints JSON. Run as a
file, not a module, so that the app is imported from --app-dir.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PASSWORD = "bench agent password 5599"
PREFIX = "bench-agent-"


def username(index: int) -> str:
    return f"{PREFIX}{index:03d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-dir", type=Path, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--agents", type=int, default=200)
    args = parser.parse_args()

    from step_queries import build_app  # bench/ is on the path: this runs as a file

    app = build_app(args.app_dir.resolve(), args.database_url)
    from sqlalchemy import select, update  # noqa: E402

    from domain.staff.users import create_user  # noqa: E402  (from app_dir)
    from extensions import db  # noqa: E402
    from models import Presence, Role, User  # noqa: E402

    started = time.perf_counter()
    created = 0
    with app.app_context():
        names = [username(i) for i in range(args.agents)]
        existing = set(db.session.scalars(select(User.username).where(User.username.in_(names))))
        for name in names:
            if name not in existing:
                create_user(name, PASSWORD, Role.agent, display_name=name, language="en")
                created += 1
        db.session.execute(
            update(User).where(User.username.like(PREFIX + "%")).values(presence=Presence.offline, active=True)
        )
        db.session.commit()
    json.dump(
        {"agents": args.agents, "created": created, "seconds": round(time.perf_counter() - started, 1)}, sys.stdout
    )


if __name__ == "__main__":
    main()
