"""prompt_recording: the recorded voice prompts, every take kept, in the database

Revision ID: 0016_prompt_studio
Revises: 0015_complaints_intake
Create Date: 2026-12-07 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0016_prompt_studio"
down_revision = "0015_complaints_intake"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "prompt_recording",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("audio", sa.LargeBinary(), nullable=False),
        sa.Column("mimetype", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("loudness_lufs", sa.Float(), nullable=True),
        sa.Column("source_name", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("is_live", sa.Boolean(), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_prompt_recording_user_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompt_recording")),
    )
    for flag in ("current", "live"):
        op.create_index(
            f"uq_prompt_recording_{flag}",
            "prompt_recording",
            ["language", "name"],
            unique=True,
            sqlite_where=sa.text(f"is_{flag}"),
            postgresql_where=sa.text(f"is_{flag}"),
        )


def downgrade():
    op.drop_index("uq_prompt_recording_live", table_name="prompt_recording")
    op.drop_index("uq_prompt_recording_current", table_name="prompt_recording")
    op.drop_table("prompt_recording")
