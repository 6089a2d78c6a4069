"""Recordings of the agent's part of conference calls: what Twilio's recording status
callback said, and when the recording was deleted (by age or on a supervisor's request)

Revision ID: 0023_recordings
Revises: 0022_call_transfers
Create Date: 2026-12-07 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023_recordings"
down_revision = "0022_call_transfers"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "call_recording",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=False),
        sa.Column("recording_sid", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("channels", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("deleted_at", UTC, nullable=True),
    )
    op.create_index("ix_call_recording_call_id", "call_recording", ["call_id"])
    op.create_index("ix_call_recording_created_at", "call_recording", ["created_at"])


def downgrade():
    op.drop_index("ix_call_recording_created_at", table_name="call_recording")
    op.drop_index("ix_call_recording_call_id", table_name="call_recording")
    op.drop_table("call_recording")
