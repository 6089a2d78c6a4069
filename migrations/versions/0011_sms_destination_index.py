"""sms_message(to_phone, created_at): the daily cap per number counts that number's recent rows

Revision ID: 0011_sms_destination_index
Revises: 0010_user_session_version
Create Date: 2026-12-06 20:20:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0011_sms_destination_index"
down_revision = "0010_user_session_version"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_sms_message_to_phone_created", "sms_message", ["to_phone", "created_at"])


def downgrade():
    op.drop_index("ix_sms_message_to_phone_created", table_name="sms_message")
