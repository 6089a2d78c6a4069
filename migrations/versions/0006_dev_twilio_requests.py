"""the development Twilio stand-in's records: requests it answered, calls it placed

Revision ID: 0006_dev_twilio_requests
Revises: 0005_sms_api_imports
Create Date: 2026-11-24 07:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006_dev_twilio_requests"
down_revision = "0005_sms_api_imports"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dev_twilio_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("form", sa.JSON(), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("resource_sid", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_twilio_request")),
    )
    op.create_index("ix_dev_twilio_request_call_sid_id", "dev_twilio_request", ["call_sid", "id"], unique=False)
    op.create_table(
        "dev_twilio_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("to_phone", sa.String(length=32), nullable=False),
        sa.Column("from_phone", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("twiml", sa.Text(), nullable=True),
        sa.Column("status_callback", sa.String(length=500), nullable=True),
        sa.Column("timeout_s", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dev_twilio_call")),
        sa.UniqueConstraint("sid", name=op.f("uq_dev_twilio_call_sid")),
    )


def downgrade():
    op.drop_table("dev_twilio_call")
    op.drop_index("ix_dev_twilio_request_call_sid_id", table_name="dev_twilio_request")
    op.drop_table("dev_twilio_request")
