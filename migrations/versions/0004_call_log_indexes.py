"""indexes for the supervisors' call log filters, KPIs and audit log

Revision ID: 0004_call_log_indexes
Revises: 0002
Create Date: 2026-11-24 05:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0004_call_log_indexes"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.create_index("ix_call_agent_started_at", ["agent_id", "started_at"], unique=False)
        batch_op.create_index("ix_call_language_started_at", ["language", "started_at"], unique=False)
        batch_op.create_index("ix_call_asked_number_started_at", ["asked_number", "started_at"], unique=False)

    with op.batch_alter_table("callback_request", schema=None) as batch_op:
        batch_op.create_index("ix_callback_request_created_at", ["created_at"], unique=False)

    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_action_created", ["action", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_action_created")

    with op.batch_alter_table("callback_request", schema=None) as batch_op:
        batch_op.drop_index("ix_callback_request_created_at")

    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_index("ix_call_asked_number_started_at")
        batch_op.drop_index("ix_call_language_started_at")
        batch_op.drop_index("ix_call_agent_started_at")
