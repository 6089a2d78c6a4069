"""user.session_version: logout, deactivation and a new password end every session of the user

Revision ID: 0010_user_session_version
Revises: 0009_import_chunks
Create Date: 2026-12-06 19:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_user_session_version"
down_revision = "0009_import_chunks"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_column("session_version")
