"""What every browser test shares: Debian's Chromium, its flags, and where screenshots go."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def chromium_path() -> str:
    """Debian's chromium by default; Playwright must not download a browser of its own."""
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        pytest.fail(f"No Chromium at {path}: install Debian's chromium or set CHROMIUM_PATH "
                    "to a Chromium binary (the browser tests must run, not be skipped)")
    return path
