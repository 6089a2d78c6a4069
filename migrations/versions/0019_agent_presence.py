"""Agent presence and routing by offer: each console's last heartbeat, why an agent is away,
the languages they take calls in, the history of their states (their day's figures) and the
open offers of waiting callers to agents (one per caller, one per agent)

Revision ID: 0019_agent_presence
Revises: 0018_ivr_complaints
Create Date: 2026-12-08 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019_agent_presence"
down_revision = "0018_ivr_complaints"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
PRESENCE = ("available", "away", "on_call", "wrap_up", "offline")


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("away_reason", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("last_seen_at", UTC, nullable=True))
        batch.add_column(sa.Column("languages", sa.String(length=32), server_default="", nullable=False))
    op.create_table(
        "presence_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "presence",
            sa.Enum(*PRESENCE, name="presence", native_enum=False, create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_presence_change_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presence_change")),
    )
    op.create_index("ix_presence_change_user_at", "presence_change", ["user_id", "at"])
    op.create_table(
        "call_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("offered_at", UTC, nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name=op.f("fk_call_offer_call_id_call"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["user.id"], name=op.f("fk_call_offer_agent_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_offer")),
        sa.UniqueConstraint("call_id", name=op.f("uq_call_offer_call_id")),
        sa.UniqueConstraint("agent_id", name=op.f("uq_call_offer_agent_id")),
    )


def downgrade():
    op.drop_table("call_offer")
    op.drop_index("ix_presence_change_user_at", table_name="presence_change")
    op.drop_table("presence_change")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("languages")
        batch.drop_column("last_seen_at")
        batch.drop_column("away_reason")
