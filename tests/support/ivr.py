"""Reading TwiML the way Twilio does, for assertions on parsed documents."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import create_engine, select, text

from domain.staff.users import someone_answering
from extensions import db
from models import Direction, Entity, Presence, Role, Status, Transaction, User


@dataclass
class Answer:
    root: ET.Element

    @classmethod
    def of(cls, response) -> "Answer":
        assert response.status_code == 200, response.data
        assert response.mimetype == "text/xml"
        return cls(ET.fromstring(response.data))

    @property
    def said(self) -> list[str]:
        return [el.text or "" for el in self.root.iter("Say")]

    @property
    def text(self) -> str:
        return " ".join(self.said)

    @property
    def played(self) -> list[str]:
        return [el.text or "" for el in self.root.iter("Play")]

    @property
    def gather(self) -> ET.Element | None:
        return self.root.find("Gather")

    @property
    def action(self) -> str:
        gather = self.gather
        assert gather is not None, ET.tostring(self.root)
        return gather.get("action")

    @property
    def action_path(self) -> str:
        return urlsplit(self.action).path

    @property
    def action_params(self) -> dict:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.action).query).items()}

    @property
    def enqueued(self) -> ET.Element | None:
        return self.root.find("Enqueue")

    @property
    def hung_up(self) -> bool:
        return self.root.find("Hangup") is not None


@contextmanager
def table_locked(database_url: str, table: str, hold_s: float = 15):
    """`table` locked (ACCESS EXCLUSIVE) by another connection until the block ends: a stall.

    PostgreSQL only. The lock is let go after `hold_s` at the latest, should the block hang.
    """
    locker = create_engine(database_url)
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        with locker.begin() as connection:
            connection.execute(text(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE'))
            locked.set()
            release.wait(hold_s)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(5), f"{table} could not be locked"
        yield
    finally:
        release.set()
        holder.join()
        locker.dispose()


def add_letter(
    number="1234",
    on=date(2024, 3, 15),
    direction=Direction.to_federal,
    status=Status.forwarded,
    status_date=date(2024, 4, 2),
    subject="طلب تعيين",
    holder_code="fed-finance",
) -> Transaction:
    holder = db.session.query(Entity).filter_by(code=holder_code).one_or_none()
    if holder is None:
        holder = Entity(
            code=holder_code,
            name_ar="وزارة المالية الاتحادية",
            name_ckb="وەزارەتی دارایی فیدراڵ",
            name_en="Federal Ministry of Finance",
        )
        db.session.add(holder)
    sender = db.session.query(Entity).filter_by(code="krg-interior").one_or_none()
    if sender is None:
        sender = Entity(
            code="krg-interior",
            name_ar="وزارة الداخلية في إقليم كوردستان",
            name_ckb="وەزارەتی ناوخۆی هەرێم",
            name_en="KRG Ministry of Interior",
        )
        db.session.add(sender)
    db.session.flush()
    letter = Transaction(
        number=number,
        date=on,
        direction=direction,
        subject=subject,
        sender_id=sender.id,
        recipient_id=holder.id,
        holder_id=holder.id,
        status=status,
        status_date=status_date,
        citizen_phone="+9647701112233",
    )
    db.session.add(letter)
    db.session.commit()
    return letter


ON_DUTY = "on-duty"


def agent_on_duty() -> None:
    """An available agent, unless one will answer already: a caller who asks for an agent is
    then queued (with nobody answering, the IVR offers a callback instead of a queue)."""
    if someone_answering():
        return
    user = db.session.scalar(select(User).where(User.username == ON_DUTY))
    if user is None:
        user = User(username=ON_DUTY, display_name="On duty", role=Role.agent, password_hash="!")
        db.session.add(user)
    user.presence, user.active = Presence.available, True
    db.session.commit()


class Caller:
    """A caller walking the IVR: each press posts to the action of the last <Gather>."""

    def __init__(self, twilio):
        self.twilio = twilio
        self.answer: Answer | None = None

    def start(self) -> Answer:
        self.answer = Answer.of(self.twilio.post("/ivr/voice"))
        return self.answer

    def press(self, digits: str) -> Answer:
        self.answer = Answer.of(self.twilio.post(self.answer.action, Digits=digits))
        return self.answer

    def walk(self, *presses: str) -> Answer:
        self.start()
        for digits in presses:
            self.press(digits)
        return self.answer
