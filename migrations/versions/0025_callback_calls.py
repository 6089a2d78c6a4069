"""call.callback_id: a callback an agent placed, answered by the citizen, is a call of its own
with the agent in its conference

Revision ID: 0025_callback_calls
Revises: 0024_call_letters
Create Date: 2026-12-07 01:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025_callback_calls"
down_revision = "0024_call_letters"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("call") as batch_op:
        batch_op.add_column(sa.Column("callback_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_call_callback_id_callback_request"),
            "callback_request",
            ["callback_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_call_callback_id"), ["callback_id"], unique=False)


def downgrade():
    with op.batch_alter_table("call") as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_callback_id"))
        batch_op.drop_constraint(op.f("fk_call_callback_id_callback_request"), type_="foreignkey")
        batch_op.drop_column("callback_id")
