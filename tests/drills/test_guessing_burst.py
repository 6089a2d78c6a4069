"""Drill: a burst of 500 guessing calls at once, through a real gunicorn, against the suite's database.

Half the calls come from a few dozen rotating numbers, half with the number withheld
(every withheld caller shares one bucket). Each call tries one to three (number, date)
pairs: mostly wrong, some real letters with the right date. Calls run concurrently (a
thread pool against several sync workers); within one call the webhooks follow each
other, as Twilio sends them. Each guess posts the lookup step (`/ivr/date/confirm`, key 1)
as Twilio does once the caller has keyed and confirmed number and date; the greeting and
the read-back steps before it touch no limit and are left out to keep the burst short
(the lookup step makes the call's row as the greeting would).

The limits are lowered for the drill. Asserted strictly, whatever the concurrency:
- every webhook answers 200 with TwiML;
- failed lookups never exceed the limit per call, per caller per hour (the withheld
  bucket included) or per transaction number per day (LookupAttempt rows);
- nothing is disclosed: a status is only ever spoken for a real (number, date); a
  number locked for the day does not reveal its status even for the right date; a wrong
  number and a wrong date get the same answers;
- LookupAttempt holds exactly the lookups that the answers show were made.
The same limits one request at a time: tests/ivr/test_throttling.py.
"""

from __future__ import annotations

import random
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import pytest
import requests
from sqlalchemy import func, select

from extensions import db
from models import LookupAttempt
from tests.support.drills import HttpTwilio
from tests.support.ivr import Answer, add_letter

pytestmark = pytest.mark.gunicorn
TOKEN = "drill-burst-token"
CALLS = 500
PER_CALL, PER_CALLER_HOUR, PER_NUMBER_DAY = 2, 6, 8
LETTER_DATE = date(2024, 3, 15)
REAL_NUMBERS = ["7001", "7002", "7003", "7004"]
UNTOUCHED = "7005"  # a real letter no guesser tries: still answered after the burst
FAKE_NUMBERS = [f"80{n:02d}" for n in range(8)]  # few enough that some lock too
ROTATING = [f"+964750100{n:04d}" for n in range(40)]
WITHHELD = ["anonymous", "restricted", "", "+266696687", "Unknown"]
STATUS_WORDS = ("forwarded", "Federal Ministry of Finance", "2 April 2024")
NOT_FOUND = "We could not find a letter"
THROTTLED_CALLER = "we cannot look up more letters on this call"
THROTTLED_NUMBER = "this letter can only be discussed with an agent today"
APOLOGY = "We are sorry, we cannot complete your request right now."


@dataclass
class Guess:
    call_sid: str
    caller: str
    number: str
    on: date
    real: bool  # this (number, date) is a letter
    wrong: str  # "" when real, else "number" or "date"
    text: str = ""
    kind: str = ""
    elapsed_s: float = 0.0


def plan(seed: int = 5599) -> list[tuple[str, str, list[Guess]]]:
    """Every call: its sid, its From, and the guesses it will try, in order."""
    rng = random.Random(seed)
    calls = []
    for n in range(CALLS):
        sid = f"CA{n:032d}"
        caller = ROTATING[n % len(ROTATING)] if n % 2 == 0 else WITHHELD[n % len(WITHHELD)]
        guesses = []
        for _ in range(rng.randint(1, 3)):
            if rng.random() < 0.35:
                number = rng.choice(REAL_NUMBERS)
                right = rng.random() < 0.3
                on = LETTER_DATE if right else date(2024, rng.randint(1, 12), rng.randint(1, 28))
                if on == LETTER_DATE:
                    right = True
                guesses.append(Guess(sid, caller, number, on, real=right, wrong="" if right else "date"))
            else:
                on = LETTER_DATE if rng.random() < 0.3 else date(2023, rng.randint(1, 12), rng.randint(1, 28))
                guesses.append(Guess(sid, caller, rng.choice(FAKE_NUMBERS), on, real=False, wrong="number"))
        calls.append((sid, caller, guesses))
    return calls


def kind_of(text: str) -> str:
    if APOLOGY in text:
        return "apology"
    if any(word in text for word in STATUS_WORDS):
        return "found"
    if NOT_FOUND in text:
        return "not_found+throttled" if THROTTLED_CALLER in text else "not_found"
    if THROTTLED_NUMBER in text:
        return "throttled_number"
    if THROTTLED_CALLER in text:
        return "throttled_caller"
    return "other"


def shape(answer: Answer) -> tuple:
    """What a caller hears and can do next, without the URLs (they carry the call's own step)."""
    return tuple(answer.said), tuple(child.tag for child in answer.root)


def over(counts: Counter, limit: int) -> dict:
    return {key: count for key, count in counts.items() if count > limit}


def test_five_hundred_concurrent_guessing_calls_hold_every_limit_and_disclose_nothing(
    app, app_context, database_url, gunicorn
):  # noqa: F811
    for number in REAL_NUMBERS + [UNTOUCHED]:
        add_letter(number=number, on=LETTER_DATE)
    server = gunicorn(
        {
            "DATABASE_URL": database_url,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "AGENT_HOURS": "00:00-24:00",
            "LIMIT_FAILED_LOOKUPS_PER_CALL": PER_CALL,
            "LIMIT_FAILED_LOOKUPS_PER_CALLER_HOUR": PER_CALLER_HOUR,
            "LIMIT_FAILED_LOOKUPS_PER_NUMBER_DAY": PER_NUMBER_DAY,
        },
        workers=4,
    )
    sessions = threading.local()
    failures: list[str] = []

    def play(call) -> None:
        sid, caller, guesses = call
        if not hasattr(sessions, "session"):
            sessions.session = requests.Session()
        twilio = HttpTwilio(server.base, TOKEN, sid, caller=caller, session=sessions.session)
        try:
            for step, guess in enumerate(guesses):
                url = f"/ivr/date/confirm?lang=en&s={6 + 5 * step}&n={guess.number}&d={guess.on.isoformat()}"
                response = twilio.post(url, Digits="1")
                answer = Answer.of(response)  # 200, text/xml, parsed
                guess.text, guess.kind, guess.elapsed_s = answer.text, kind_of(answer.text), response.elapsed_s
        except (AssertionError, ET.ParseError, requests.RequestException) as error:
            failures.append(f"{sid}: {error!r}"[:300])

    calls = plan()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=24) as pool:
        list(pool.map(play, calls))
    wall_s = time.monotonic() - started
    assert not failures, f"{len(failures)} calls got a non-TwiML answer, first: {failures[:3]}"
    guesses = [guess for _, _, call_guesses in calls for guess in call_guesses]
    kinds = Counter(guess.kind for guess in guesses)
    print(
        f"\n{CALLS} calls, {len(guesses)} webhooks in {wall_s:.1f} s; answers: {dict(kinds)}; "
        f"slowest {max(g.elapsed_s for g in guesses):.2f} s"
    )
    assert kinds["other"] == 0, [g.text for g in guesses if g.kind == "other"][:3]

    # Nothing disclosed: a status only for a real (number, date), never for a wrong one.
    assert all(g.real for g in guesses if g.kind == "found")
    leaks = [g for g in guesses if not g.real and any(word in g.text for word in STATUS_WORDS)]
    assert not leaks, f"a wrong guess was told something: {leaks[:2]}"
    # A wrong number and a wrong date are answered alike (apologies aside, which depend on load).
    heard = {
        wrong: {g.kind for g in guesses if g.wrong == wrong and g.kind != "apology"} for wrong in ("number", "date")
    }
    assert heard["number"] == heard["date"], heard

    # The limits held, counted where they are kept.
    db.session.expire_all()
    failed = select(LookupAttempt).where(LookupAttempt.found.is_(False))
    attempts = db.session.scalars(select(LookupAttempt)).all()
    failed_rows = db.session.scalars(failed).all()
    per_call = Counter(a.call_sid for a in failed_rows)
    per_caller = Counter(a.caller_key for a in failed_rows)
    per_number = Counter(a.number for a in failed_rows)
    overshoot = {
        f"per call (limit {PER_CALL})": over(per_call, PER_CALL),
        f"per caller per hour (limit {PER_CALLER_HOUR})": over(per_caller, PER_CALLER_HOUR),
        f"per number per day (limit {PER_NUMBER_DAY})": over(per_number, PER_NUMBER_DAY),
    }
    assert not any(overshoot.values()), f"failed lookups beyond a limit under concurrency: {overshoot}"
    assert per_caller["anonymous"] == PER_CALLER_HOUR  # the withheld bucket filled up, and stopped

    # LookupAttempt holds exactly the lookups the answers show were made.
    looked_up = Counter(g.call_sid for g in guesses if g.kind in {"found", "not_found", "not_found+throttled"})
    assert Counter(a.call_sid for a in attempts) == looked_up
    assert (
        db.session.scalar(select(func.count()).select_from(LookupAttempt).where(LookupAttempt.found.is_(True)))
        == kinds["found"]
    )

    # After the burst, one careful caller each: a locked letter stays locked even with the
    # right date; an untouched one still answers; a wrong number and a wrong date sound alike.
    def probe(n: int, number: str, on: date) -> Answer:
        twilio = HttpTwilio(server.base, TOKEN, f"CA{9000 + n:032d}", caller=f"+964770200{n:04d}")
        Answer.of(twilio.post("/ivr/voice"))
        return Answer.of(twilio.post(f"/ivr/date/confirm?lang=en&s=6&n={number}&d={on.isoformat()}", Digits="1"))

    for n, number in enumerate(REAL_NUMBERS):
        assert per_number[number] >= PER_NUMBER_DAY, f"{number} was not guessed enough to lock it"
        locked = probe(n, number, LETTER_DATE)
        assert THROTTLED_NUMBER in locked.text and not any(word in locked.text for word in STATUS_WORDS)
    assert "This letter has been forwarded." in probe(10, UNTOUCHED, LETTER_DATE).text
    wrong_date = probe(11, UNTOUCHED, date(2024, 3, 16))
    wrong_number = probe(12, "8999", LETTER_DATE)
    assert shape(wrong_date) == shape(wrong_number)
