"""lookup_attempt(found, created_at): the alarm counts every recent failed lookup

Revision ID: 0014_lookup_alarm_index
Revises: 0013_one_open_callback
Create Date: 2026-12-06 21:50:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0014_lookup_alarm_index"
down_revision = "0013_one_open_callback"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_lookup_attempt_found_at", "lookup_attempt", ["found", "created_at"])


def downgrade():
    op.drop_index("ix_lookup_attempt_found_at", table_name="lookup_attempt")
