"""Officers' letters page: when each user last opened it (letters changed since are marked),
and indexes for an entity's letters as sender, recipient and holder, newest change first

Revision ID: 0017_officer_letters
Revises: 0016_prompt_studio
Create Date: 2026-12-07 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017_officer_letters"
down_revision = "0016_prompt_studio"
branch_labels = None
depends_on = None

ROLES = ("sender_id", "recipient_id", "holder_id")


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("letters_seen_at", sa.DateTime(timezone=True), nullable=True))
    for column in ROLES:
        op.create_index(f"ix_transaction_{column}_updated", "transaction", [column, "updated_at"])


def downgrade():
    for column in ROLES:
        op.drop_index(f"ix_transaction_{column}_updated", table_name="transaction")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("letters_seen_at")
