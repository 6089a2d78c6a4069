"""Complaints: categories, complaints, their history and attachments; one-time codes; the
e-mail outbox; entity officers (a role and their entity); SMS about complaints

Revision ID: 0012_complaints
Revises: 0011_sms_destination_index
Create Date: 2026-12-06 22:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_complaints"
down_revision = "0011_sms_destination_index"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


KINDS = ("service", "employee")
STATUSES = (
    "submitted",
    "routed",
    "in_progress",
    "awaiting_citizen",
    "resolved",
    "rejected",
    "appealed",
    "closed",
)
EVENT_KINDS = (
    "submitted",
    "routed",
    "status",
    "assigned",
    "response",
    "note",
    "info_request",
    "citizen_reply",
    "transfer",
    "appeal",
    "escalated",
    "purged",
)
OLD_ROLES = ("agent", "supervisor", "admin")
OLD_SMS_KINDS = ("status", "notification", "agent")


def upgrade():
    op.create_table(
        "complaint_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("kind", enum("complaint_kind", *KINDS), nullable=False),
        sa.Column("name_ar", sa.String(200), nullable=False),
        sa.Column("name_ckb", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("sla_hours", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_category")),
        sa.UniqueConstraint("code", name=op.f("uq_complaint_category_code")),
    )
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("kind", enum("complaint_kind", *KINDS), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("governorate", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", enum("complaint_status", *STATUSES), nullable=False),
        sa.Column("status_at", UTC, nullable=False),
        sa.Column("channel", enum("complaint_channel", "web", "phone"), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("taken_by_id", sa.Integer(), nullable=True),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(20), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("national_id", sa.String(20), nullable=True),
        sa.Column("declared_adult", sa.Boolean(), nullable=False),
        sa.Column("declared_citizen", sa.Boolean(), nullable=False),
        sa.Column("hide_identity", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("verification", enum("verification", "sms", "email", "phone_unverified"), nullable=False),
        sa.Column("sla_due_at", UTC, nullable=True),
        sa.Column("sla_paused_minutes", sa.Integer(), nullable=True),
        sa.Column("escalated_at", UTC, nullable=True),
        sa.Column("first_response_at", UTC, nullable=True),
        sa.Column("resolved_at", UTC, nullable=True),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("appeals", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("purged_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"], ["complaint_category.id"], name=op.f("fk_complaint_category_id_complaint_category")
        ),
        sa.ForeignKeyConstraint(["entity_id"], ["entity.id"], name=op.f("fk_complaint_entity_id_entity")),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name=op.f("fk_complaint_call_id_call"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["taken_by_id"], ["user.id"], name=op.f("fk_complaint_taken_by_id_user")),
        sa.ForeignKeyConstraint(["assigned_to_id"], ["user.id"], name=op.f("fk_complaint_assigned_to_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
        sa.UniqueConstraint("code", name=op.f("uq_complaint_code")),
    )
    op.create_index("ix_complaint_entity_status", "complaint", ["entity_id", "status"])
    op.create_index("ix_complaint_status_due", "complaint", ["status", "sla_due_at"])
    op.create_index("ix_complaint_created_at", "complaint", ["created_at"])
    op.create_index("ix_complaint_phone", "complaint", ["phone"])
    op.create_index("ix_complaint_email", "complaint", ["email"])
    op.create_index(op.f("ix_complaint_call_id"), "complaint", ["call_id"])
    op.create_index(op.f("ix_complaint_assigned_to_id"), "complaint", ["assigned_to_id"])

    op.create_table(
        "complaint_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("kind", enum("complaint_event_kind", *EVENT_KINDS), nullable=False),
        sa.Column("from_status", enum("from_status", *STATUSES), nullable=True),
        sa.Column("to_status", enum("to_status", *STATUSES), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("from_entity_id", sa.Integer(), nullable=True),
        sa.Column("to_entity_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_complaint_event_complaint_id_complaint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_complaint_event_user_id_user")),
        sa.ForeignKeyConstraint(
            ["from_entity_id"], ["entity.id"], name=op.f("fk_complaint_event_from_entity_id_entity")
        ),
        sa.ForeignKeyConstraint(["to_entity_id"], ["entity.id"], name=op.f("fk_complaint_event_to_entity_id_entity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_event")),
    )
    op.create_index(op.f("ix_complaint_event_complaint_id"), "complaint_event", ["complaint_id"])

    op.create_table(
        "complaint_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(120), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_complaint_attachment_complaint_id_complaint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["complaint_event.id"],
            name=op.f("fk_complaint_attachment_event_id_complaint_event"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_complaint_attachment_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_attachment")),
    )
    op.create_index(op.f("ix_complaint_attachment_complaint_id"), "complaint_attachment", ["complaint_id"])

    op.create_table(
        "one_time_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", enum("code_purpose", "complaint", "track"), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("destination", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("used_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_code")),
    )
    op.create_index("ix_one_time_code_destination_created", "one_time_code", ["destination", "created_at"])
    op.create_index("ix_one_time_code_requester_created", "one_time_code", ["requester", "created_at"])

    op.create_table(
        "email_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column(
            "status",
            enum("email_status", "pending", "queued", "sending", "sent", "failed", "suppressed"),
            nullable=False,
        ),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(200), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("claimed_at", UTC, nullable=True),
        sa.Column("sent_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_email_message_complaint_id_complaint"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_message")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_email_message_idempotency_key")),
    )
    op.create_index("ix_email_message_status_created", "email_message", ["status", "created_at"])
    op.create_index("ix_email_message_to_created", "email_message", ["to_address", "created_at"])
    op.create_index(op.f("ix_email_message_complaint_id"), "email_message", ["complaint_id"])

    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_constraint(op.f("ck_user_role"), type_="check")
        batch_op.create_check_constraint("role", sa.column("role").in_(("officer",) + OLD_ROLES))
        batch_op.add_column(sa.Column("entity_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_user_entity_id_entity"), "entity", ["entity_id"], ["id"])

    with op.batch_alter_table("sms_message") as batch_op:
        batch_op.drop_constraint(op.f("ck_sms_message_sms_kind"), type_="check")
        batch_op.create_check_constraint("sms_kind", sa.column("kind").in_(OLD_SMS_KINDS + ("complaint", "code")))
        batch_op.add_column(sa.Column("complaint_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_sms_message_complaint_id_complaint"), "complaint", ["complaint_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index(op.f("ix_sms_message_complaint_id"), ["complaint_id"])


def downgrade():
    with op.batch_alter_table("sms_message") as batch_op:
        batch_op.drop_index(op.f("ix_sms_message_complaint_id"))
        batch_op.drop_constraint(op.f("fk_sms_message_complaint_id_complaint"), type_="foreignkey")
        batch_op.drop_column("complaint_id")
        batch_op.drop_constraint(op.f("ck_sms_message_sms_kind"), type_="check")
        batch_op.create_check_constraint("sms_kind", sa.column("kind").in_(OLD_SMS_KINDS))
    with op.batch_alter_table("user") as batch_op:
        batch_op.drop_constraint(op.f("fk_user_entity_id_entity"), type_="foreignkey")
        batch_op.drop_column("entity_id")
        batch_op.drop_constraint(op.f("ck_user_role"), type_="check")
        batch_op.create_check_constraint("role", sa.column("role").in_(OLD_ROLES))
    op.drop_table("email_message")
    op.drop_table("one_time_code")
    op.drop_table("complaint_attachment")
    op.drop_table("complaint_event")
    op.drop_table("complaint")
    op.drop_table("complaint_category")
