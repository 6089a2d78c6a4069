"""Cold transfers and supervisors on a call's conference: the note the next agent sees,
call_leg roles for a transfer target and a supervisor listening in, and what the leg was
(an outside number's label, or monitor/whisper/barge)

Revision ID: 0022_call_transfers
Revises: 0021_call_control
Create Date: 2026-12-06 23:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022_call_transfers"
down_revision = "0021_call_control"
branch_labels = None
depends_on = None

OLD_ROLES = ("consult",)
NEW_ROLES = OLD_ROLES + ("transfer", "supervisor")


def upgrade():
    with op.batch_alter_table("call") as batch:
        batch.add_column(sa.Column("transfer_note", sa.Text(), nullable=True))
    with op.batch_alter_table("call_leg") as batch:
        batch.drop_constraint(op.f("ck_call_leg_leg_role"), type_="check")
        batch.create_check_constraint("leg_role", sa.column("role").in_(NEW_ROLES))
        batch.add_column(sa.Column("detail", sa.String(64), nullable=True))


def downgrade():
    op.execute(sa.text("DELETE FROM call_leg WHERE role <> 'consult'"))
    with op.batch_alter_table("call_leg") as batch:
        batch.drop_column("detail")
        batch.drop_constraint(op.f("ck_call_leg_leg_role"), type_="check")
        batch.create_check_constraint("leg_role", sa.column("role").in_(OLD_ROLES))
    with op.batch_alter_table("call") as batch:
        batch.drop_column("transfer_note")
