"""Password hashing with Argon2id (argon2-cffi's defaults exceed OWASP's minimum).

One Argon2 computation takes a core for about a tenth of a second. Under gevent (production's
gunicorn workers) it runs in a native thread of gevent's threadpool: argon2-cffi releases the
GIL while it computes, so the worker's event loop keeps answering Twilio's webhooks meanwhile;
the thread runs niced, so on busy cores the webhooks come first.
Elsewhere (sync workers, the CLI, tests) it is a plain call.

At most LOGIN_VERIFY_CONCURRENCY verifications run at once in a process (`VerifySlots`); an
attempt that finds no slot within LOGIN_VERIFY_WAIT_MS is refused (`VerifiersBusy`, which the
login view answers "try again in a moment"), so a flood of logins queues no more than that.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # Argon2id, t=3, m=64 MiB, p=4 (RFC 9106 low-memory profile)
MIN_LENGTH = 10
# Verified against when the user does not exist, so that a wrong username costs the same one
# verification as a wrong password. Made once with the hasher's own parameters (a test checks
# they still match), never at run time: making it costs a hash, a second Argon2 computation.
DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$G5BPR7EHYGxeSVDXGocKkg$l52VOhcoU/07qnzHuoSvTO95QpxtQ6b4OypXtxtdifk"

ARGON2_NICE = 10  # the threadpool's threads, once they have run Argon2 (see `_yielding`)
T = TypeVar("T")


def gevent_active() -> bool:
    """Whether gevent has patched this process's threads (as gunicorn's gevent worker does
    before it loads the app). gevent is only looked at if something imported it already."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def _yielding(function: Callable[..., T], *args) -> T:
    """`function(*args)` at a lower CPU priority (Linux: nice is per thread, and the threads
    Argon2 starts for its lanes inherit it), so that on busy cores webhooks come first."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, max(os.getpriority(os.PRIO_PROCESS, 0), ARGON2_NICE))
    except (AttributeError, OSError):  # not Linux, or not allowed: at the usual priority
        pass
    return function(*args)


def off_the_loop(function: Callable[..., T], *args) -> T:
    """`function(*args)` in a native thread under gevent (this greenlet waits, the others run),
    niced (`_yielding`); a plain call otherwise (never niced: that would slow the whole worker)."""
    if gevent_active():
        import gevent

        return gevent.get_hub().threadpool.apply(_yielding, (function, *args))
    return function(*args)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_password(password: str) -> str:
    return off_the_loop(_hasher.hash, password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Exactly one Argon2 verification, against DUMMY_HASH when there is no hash (False then)."""
    return off_the_loop(_verify, password_hash or DUMMY_HASH, password) and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters"
    if password.strip() != password:
        return "no spaces at the start or end"
    return None


class VerifiersBusy(Exception):
    """No verification slot came free in time: the attempt was not verified."""


class VerifySlots:
    """At most `size` verifications at once in this process; a caller waits `wait_s` at most.

    The semaphore is made on first use, in the process that serves requests (after gevent's
    patching and gunicorn's fork), so under gevent a waiting greenlet lets the others run.
    """

    def __init__(self, size: int, wait_s: float):
        self.size = max(1, size)
        self.wait_s = max(0.0, wait_s)
        self._semaphore: threading.BoundedSemaphore | None = None
        self._made = threading.Lock()

    def _slots(self) -> threading.BoundedSemaphore:
        if self._semaphore is None:
            with self._made:
                if self._semaphore is None:
                    self._semaphore = threading.BoundedSemaphore(self.size)
        return self._semaphore

    @contextmanager
    def held(self) -> Iterator[None]:
        slots = self._slots()
        if not slots.acquire(timeout=self.wait_s):
            raise VerifiersBusy
        try:
            yield
        finally:
            slots.release()


def verify_slots(app) -> VerifySlots:
    slots = app.extensions.get("hotline.verify_slots")
    if slots is None:
        slots = app.extensions["hotline.verify_slots"] = VerifySlots(
            app.config["LOGIN_VERIFY_CONCURRENCY"], app.config["LOGIN_VERIFY_WAIT_MS"] / 1000
        )
    return slots
