"""The Flask extensions, created unbound here and bound to an app in the factory."""

from typing import TYPE_CHECKING, ClassVar

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, Table
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase

# Named constraints so that Alembic migrations read the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        __table__: ClassVar[Table]  # every model maps one table (DeclarativeBase says FromClause)


db = SQLAlchemy(model_class=Base)
# The models' base class. At run time it is Flask-SQLAlchemy's `db.Model` (built on `Base`);
# a type checker cannot follow a base class held in an attribute, so it is shown `Base`.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def again_if_connection_died(run):
    """`run()`, and once more if its pooled database connection turned out dead.

    The pool does not ping before each use (a round trip on every request). After a
    database restart a worker's first statement fails, SQLAlchemy renews its pool, and
    nothing of the failed attempt was written: the second attempt runs on a fresh
    connection. Only for work that is safe to run twice (reads, or one transaction).
    """
    try:
        return run()
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        db.session.rollback()
        return run()


def database_unreachable(error: BaseException) -> bool:
    """Whether `error` is the database not answering at all: no connection could be made, or
    the one in hand died. Not a statement it refused or cancelled (those carry an SQLSTATE).

    Another statement on this request would only wait out another timeout.
    """
    if not isinstance(error, DBAPIError):
        return False
    return error.connection_invalidated or (
        isinstance(error, OperationalError) and getattr(error.orig, "sqlstate", None) is None
    )
