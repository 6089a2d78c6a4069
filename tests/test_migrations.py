"""The schema the Alembic migrations build is the one the models describe, on each backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from extensions import db


def test_the_migrations_build_what_the_models_describe(app_context):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
