"""The real services the tests use, and this run's own names on them.

`scripts/test` gives every run its own PostgreSQL database and a TEST_RUN_ID; Redis is
shared, so every queue, job id and channel a test makes carries the run's prefix.
"""

from __future__ import annotations

import os

# One Redis database for every test that needs Redis.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# This run's mark on the shared Redis: two runs at once never see each other's keys.
RUN_ID = os.environ.get("TEST_RUN_ID") or f"p{os.getpid()}"
RUN_PREFIX = f"t{RUN_ID}-"
