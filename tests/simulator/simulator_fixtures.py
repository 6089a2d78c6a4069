"""Fixtures for the simulator tests: a letter to look up, and the test app on a real port."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from browser_support import serving
from extensions import db
from models import Call, Direction, Entity, Status, Transaction
from simulator.engine import FlaskTransport, SimulatedCall
from tests.ivr.ivr_helpers import agent_on_duty

NUMBER, KEYED_DATE = "1234", "15032024"
# The presses from the greeting to the lookup of NUMBER on KEYED_DATE, in English.
TO_LOOKUP_IN_ENGLISH = ["3", "1", NUMBER + "#", "1", KEYED_DATE, "1"]


def add_letter(app, status: Status = Status.forwarded) -> None:
    """One letter 1234 of 15 March 2024, now held by the Ministry of Planning."""
    with app.app_context():
        holder = Entity(code="mop", name_ar="وزارة التخطيط", name_ckb="وەزارەتی پلاندانان",
                        name_en="the Ministry of Planning")
        sender = Entity(code="kmo", name_ar="مكتب رئيس الوزراء", name_en="the Prime Minister's Office")
        db.session.add_all([holder, sender])
        db.session.flush()
        db.session.add(Transaction(
            number=NUMBER, date=date(2024, 3, 15), direction=Direction.to_federal,
            subject="A subject that must never be spoken", sender_id=sender.id,
            recipient_id=holder.id, holder_id=holder.id, status=status,
            status_date=date(2024, 4, 2), citizen_phone="+9647709876543",
        ))
        db.session.commit()
        db.session.remove()


def stored_call(app, sid: str) -> Call | None:
    """The call record as the app wrote it, read in a fresh session."""
    with app.app_context():
        call = db.session.scalar(select(Call).where(Call.sid == sid))
        if call is not None:
            db.session.expunge(call)
        db.session.remove()
        return call


def play_through(call: SimulatedCall, presses: list[str]):
    turn = call.start()
    for keys in presses:
        turn = call.press(keys)
    return turn


@pytest.fixture(autouse=True)
def someone_on_duty(app):
    """An agent on duty (autouse where imported): a caller who presses 0 is queued, not
    offered a callback as when nobody answers."""
    with app.app_context():
        agent_on_duty()
        db.session.remove()


@pytest.fixture
def transport(app):
    return FlaskTransport(app)


@pytest.fixture
def call(transport):
    return SimulatedCall(transport)


@pytest.fixture(scope="session")
def live_server(app):
    """The test app on 127.0.0.1 with an ephemeral port, served by a werkzeug thread."""
    with serving(app, "simulator-live-server") as base:
        yield base


@pytest.fixture
def dev_twilio(app, live_server):
    """The app's own development Twilio stand-in, served on the live server, as the app's
    twilio client's API base URL (as scripts/run-demo sets it). Yields that base URL."""
    base_url = live_server + "/dev/twilio"
    previous = app.config["TWILIO_API_BASE_URL"]
    app.config["TWILIO_API_BASE_URL"] = base_url
    app.extensions.pop("hotline.twilio", None)  # rebuilt on first use, with the new base URL
    yield base_url
    app.config["TWILIO_API_BASE_URL"] = previous
    app.extensions.pop("hotline.twilio", None)
