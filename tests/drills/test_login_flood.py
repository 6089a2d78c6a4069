"""Drill: a flood of console logins with made-up names while calls come in, on a real gevent
gunicorn (as production runs it, behind one proxy that sets X-Forwarded-For).

60 logins at once, random usernames, from 6 addresses (10 each: within every login limit,
so each one is verified or refused for want of a slot, never throttled). Meanwhile a new
call's signed `/ivr/voice` is posted every 50 ms and timed. Argon2 takes a core for about a
tenth of a second per login; before it ran off the event loop, such a flood held
`/ivr/voice` past Twilio's 15 s and logins answered 500 (their greenlets held every pooled
connection while the loop was blocked). Asserted:
- no login answers 500: each is 401 (verified, wrong) or 429 (no verification slot free
  in time: "try again in a moment");
- every `/ivr/voice` answers 200 within 2 s (a liveness bound; Twilio waits 15 s);
- once the flood is over, the real user logs in.
It prints what it measured. PostgreSQL pass only (like the other gunicorn drills).
"""

from __future__ import annotations

import re
import statistics
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.console import make_user
from tests.support.drills import HttpTwilio, sid
from tests.support.records import PASSWORD
from tests.support.webhooks import AUTH_TOKEN

pytestmark = [pytest.mark.gunicorn, pytest.mark.usefixtures("postgres_pass")]
LOGINS = 60
ADDRESSES = [f"198.51.100.{n}" for n in range(1, 7)]
IVR_EVERY_S = 0.05
IVR_BOUND_S = 2.0
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def login_form(base: str, address: str) -> tuple[requests.Session, str]:
    """A browser with the login page open: its session cookie and CSRF token."""
    browser = requests.Session()
    page = browser.get(base + "/console/login", headers={"X-Forwarded-For": address}, timeout=10)
    found = CSRF.search(page.text)
    assert page.status_code == 200 and found, page.status_code
    return browser, found.group(1)


def test_a_login_flood_leaves_the_ivr_answering(app_context, database_url, gunicorn):  # noqa: F811
    make_user("amira")
    server = gunicorn(
        {
            "DATABASE_URL": database_url,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "AGENT_HOURS": "00:00-24:00",
            "SESSION_COOKIE_SECURE": "0",
            "PROXY_FIX_HOPS": "1",
        },
        workers=2,
        worker_class="gevent",
    )
    with ThreadPoolExecutor(max_workers=12) as pool:
        forms = list(pool.map(lambda n: login_form(server.base, ADDRESSES[n % len(ADDRESSES)]), range(LOGINS)))

    flood_over = threading.Event()
    ivr: list[tuple[int, float]] = []

    def calls_coming_in() -> None:
        n = 0
        while not flood_over.is_set():
            n += 1
            started = time.monotonic()
            answer = HttpTwilio(server.base, AUTH_TOKEN, sid(n), caller=f"+96475011{n:05d}").post("/ivr/voice")
            ivr.append((answer.status_code, answer.elapsed_s))
            time.sleep(max(0.0, IVR_EVERY_S - (time.monotonic() - started)))

    start = threading.Barrier(LOGINS + 1)

    def log_in(n: int) -> tuple[int, float]:
        browser, token = forms[n]
        start.wait()
        started = time.monotonic()
        answer = browser.post(
            server.base + "/console/login",
            data={"username": f"flood-{uuid.uuid4().hex[:12]}", "password": "a guess", "csrf_token": token},
            headers={"X-Forwarded-For": ADDRESSES[n % len(ADDRESSES)]},
            allow_redirects=False,
            timeout=30,
        )
        return answer.status_code, time.monotonic() - started

    caller_thread = threading.Thread(target=calls_coming_in)
    caller_thread.start()
    try:
        with ThreadPoolExecutor(max_workers=LOGINS) as pool:
            futures = [pool.submit(log_in, n) for n in range(LOGINS)]
            time.sleep(0.2)  # calls already coming in when the flood starts
            start.wait()
            flood_started = time.monotonic()
            logins = [future.result() for future in futures]
            flood_s = time.monotonic() - flood_started
        time.sleep(0.2)
    finally:
        flood_over.set()
        caller_thread.join(30)

    statuses = Counter(status for status, _ in logins)
    latencies = [seconds for _, seconds in ivr]
    print(
        f"\n{LOGINS} logins from {len(ADDRESSES)} addresses in {flood_s:.1f} s: {dict(statuses)}, "
        f"slowest login {max(s for _, s in logins):.2f} s; "
        f"/ivr/voice x{len(ivr)}: p50 {statistics.median(latencies):.2f} s, max {max(latencies):.2f} s"
    )
    assert set(statuses) <= {401, 429}, f"logins must be refused or told to wait, never fail: {dict(statuses)}"
    assert statuses[401] > 0  # the flood was verified, not only turned away
    assert all(status == 200 for status, _ in ivr), Counter(status for status, _ in ivr)
    assert max(latencies) < IVR_BOUND_S, f"/ivr/voice took {max(latencies):.2f} s during the flood"

    browser, token = login_form(server.base, "192.0.2.50")
    answer = browser.post(
        server.base + "/console/login",
        data={"username": "amira", "password": PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-For": "192.0.2.50"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.status_code
