"""Drill: strangers post 1 MB bodies of 100,000 fields to Twilio's webhooks, on a real gevent
gunicorn (as production runs it), while Twilio's own calls come in.

16 senders at once post to `/ivr/voice` and `/sms/status`, each attack one of:
- 1 MB urlencoded, about 100,000 fields, with a well-formed but wrong X-Twilio-Signature
  (its Content-Length says too large: 413 before the body is read);
- the same 1 MB sent chunked, with no Content-Length (413 once WEBHOOK_MAX_BYTES is read);
- 30 KB of 15,000 empty fields, under the byte limit (413 on the field count, unparsed);
- 1 MB with a malformed signature (403 before the body is read).
Meanwhile one caller after another rings: signed `/ivr/voice` webhooks, timed.

Asserted: every attack is refused, 413 or 403, never 500 (the malformed signature's 403
comes before its 1 MB is read, and gunicorn then closes the connection: a sender still
sending may see the reset instead of the 403, which is counted and printed, not failed);
every genuine webhook answers 200 with TwiML, each within LIVENESS_S (a liveness bound,
well inside Twilio's 15 s: the test machine's load, not the app, sets the slowest answers).
Printed: p50 and max of the genuine webhooks' latencies, and the attacks' answers; the
README's production section has the figures. The limits one request at a time: tests/ivr/test_signatures.py.
"""

from __future__ import annotations

import base64
import os
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests

from tests.support.drills import HttpTwilio, sid
from tests.support.ivr import Answer

pytestmark = pytest.mark.gunicorn
TOKEN = "drill-big-bodies-token"
SENDERS = 16
ROUNDS = 8  # attacks per sender
LIVENESS_S = 10.0
FIELDS = 100_000
BIG_BODY = b"&".join(b"f%05d=xx" % n for n in range(FIELDS))  # 100,000 fields, 1,000,000 bytes
MANY_FIELDS = b"&" * 15_000  # 15,001 empty fields in 15 KB: small, but past WEBHOOK_MAX_FIELDS
TARGETS = ("/ivr/voice", "/sms/status")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass(frozen=True)
class Attack:
    name: str
    expected: int

    def send(self, session: requests.Session, url: str) -> requests.Response:
        wrong = base64.b64encode(os.urandom(20)).decode()  # 28 characters, as Twilio's: the shape passes
        if self.name == "malformed signature":
            return session.post(url, data=BIG_BODY, headers={**FORM, "X-Twilio-Signature": "x" * 300}, timeout=10)
        headers = {**FORM, "X-Twilio-Signature": wrong}
        if self.name == "1 MB, chunked":
            chunks = (BIG_BODY[at : at + 65536] for at in range(0, len(BIG_BODY), 65536))
            return session.post(url, data=chunks, headers=headers, timeout=10)
        body = MANY_FIELDS if self.name == "15,000 fields in 15 KB" else BIG_BODY
        return session.post(url, data=body, headers=headers, timeout=10)


ATTACKS = (
    Attack("1 MB, wrong signature", 413),
    Attack("1 MB, chunked", 413),
    Attack("15,000 fields in 15 KB", 413),
    Attack("malformed signature", 403),
)


def test_big_bodies_are_refused_while_twilios_webhooks_are_answered(database_url, gunicorn):
    assert len(BIG_BODY) == 1_000_000 - 1 and BIG_BODY.count(b"&") + 1 == FIELDS
    server = gunicorn(
        {"DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": TOKEN, "AGENT_HOURS": "00:00-24:00"},
        workers=2,
        worker_class="gevent",
    )
    answers: Counter = Counter()
    attack_s: list[float] = []
    broken: list[str] = []
    lock = threading.Lock()
    attacking = threading.Event()

    def attacker(n: int) -> None:
        session = requests.Session()
        for round_ in range(ROUNDS):
            attack = ATTACKS[(n + round_) % len(ATTACKS)]
            url = server.base + TARGETS[(n + round_) % len(TARGETS)]
            started = time.monotonic()
            try:
                status = attack.send(session, url).status_code
            except requests.ConnectionError as error:
                with lock:
                    if attack.name == "malformed signature":
                        answers[(attack.name, "reset")] += 1  # refused before its body was read
                    else:
                        broken.append(f"{attack.name} -> {url}: {error!r}"[:300])
                continue
            except requests.RequestException as error:
                with lock:
                    broken.append(f"{attack.name} -> {url}: {error!r}"[:300])
                continue
            with lock:
                answers[(attack.name, status)] += 1
                attack_s.append(time.monotonic() - started)

    genuine_s: list[float] = []
    genuine_failures: list[str] = []

    def caller_after_caller() -> None:
        session = requests.Session()
        n = 0
        while attacking.is_set() or n < 5:
            n += 1
            try:
                response = HttpTwilio(server.base, TOKEN, sid(7000 + n), session=session).post("/ivr/voice")
                answer = Answer.of(response)  # 200, text/xml, parsed
                assert answer.gather is not None, answer.text
                genuine_s.append(response.elapsed_s)
            except (AssertionError, requests.RequestException) as error:
                genuine_failures.append(f"call {n}: {error!r}"[:300])
            time.sleep(0.02)

    warm = requests.Session()  # each worker's first call loads what every later one reuses
    for n in range(6):
        Answer.of(HttpTwilio(server.base, TOKEN, sid(6000 + n), session=warm).post("/ivr/voice"))

    warm = requests.Session()  # each worker's first call loads what every later one reuses
    for n in range(6):
        Answer.of(HttpTwilio(server.base, TOKEN, sid(6000 + n), session=warm).post("/ivr/voice"))

    attacking.set()
    started = time.monotonic()
    timer = threading.Thread(target=caller_after_caller)
    timer.start()
    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        list(pool.map(attacker, range(SENDERS)))
    attacking.clear()
    timer.join(30)
    wall_s = time.monotonic() - started

    total = SENDERS * ROUNDS
    print(
        f"\n{total} attacks from {SENDERS} senders in {wall_s:.1f} s; answers: "
        + ", ".join(f"{name} {status}: {count}" for (name, status), count in sorted(answers.items()))
        + f"; an attack answered in p50 {statistics.median(attack_s or [0]):.3f} s, max {max(attack_s or [0]):.3f} s"
    )
    print(
        f"{len(genuine_s)} genuine /ivr/voice webhooks meanwhile: "
        f"p50 {statistics.median(genuine_s or [0]):.3f} s, max {max(genuine_s or [0]):.3f} s"
    )
    assert not broken, f"{len(broken)} attacks got no answer, first: {broken[:3]}"
    expected = {a.name: {a.expected} for a in ATTACKS} | {"malformed signature": {403, "reset"}}
    wrong = {key: count for key, count in answers.items() if key[1] not in expected[key[0]]}
    assert not wrong, f"attacks answered otherwise than refused: {wrong}"
    assert sum(answers.values()) == total
    assert not genuine_failures, genuine_failures[:3]
    assert len(genuine_s) >= 5
    assert max(genuine_s) < LIVENESS_S, (
        f"a genuine webhook took {max(genuine_s):.2f} s during the attack; "
        f"slowest: {[round(s, 2) for s in sorted(genuine_s)[-3:]]}"
    )
