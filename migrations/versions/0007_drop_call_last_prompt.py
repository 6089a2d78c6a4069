"""call.last_prompt dropped: nothing read it, and writing it cost every webhook an UPDATE

What a caller heard at each step stays in call_event.spoken.

Revision ID: 0007_drop_call_last_prompt
Revises: 0006_dev_twilio_requests
Create Date: 2026-11-24 06:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007_drop_call_last_prompt"
down_revision = "0006_dev_twilio_requests"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("call") as batch_op:
        batch_op.drop_column("last_prompt")


def downgrade():
    with op.batch_alter_table("call") as batch_op:
        batch_op.add_column(sa.Column("last_prompt", sa.String(length=64), nullable=True))
