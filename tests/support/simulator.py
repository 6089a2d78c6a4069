"""Helpers for the simulator tests: a letter to look up, the stored call, presses played through.

The fixtures (the test app on a real port, the app's own Twilio stand-in) are in
tests/simulator/conftest.py.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from extensions import db
from models import Call, Direction, Entity, Status, Transaction
from simulator.engine import SimulatedCall

NUMBER, KEYED_DATE = "1234", "15032024"
# The presses from the greeting to the lookup of NUMBER on KEYED_DATE, in English.
TO_LOOKUP_IN_ENGLISH = ["3", "1", NUMBER + "#", "1", KEYED_DATE, "1"]


def add_letter(app, status: Status = Status.forwarded) -> None:
    """One letter 1234 of 15 March 2024, now held by the Ministry of Planning."""
    with app.app_context():
        holder = Entity(
            code="mop", name_ar="وزارة التخطيط", name_ckb="وەزارەتی پلاندانان", name_en="the Ministry of Planning"
        )
        sender = Entity(code="kmo", name_ar="مكتب رئيس الوزراء", name_en="the Prime Minister's Office")
        db.session.add_all([holder, sender])
        db.session.flush()
        db.session.add(
            Transaction(
                number=NUMBER,
                date=date(2024, 3, 15),
                direction=Direction.to_federal,
                subject="A subject that must never be spoken",
                sender_id=sender.id,
                recipient_id=holder.id,
                holder_id=holder.id,
                status=status,
                status_date=date(2024, 4, 2),
                citizen_phone="+9647709876543",
            )
        )
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
