"""Login throttling: counted before the password is verified, never open when Redis is away,
a growing delay per account instead of a lockout, and one verification per attempt."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis

import agent_console.auth
import domain.staff.login_throttle
from domain.staff.passwords import verify_password, verify_slots
from extensions import db
from models import User
from tests.support.records import PASSWORD, csrf_token, log_in
from tests.support.services import REDIS_URL, RUN_PREFIX


@pytest.fixture
def verifications(monkeypatch):
    """Every password verification the login view makes, each slowed a little to widen races."""
    made = []

    def counted(password_hash, password):
        made.append(password_hash is not None)
        time.sleep(0.05)
        return verify_password(password_hash, password)

    monkeypatch.setattr(agent_console.auth, "verify_password", counted)
    return made


@pytest.fixture
def plenty_of_slots(app, monkeypatch):
    """A verification slot for every attempt of a burst: what is tested is the counting, not
    the cap on verifications at once (on busy cores, 2 slots could turn some away as busy)."""
    monkeypatch.setitem(app.config, "LOGIN_VERIFY_CONCURRENCY", 50)
    app.extensions.pop("hotline.verify_slots", None)
    yield
    app.extensions.pop("hotline.verify_slots", None)


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, moved by the test."""
    current = [1000.0]
    monkeypatch.setattr(domain.staff.login_throttle, "now", lambda: current[0])
    return current


@pytest.fixture
def shared_redis(app, monkeypatch):
    """The login counts in the test Redis, under this run's own prefix."""
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.fail(f"Redis is not answering at {REDIS_URL}")
    prefix = f"{RUN_PREFIX}{uuid.uuid4().hex[:8]}:"
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "RATELIMIT_KEY_PREFIX", prefix)
    app.extensions.pop("hotline.login_throttle", None)
    yield connection
    for key in connection.scan_iter(f"{prefix}*"):
        connection.delete(key)
    connection.close()
    app.extensions.pop("hotline.login_throttle", None)


def attempt(app, password: str = "guess", address: str = "203.0.113.5", username: str = "aya", client=None):
    return log_in(client or app.test_client(), username, password, environ_base={"REMOTE_ADDR": address})


def burst(app, n: int) -> list[int]:
    """`n` wrong passwords for one account from one address, all at once."""
    clients = [app.test_client() for _ in range(n)]
    tokens = [csrf_token(client) for client in clients]
    codes: list[int] = []
    start = threading.Barrier(n)

    def one(client, token):
        start.wait()
        response = client.post(
            "/console/login",
            data={"username": "aya", "password": "guess", "csrf_token": token},
            environ_base={"REMOTE_ADDR": "203.0.113.5"},
        )
        codes.append(response.status_code)

    threads = [threading.Thread(target=one, args=pair) for pair in zip(clients, tokens, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes


def test_concurrent_attempts_are_counted_before_any_is_verified(app, staff, verifications, plenty_of_slots):
    codes = burst(app, 20)
    print(f"20 concurrent attempts, limit 5: {len(verifications)} verified, codes {sorted(codes)}")
    assert len(verifications) == 5
    assert sorted(codes) == [401] * 5 + [429] * 15


def test_concurrent_attempts_are_counted_in_redis_too(app, staff, verifications, shared_redis, plenty_of_slots):
    codes = burst(app, 20)
    assert len(verifications) == 5 and codes.count(429) == 15


def test_with_redis_unreachable_this_process_still_counts(app, staff, verifications, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    app.extensions.pop("hotline.login_throttle", None)
    codes = [attempt(app).status_code for _ in range(8)]
    assert codes == [401] * 5 + [429] * 3
    assert len(verifications) == 5


def test_with_redis_frozen_logins_answer_at_once_and_still_count(app, staff, verifications, frozen_redis):
    frozen_redis.freeze()
    codes, took = [], []
    for _ in range(8):
        started = time.monotonic()
        codes.append(attempt(app).status_code)
        took.append(time.monotonic() - started)
    print("login attempts with Redis frozen (s):", " ".join(f"{t:.2f}" for t in took))
    assert codes == [401] * 5 + [429] * 3  # counted in the process meanwhile
    assert max(took) < 2  # one short Redis timeout at most, not one per count


def test_guesses_from_anywhere_slow_the_account_down_but_never_lock_it_for_long(app, staff, clock):
    waits = []
    for n in range(60):  # each guess from a new address, each as soon as allowed
        response = attempt(app, address=f"198.51.100.{n}")
        if response.status_code == 429:
            wait = int(response.headers["Retry-After"])
            waits.append(wait)
            clock[0] += wait
        else:
            assert response.status_code == 401
    print(f"waits between guesses on one account: {waits}")
    assert waits[:5] == [1, 2, 4, 8, 16]  # grows
    assert max(waits) == app.config["LOGIN_DELAY_MAX_S"] == 300  # and stops growing: never an hour
    clock[0] += 300
    assert attempt(app, address="198.51.100.250").status_code == 401  # the attacker's turn, just taken
    # The owner, on a new browser, waits at most the cap, where it used to be an hour.
    owner = attempt(app, PASSWORD, address="192.0.2.10")
    assert owner.status_code == 429 and int(owner.headers["Retry-After"]) <= 300
    clock[0] += int(owner.headers["Retry-After"])
    assert attempt(app, PASSWORD, address="192.0.2.10").status_code == 302


def test_a_browser_that_logged_in_before_skips_the_account_delay(app, staff, clock):
    office = app.test_client()
    assert attempt(app, PASSWORD, address="192.0.2.10", client=office).status_code == 302
    office.post("/console/logout", data={"csrf_token": csrf_token(office, "/console/search")})
    for n in range(30):
        attempt(app, address=f"198.51.100.{n}")
    assert attempt(app, PASSWORD, address="192.0.2.11").status_code == 429  # a new browser waits
    assert attempt(app, PASSWORD, address="192.0.2.10", client=office).status_code == 302  # the office's does not


def test_one_verification_per_attempt_whether_or_not_the_user_exists(app, staff, verifications):
    with app.app_context():
        db.session.get(User, staff["supervisor"]).active = False
        db.session.commit()
    for username in ["aya", "nobody", "sami"]:  # wrong password, no such user, deactivated
        verifications.clear()
        assert attempt(app, username=username).status_code == 401
        assert len(verifications) == 1, username
    verifications.clear()
    assert attempt(app, PASSWORD).status_code == 302 and verifications == [True]


BUSY_AR = "عمليات تسجيل دخول كثيرة جداً الآن. يرجى المحاولة مرة أخرى بعد لحظات."  # "Too many logins right now..."


@pytest.fixture
def one_slot(app, monkeypatch):
    """One verification at a time, and a short wait for it."""
    monkeypatch.setitem(app.config, "LOGIN_VERIFY_CONCURRENCY", 1)
    monkeypatch.setitem(app.config, "LOGIN_VERIFY_WAIT_MS", 50)
    app.extensions.pop("hotline.verify_slots", None)
    yield verify_slots(app)
    app.extensions.pop("hotline.verify_slots", None)


def test_with_every_slot_taken_a_login_is_told_to_try_again_in_a_moment(app, staff, verifications, one_slot):
    with one_slot.held():  # another login being verified
        started = time.monotonic()
        busy = attempt(app, PASSWORD)
        assert time.monotonic() - started < 2  # waited its short while only
    assert busy.status_code == 429 and busy.headers["Retry-After"] == "2"
    assert BUSY_AR in busy.get_data(as_text=True)
    assert verifications == []  # refused before anything was verified
    # The refused attempt was given back: the per-account-and-address limit (5) is all there.
    codes = [attempt(app).status_code for _ in range(5)]
    assert codes == [401] * 5
    assert attempt(app).status_code == 429 and len(verifications) == 5


def test_concurrent_logins_beyond_the_slots_wait_or_are_refused_never_fail(app, staff, monkeypatch, one_slot):
    def slow(password_hash, password):
        time.sleep(0.2)
        return verify_password(password_hash, password)

    monkeypatch.setattr(agent_console.auth, "verify_password", slow)
    clients = [app.test_client() for _ in range(6)]
    tokens = [csrf_token(client) for client in clients]
    codes: list[int] = []
    start = threading.Barrier(len(clients))

    def one(n, client, token):
        start.wait()
        response = client.post(
            "/console/login",
            data={"username": f"user{n}", "password": "guess", "csrf_token": token},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
        )
        codes.append(response.status_code)

    threads = [
        threading.Thread(target=one, args=(n, *pair)) for n, pair in enumerate(zip(clients, tokens, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 401 in codes and 429 in codes and set(codes) <= {401, 429}, codes


def test_a_login_holds_no_database_connection_while_it_is_verified(app, staff, monkeypatch):
    held = []

    def watched(password_hash, password):
        held.append(db.session().in_transaction())
        return verify_password(password_hash, password)

    monkeypatch.setattr(agent_console.auth, "verify_password", watched)
    assert attempt(app).status_code == 401
    assert attempt(app, PASSWORD).status_code == 302
    assert held == [False, False]


def test_an_account_deactivated_while_its_password_is_verified_is_not_opened(app, staff, monkeypatch):
    def meanwhile(password_hash, password):
        good = verify_password(password_hash, password)
        db.session.get(User, staff["agent"]).active = False  # an administrator, at that moment
        db.session.commit()
        return good

    monkeypatch.setattr(agent_console.auth, "verify_password", meanwhile)
    client = app.test_client()
    assert attempt(app, PASSWORD, client=client).status_code == 401
    assert client.get("/console/search").status_code == 302
