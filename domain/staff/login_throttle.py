"""Throttling console logins: every attempt is counted before its password is verified.

Three counts, each checked before the (costly) verification, so that concurrent attempts
cannot slip past a limit while others are being verified:
- per account and address (LOGIN_LIMIT_PER_ACCOUNT_ADDRESS, "5 per minute");
- per address (LOGIN_LIMIT_PER_ADDRESS, "30 per 10 minutes");
- per account, from anywhere: LOGIN_FREE_FAILURES_PER_ACCOUNT attempts, then a growing delay
  (1 s, 2 s, 4 s ... at most LOGIN_DELAY_MAX_S) between attempts, one attempt per delay; the
  count starts again an hour after the account's last attempt.
  Not a lockout: the owner waits at most LOGIN_DELAY_MAX_S, and a browser the account
  logged in from before (a signed cookie) skips this count entirely.
A successful login gives its own attempt back, so good logins never lock anyone out.

The counts live in Redis (REDIS_URL), shared by every node. When Redis does not answer, a
count in this process takes over (fail closed-ish: each worker still limits, it does not
let every attempt through), and the process's Redis breaker leaves Redis alone for a few
seconds (domain.redis_guard: REDIS_WEB_TIMEOUT_MS, REDIS_WEB_PAUSE_S).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field

import redis
from limits import parse

from domain.redis_guard import RedisGuard, web_redis

log = logging.getLogger(__name__)
ACCOUNT_WINDOW_S = 3600  # the per-account count starts again an hour after its last attempt
MEMORY_MAX_KEYS = 50_000


def now() -> float:
    return time.monotonic()


class MemoryCounts:
    """Counts in this process (thread- and greenlet-safe), expiring like Redis keys."""

    def __init__(self):
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[int, float]] = {}

    def _live(self, key: str, at: float) -> tuple[int, float] | None:
        entry = self._keys.get(key)
        if entry is not None and entry[1] <= at:
            del self._keys[key]
            return None
        return entry

    def _make_room(self, at: float) -> None:
        if len(self._keys) >= MEMORY_MAX_KEYS:
            for key in [key for key, (_, until) in self._keys.items() if until <= at]:
                del self._keys[key]
        if len(self._keys) >= MEMORY_MAX_KEYS:  # a flood of names: forget the oldest half
            for key in sorted(self._keys, key=lambda k: self._keys[k][1])[: MEMORY_MAX_KEYS // 2]:
                del self._keys[key]

    def hit(self, key: str, window_s: float, sliding: bool = False) -> tuple[int, float]:
        """Count one more; the count and the seconds until it starts again (a fixed window,
        or, `sliding`, `window_s` after this hit)."""
        with self._lock:
            at = now()
            entry = self._live(key, at)
            if entry is None:
                self._make_room(at)
                entry = (0, at + window_s)
            count, until = entry[0] + 1, at + window_s if sliding else entry[1]
            self._keys[key] = (count, until)
            return count, until - at

    def unhit(self, key: str) -> None:
        with self._lock:
            entry = self._live(key, now())
            if entry is not None and entry[0] > 0:
                self._keys[key] = (entry[0] - 1, entry[1])

    def claim(self, key: str, hold_s: float) -> float:
        """0 if the key was free (it is now held for `hold_s`), else the seconds it is still held."""
        with self._lock:
            at = now()
            entry = self._live(key, at)
            if entry is not None:
                return entry[1] - at
            self._make_room(at)
            self._keys[key] = (1, at + hold_s)
            return 0.0


UNHIT = """
local value = tonumber(redis.call('GET', KEYS[1]) or '0')
if value > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


class RedisCounts:
    """The same counts in Redis, atomic across every worker and node."""

    def __init__(self, client: redis.Redis):
        self.redis = client
        self._unhit = self.redis.register_script(UNHIT)

    def hit(self, key: str, window_s: float, sliding: bool = False) -> tuple[int, float]:
        seconds = max(1, math.ceil(window_s))
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(key, 0, ex=seconds, nx=True)
        pipe.incr(key)
        if sliding:
            pipe.expire(key, seconds)
        pipe.pttl(key)
        results = pipe.execute()
        count, ttl_ms = results[1], results[-1]
        return int(count), max(ttl_ms, 0) / 1000

    def unhit(self, key: str) -> None:
        self._unhit(keys=[key])

    def claim(self, key: str, hold_s: float) -> float:
        if self.redis.set(key, 1, px=max(1, int(hold_s * 1000)), nx=True):
            return 0.0
        return max(self.redis.pttl(key), 0) / 1000


@dataclass
class Verdict:
    """Whether to verify this attempt; if not, after how long to try again."""

    allowed: bool
    retry_after_s: int = 0
    counted: list[str] = field(default_factory=list)


class LoginThrottle:
    def __init__(self, config, shared: RedisCounts | None = None, guard: RedisGuard | None = None):
        self.pair = parse(config["LOGIN_LIMIT_PER_ACCOUNT_ADDRESS"])
        self.address = parse(config["LOGIN_LIMIT_PER_ADDRESS"])
        self.free_failures = config["LOGIN_FREE_FAILURES_PER_ACCOUNT"]
        self.delay_max_s = config["LOGIN_DELAY_MAX_S"]
        self.prefix = f"{config['RATELIMIT_KEY_PREFIX']}login:"
        self.memory = MemoryCounts()
        self.shared = shared
        self.guard = guard

    def _run(self, operation: str, *args):
        if self.shared is not None and self.guard is not None:
            try:
                return self.guard.call("login limits", getattr(self.shared, operation), *args)
            except redis.RedisError:  # not answering, or skipped for now: this process counts alone
                pass
        return getattr(self.memory, operation)(*args)

    def delay_after(self, attempts: int) -> float:
        """The wait after the `attempts`-th attempt on one account (0 while attempts are free)."""
        beyond = attempts - self.free_failures
        if beyond <= 0:
            return 0.0
        return float(min(2 ** min(beyond - 1, 30), self.delay_max_s))

    def admit(self, username: str, address: str, *, known_browser: bool) -> Verdict:
        """Count this attempt; allowed if no limit is passed (then verify the password)."""
        pair_key = f"{self.prefix}pair:{address}|{username}"
        count, reset_s = self._run("hit", pair_key, self.pair.get_expiry())
        if count > self.pair.amount:
            return Verdict(False, math.ceil(reset_s))
        address_key = f"{self.prefix}address:{address}"
        count, reset_s = self._run("hit", address_key, self.address.get_expiry())
        if count > self.address.amount:
            return Verdict(False, math.ceil(reset_s))
        counted = [pair_key, address_key]
        if not known_browser:
            account_key = f"{self.prefix}account:{username}"
            attempts, _ = self._run("hit", account_key, ACCOUNT_WINDOW_S, True)
            delay = self.delay_after(attempts)
            if delay:
                wait = self._run("claim", f"{self.prefix}account-turn:{username}", delay)
                if wait > 0:
                    self._run("unhit", account_key)  # a refused attempt does not grow the delay
                    return Verdict(False, max(1, math.ceil(wait)))
            counted.append(account_key)
        return Verdict(True, counted=counted)

    def succeeded(self, verdict: Verdict) -> None:
        """A good login gives its attempt back to every count."""
        for key in verdict.counted:
            self._run("unhit", key)


def login_throttle(app) -> LoginThrottle:
    throttle = app.extensions.get("hotline.login_throttle")
    if throttle is None:
        if app.config["REDIS_URL"]:
            web = web_redis(app.config["REDIS_URL"], app)
            throttle = LoginThrottle(app.config, RedisCounts(web.client), web.guard)
        else:
            throttle = LoginThrottle(app.config)
        app.extensions["hotline.login_throttle"] = throttle
    return throttle
