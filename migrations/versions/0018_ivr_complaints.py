"""lookup_attempt.kind: a complaint followed by its code on the IVR counts against the same
guessing limits as a letter (per call, per caller), and per code on its own;
complaint.sla_met: whether the last resolution came within the SLA (the supervisors' report)

Revision ID: 0018_ivr_complaints
Revises: 0017_officer_letters
Create Date: 2026-12-06 22:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018_ivr_complaints"
down_revision = "0017_officer_letters"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("lookup_attempt") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="letter"))
    with op.batch_alter_table("complaint") as batch:
        batch.add_column(sa.Column("sla_met", sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table("complaint") as batch:
        batch.drop_column("sla_met")
    with op.batch_alter_table("lookup_attempt") as batch:
        batch.drop_column("kind")
