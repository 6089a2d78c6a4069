"""What the IVR benchmark serves: the app of `wsgi:app`, plus the rungs of a durability ladder.

A voice step cannot cost less than the floor (`/ivr/fallback`: the signature check and
static TwiML) plus the database work that keeps its record. Each rung is the floor plus one
more piece of that work, done the cheapest way there is, and answers with the floor's very
TwiML, so the benchmark can say what committing a row costs on this machine apart from
anything the app's own code does:

    /bench/ladder/read         + one SELECT by key (autocommit, the pool's psycopg connection)
    /bench/ladder/write        + one INSERT … ON CONFLICT DO NOTHING RETURNING, autocommitted:
                                 the cheapest durable write
    /bench/ladder/transaction  + BEGIN, that SELECT, that INSERT, COMMIT: the least a step does
                                 (read its state, write its event, both or neither)
    /bench/ladder/session      + the same transaction through the app's SQLAlchemy session
    /bench/ladder/behind       + the SELECT, then the event added to a Redis stream (XADD), for
                                 a separate writer to commit later: a step written behind

Rows go to a table of the benchmark's own, `bench_ladder_row`, which the benchmark creates
and empties before each run (PostgreSQL only); the stream is `bench:ladder:steps` in the
benchmark's Redis (BENCH_LADDER_REDIS_URL), deleted before each run. Nothing drains it:
the *behind* rung leaves out the writer's own work, so it is a lower bound for that design.
gunicorn serves this module as `ladder:app` with the app's directory as its working directory;
`wsgi:app` itself has none of these routes.
"""

from __future__ import annotations

import os
import uuid
from functools import cache

from flask import Blueprint
from sqlalchemy import text

from extensions import csrf, db
from ivr.twilio_events import fallback
from telephony.signature import twilio_signed
from wsgi import app

TABLE = "bench_ladder_row"
READ = f"SELECT id FROM {TABLE} WHERE dedupe_key = %s"
WRITE = f"INSERT INTO {TABLE} (dedupe_key, step) VALUES (%s, 'ladder') ON CONFLICT DO NOTHING RETURNING id"
SESSION_READ = text(f"SELECT id FROM {TABLE} WHERE dedupe_key = :key")
SESSION_WRITE = text(
    f"INSERT INTO {TABLE} (dedupe_key, step) VALUES (:key, 'ladder') ON CONFLICT DO NOTHING RETURNING id"
)
STREAM = "bench:ladder:steps"
STREAM_MAX = 100_000  # trimmed as it grows: only the cost of adding matters

ladder = Blueprint("bench_ladder", __name__, url_prefix="/bench/ladder")
static_twiml = fallback.__wrapped__  # the floor's own view, without a second signature check


@cache
def stream_redis():
    """Made on the first *behind* request: the app's memory is measured without the client."""
    import redis

    return redis.Redis.from_url(os.environ.get("BENCH_LADDER_REDIS_URL", "redis://127.0.0.1:6379/13"))


def on_raw_connection(work, *, autocommit: bool) -> None:
    """Run `work(psycopg_connection)` on a connection from the app's pool, then return it."""
    pooled = db.engine.raw_connection()
    try:
        connection = pooled.driver_connection
        connection.autocommit = autocommit
        try:
            work(connection)
        finally:
            connection.autocommit = False
    finally:
        pooled.close()


def read(connection) -> None:
    connection.execute(READ, (uuid.uuid4().hex,)).fetchone()


def write(connection) -> None:
    connection.execute(WRITE, (uuid.uuid4().hex,)).fetchone()


def read_and_write(connection) -> None:
    read(connection)  # psycopg sends BEGIN first: autocommit is off
    write(connection)
    connection.commit()


@ladder.post("/read")
@twilio_signed
def rung_read():
    on_raw_connection(read, autocommit=True)
    return static_twiml()


@ladder.post("/write")
@twilio_signed
def rung_write():
    on_raw_connection(write, autocommit=True)
    return static_twiml()


@ladder.post("/transaction")
@twilio_signed
def rung_transaction():
    on_raw_connection(read_and_write, autocommit=False)
    return static_twiml()


@ladder.post("/session")
@twilio_signed
def rung_session():
    key = uuid.uuid4().hex
    db.session.execute(SESSION_READ, {"key": key}).first()
    db.session.execute(SESSION_WRITE, {"key": key}).scalar()
    db.session.commit()
    return static_twiml()


@ladder.post("/behind")
@twilio_signed
def rung_behind():
    on_raw_connection(read, autocommit=True)
    stream_redis().xadd(STREAM, {"key": uuid.uuid4().hex, "step": "ladder"}, maxlen=STREAM_MAX, approximate=True)
    return static_twiml()


csrf.exempt(ladder)  # signed by Twilio's scheme, as every voice webhook
app.register_blueprint(ladder)
