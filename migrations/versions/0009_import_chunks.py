"""import chunks: an uploaded CSV kept in 1 MiB pieces until it is loaded, not whole on its import's row

An upload is streamed into import_chunk as it arrives (any web node can take it, any worker
run it: the nodes share no disk), so its size is no longer bounded by what one request or
one row can hold. Uploads still waiting on their row move to chunks.

Revision ID: 0009_import_chunks
Revises: 0008_resumable_imports
Create Date: 2026-11-27 09:00:00

"""

import hashlib

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_import_chunks"
down_revision = "0008_resumable_imports"
branch_labels = None
depends_on = None

CHUNK = 1024 * 1024


def upgrade():
    op.create_table(
        "import_chunk",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["import_job.id"], name=op.f("fk_import_chunk_import_id_import_job"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("import_id", "seq", name=op.f("pk_import_chunk")),
    )
    jobs = sa.table(
        "import_job",
        sa.column("id", sa.Integer),
        sa.column("content", sa.LargeBinary),
        sa.column("file_sha256", sa.String),
    )
    chunks = sa.table(
        "import_chunk",
        sa.column("import_id", sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("data", sa.LargeBinary),
    )
    connection = op.get_bind()
    waiting = connection.execute(sa.select(jobs.c.id).where(jobs.c.content.is_not(None))).scalars().all()
    for import_id in waiting:  # one file in memory at a time (at most the old 20 MB limit)
        content = connection.execute(sa.select(jobs.c.content).where(jobs.c.id == import_id)).scalar_one()
        for seq, start in enumerate(range(0, len(content), CHUNK)):
            connection.execute(
                sa.insert(chunks).values(import_id=import_id, seq=seq, data=content[start : start + CHUNK])
            )
        connection.execute(
            sa.update(jobs)
            .where(jobs.c.id == import_id, jobs.c.file_sha256.is_(None))
            .values(file_sha256=hashlib.sha256(content).hexdigest())
        )
    with op.batch_alter_table("import_job") as batch_op:
        batch_op.drop_column("content")


def downgrade():
    with op.batch_alter_table("import_job") as batch_op:
        batch_op.add_column(sa.Column("content", sa.LargeBinary(), nullable=True))
    jobs = sa.table("import_job", sa.column("id", sa.Integer), sa.column("content", sa.LargeBinary))
    chunks = sa.table(
        "import_chunk",
        sa.column("import_id", sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("data", sa.LargeBinary),
    )
    connection = op.get_bind()
    waiting = connection.execute(sa.select(chunks.c.import_id).distinct()).scalars().all()
    for import_id in waiting:
        content = b"".join(
            connection.execute(
                sa.select(chunks.c.data).where(chunks.c.import_id == import_id).order_by(chunks.c.seq)
            ).scalars()
        )
        connection.execute(sa.update(jobs).where(jobs.c.id == import_id).values(content=content))
    op.drop_table("import_chunk")
