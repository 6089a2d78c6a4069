"""callback_request: one open request per number, enforced by a partial unique index

Revision ID: 0013_one_open_callback
Revises: 0012_complaints
Create Date: 2026-12-06 21:40:00

Requests made before the rule (two open for one number) are merged first: the oldest stays
open, the later ones are cancelled with a note saying why.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_one_open_callback"
down_revision = "0012_complaints"
branch_labels = None
depends_on = None

OPEN = "status IN ('pending', 'in_progress')"


def upgrade():
    op.execute(
        sa.text(
            f"""
            UPDATE callback_request SET status = 'cancelled',
                note = COALESCE(note || ' | ', '') || 'merged: another request for this number was open'
            WHERE {OPEN} AND EXISTS (
                SELECT 1 FROM callback_request AS earlier
                WHERE earlier.phone = callback_request.phone
                  AND earlier.status IN ('pending', 'in_progress')
                  AND earlier.id < callback_request.id
            )
            """
        )
    )
    op.create_index(
        "uq_callback_request_open_phone",
        "callback_request",
        ["phone"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade():
    op.drop_index("uq_callback_request_open_phone", table_name="callback_request")
