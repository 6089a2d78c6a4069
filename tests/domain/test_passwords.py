"""Password hashing: one Argon2 computation per verification, run off gevent's event loop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from domain.staff import passwords
from domain.staff.passwords import DUMMY_HASH, VerifiersBusy, VerifySlots, hash_password, verify_password

ROOT = Path(__file__).resolve().parents[2]

# Run in a process of its own, patched by gevent as gunicorn's gevent worker patches itself.
UNDER_GEVENT = """
from gevent import monkey

monkey.patch_all()

import json
import os
import time

import gevent

from domain.staff.passwords import VerifiersBusy, VerifySlots, gevent_active, hash_password, verify_password

ticks = []


def ticker():
    while True:
        ticks.append(time.monotonic())
        gevent.sleep(0.005)


gevent.spawn(ticker)
gevent.sleep(0.02)
made = hash_password("a long enough secret")
start = time.monotonic()
good = verify_password(made, "a long enough secret")
took = time.monotonic() - start
during = sum(start < tick < start + took for tick in ticks)

slots = VerifySlots(1, 0.1)


def hold():
    with slots.held():
        gevent.sleep(0.4)


gevent.spawn(hold)
gevent.sleep(0.01)
before = len(ticks)
try:
    with slots.held():
        refused = False
except VerifiersBusy:
    refused = True
print(json.dumps({
    "gevent": gevent_active(), "good": good, "took": took, "ticks_during": during,
    "refused": refused, "ticks_while_waiting": len(ticks) - before,
}))
"""


def test_under_gevent_a_verification_runs_in_a_native_thread_and_the_loop_keeps_going():
    run = subprocess.run([sys.executable, "-c", UNDER_GEVENT], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"\nunder gevent: {seen}")
    assert seen["gevent"] and seen["good"]
    # A loop blocked by Argon2 would tick not once while the verification lasts (a tick every 5 ms).
    assert seen["ticks_during"] >= 3, seen
    # Waiting for a slot is cooperative too, and ends in a refusal, not a hang.
    assert seen["refused"] and seen["ticks_while_waiting"] >= 3, seen


def test_without_gevent_it_is_a_plain_call_in_this_thread(monkeypatch):
    threads = []
    real = passwords._verify

    def recorded(password_hash, password):
        threads.append(threading.get_ident())
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "_verify", recorded)
    assert not passwords.gevent_active()
    assert verify_password(hash_password("a long enough secret"), "a long enough secret")
    assert threads == [threading.get_ident()]


def test_the_stand_in_hash_has_the_hashers_own_parameters():
    """Else an unknown username would cost a different time than a known one."""
    assert not passwords.needs_rehash(DUMMY_HASH)
    assert verify_password(None, "no-such-user-placeholder-password") is False


class CountingHasher:
    """The module's hasher, counting each Argon2 computation (hash or verify)."""

    def __init__(self, real):
        self.real, self.computations = real, 0

    def hash(self, password):
        self.computations += 1
        return self.real.hash(password)

    def verify(self, password_hash, password):
        self.computations += 1
        return self.real.verify(password_hash, password)

    def check_needs_rehash(self, password_hash):
        return self.real.check_needs_rehash(password_hash)


@pytest.mark.parametrize("known", [True, False])
def test_one_argon2_computation_per_verification_known_user_or_not(monkeypatch, known):
    made = hash_password("a long enough secret")
    counting = CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", counting)
    assert verify_password(made if known else None, "wrong password") is False
    assert counting.computations == 1


def test_slots_refuse_once_full_and_come_free_again():
    slots = VerifySlots(2, 0.05)
    with slots.held(), slots.held():
        started = time.monotonic()
        with pytest.raises(VerifiersBusy):
            with slots.held():
                pass
        assert time.monotonic() - started < 2  # waited its short while, then refused
    with slots.held(), slots.held():
        pass  # both came back


def test_argon2_off_the_loop_runs_niced_and_a_plain_call_does_not():
    """Under gevent the pool's thread gives way to the webhooks on busy cores; without gevent
    the caller's thread is the worker itself, which must keep its priority."""
    here = os.getpriority(os.PRIO_PROCESS, 0)
    assert verify_password(None, "x") is False
    assert os.getpriority(os.PRIO_PROCESS, 0) == here
    seen = []
    thread = threading.Thread(
        target=lambda: seen.append(passwords._yielding(os.getpriority, os.PRIO_PROCESS, 0)), daemon=True
    )
    thread.start()
    thread.join(10)
    assert seen == [max(here, passwords.ARGON2_NICE)]
