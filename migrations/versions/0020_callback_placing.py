"""Callbacks: the placement in flight (claimed before Twilio is asked, so a second click rings
nobody twice) and the placed call's last status from Twilio's status callbacks

Revision ID: 0020_callback_placing
Revises: 0019_agent_presence
Create Date: 2026-12-08 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020_callback_placing"
down_revision = "0019_agent_presence"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("callback_request") as batch:
        batch.add_column(sa.Column("placing_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("placed_status", sa.String(20), nullable=True))


def downgrade():
    with op.batch_alter_table("callback_request") as batch:
        batch.drop_column("placed_status")
        batch.drop_column("placing_at")
