"""resumable imports: each import's progress mark, file hash, rate; its keys and rejected lines in tables

An import (a job or a `flask transactions import` run) commits each batch together with
the last line it covers, so a run that was killed is resumed from there. The keys it has
loaded (to refuse a later duplicate in the same file, even across a resume) and every
rejected line are rows of their own, not lists held in memory or in a JSON column.

Revision ID: 0008_resumable_imports
Revises: 0007_drop_call_last_prompt
Create Date: 2026-11-25 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008_resumable_imports"
down_revision = "0007_drop_call_last_prompt"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_key",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=12), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("direction", sa.String(length=32), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["import_job.id"], name=op.f("fk_import_key_import_id_import_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("import_id", "number", "date", "direction", name=op.f("pk_import_key")),
    )
    op.create_table(
        "import_rejection",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["import_job.id"], name=op.f("fk_import_rejection_import_id_import_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("import_id", "line", name=op.f("pk_import_rejection")),
    )
    with op.batch_alter_table("import_job") as batch_op:
        batch_op.add_column(sa.Column("file_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("committed_line", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("notified", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("rows_per_second", sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f("ix_import_job_file_sha256"), ["file_sha256"], unique=False)

    # The rejected lines kept so far (the first 200 of each import) move to their table.
    jobs = sa.table("import_job", sa.column("id", sa.Integer), sa.column("rejected", sa.JSON))
    rejections = sa.table(
        "import_rejection",
        sa.column("import_id", sa.Integer),
        sa.column("line", sa.Integer),
        sa.column("reason", sa.Text),
    )
    connection = op.get_bind()
    for import_id, rejected in connection.execute(
        sa.select(jobs.c.id, jobs.c.rejected).where(jobs.c.rejected.is_not(None))
    ):
        rows = {int(line): str(reason) for line, reason in rejected or []}
        if rows:
            connection.execute(
                sa.insert(rejections),
                [{"import_id": import_id, "line": line, "reason": reason} for line, reason in rows.items()],
            )
    with op.batch_alter_table("import_job") as batch_op:
        batch_op.drop_column("rejected")


def downgrade():
    with op.batch_alter_table("import_job") as batch_op:
        batch_op.add_column(sa.Column("rejected", sa.JSON(), nullable=True))
        batch_op.drop_index(batch_op.f("ix_import_job_file_sha256"))
        batch_op.drop_column("rows_per_second")
        batch_op.drop_column("notified")
        batch_op.drop_column("committed_line")
        batch_op.drop_column("file_sha256")
    op.drop_table("import_rejection")
    op.drop_table("import_key")
