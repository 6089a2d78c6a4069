"""Call control on Twilio conferences: the conference and the agent's participant of each call,
hold time, mute, transfers and consults; call_leg for the participants added besides them

Revision ID: 0021_call_control
Revises: 0020_callback_placing
Create Date: 2026-12-06 23:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021_call_control"
down_revision = "0020_callback_placing"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade():
    with op.batch_alter_table("call") as batch:
        batch.add_column(sa.Column("conference_sid", sa.String(64), nullable=True))
        batch.add_column(sa.Column("agent_leg_sid", sa.String(64), nullable=True))
        batch.add_column(sa.Column("held_at", UTC, nullable=True))
        batch.add_column(sa.Column("hold_s", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("agent_muted", sa.Boolean(), nullable=False, server_default=sa.text("false")))
        batch.add_column(sa.Column("transfers", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("consults", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "call_leg",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.Integer(), sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "role",
            sa.Enum("consult", name="leg_role", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("added_by_id", sa.Integer(), sa.ForeignKey("user.id"), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("answered_at", UTC, nullable=True),
        sa.Column("ended_at", UTC, nullable=True),
        sa.Column("end_status", sa.String(20), nullable=True),
    )
    op.create_index("ix_call_leg_call_id", "call_leg", ["call_id"])


def downgrade():
    op.drop_index("ix_call_leg_call_id", table_name="call_leg")
    op.drop_table("call_leg")
    with op.batch_alter_table("call") as batch:
        for column in ("consults", "transfers", "agent_muted", "hold_s", "held_at", "agent_leg_sid", "conference_sid"):
            batch.drop_column(column)
