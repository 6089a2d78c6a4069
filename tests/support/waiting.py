"""Waiting for something a real process, server or browser does, with a message on timeout."""

from __future__ import annotations

import time

import pytest


def wait_for(condition, timeout: float, what: str, step: float = 0.05):
    """`condition()`'s first true value, polled every `step` s; fails the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    pytest.fail(f"{what} (waited {timeout:g} s)")
