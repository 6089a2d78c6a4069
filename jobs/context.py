"""The app a job runs in: one per worker process, or the web app itself for inline jobs."""

from __future__ import annotations

import os
from functools import wraps

from flask import Flask, current_app, has_app_context
from werkzeug.utils import import_string

# Named, not imported, as jobs are: the factory wires the commands that run the worker, so
# importing it from here would close a loop (factory -> cli -> jobs -> factory).
APP_FACTORY = "factory.create_app"
_worker_app: Flask | None = None
_engine_pid: int | None = None


def set_worker_app(app: Flask) -> None:
    """`flask worker` hands over the app it already built, so that it is not built twice."""
    global _worker_app
    _worker_app = app


def worker_app() -> Flask:
    """The app of this worker process, created once (from the environment, as wsgi does)."""
    global _worker_app
    if _worker_app is None:
        _worker_app = import_string(APP_FACTORY)()
    return _worker_app


def job(func):
    """Run a job function inside its own app context, with its own database session.

    Inline (inside a web request) a fresh context of the same app is pushed: the job then
    commits in its own session and never inside the request's transaction.
    """

    @wraps(func)
    def run(*args, **kwargs):
        app = current_app._get_current_object() if has_app_context() else worker_app()
        with app.app_context():
            from extensions import db

            fresh_connections_after_fork(db)
            try:
                return func(*args, **kwargs)
            finally:
                db.session.remove()

    return run


def fresh_connections_after_fork(db) -> None:
    """RQ forks a work-horse per job: database connections must not be shared across a fork."""
    global _engine_pid
    if _engine_pid != os.getpid():
        if _engine_pid is not None:
            db.engine.dispose(close=False)  # the parent's connections stay the parent's
        _engine_pid = os.getpid()
