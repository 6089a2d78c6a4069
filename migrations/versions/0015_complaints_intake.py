"""Complaints on the public web: a complaint being written (its fields and checked files,
between the form, the code and the confirmation), and the web's requests for tracking codes

Revision ID: 0015_complaints_intake
Revises: 0014_lookup_alarm_index
Create Date: 2026-12-06 22:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015_complaints_intake"
down_revision = "0014_lookup_alarm_index"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "complaint_pending",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=True),
        sa.Column("destination", sa.String(254), nullable=True),
        sa.Column("complaint_id", sa.Integer(), sa.ForeignKey("complaint.id", ondelete="CASCADE"), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
    )
    op.create_index("ix_complaint_pending_updated_at", "complaint_pending", ["updated_at"])
    op.create_table(
        "complaint_pending_file",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "pending_id", sa.Integer(), sa.ForeignKey("complaint_pending.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("filename", sa.String(120), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_complaint_pending_file_pending_id", "complaint_pending_file", ["pending_id"])
    op.create_table(
        "complaint_track_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
    )
    op.create_index(
        "ix_complaint_track_request_requester_created", "complaint_track_request", ["requester", "created_at"]
    )
    op.create_index(
        "ix_complaint_track_request_destination_created", "complaint_track_request", ["destination", "created_at"]
    )


def downgrade():
    op.drop_table("complaint_track_request")
    op.drop_table("complaint_pending_file")
    op.drop_table("complaint_pending")
