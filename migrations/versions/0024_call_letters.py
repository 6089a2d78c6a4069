"""call_letter: letters an agent found by search and attached to a call, to show on its
screen and to send their status to the caller by SMS

Revision ID: 0024_call_letters
Revises: 0023_recordings
Create Date: 2026-12-06 22:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0024_call_letters"
down_revision = "0023_recordings"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "call_letter",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=False),
        sa.Column("transaction_id", sa.Integer(), sa.ForeignKey("transaction.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("call_id", "transaction_id", name="uq_call_letter"),
    )
    op.create_index("ix_call_letter_call_id", "call_letter", ["call_id"])


def downgrade():
    op.drop_index("ix_call_letter_call_id", table_name="call_letter")
    op.drop_table("call_letter")
