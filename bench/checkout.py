"""Which code the benchmark serves: the working tree, or a clean export of one git commit.

Serving an export (`--app-ref HEAD`) keeps a run stable while files in the working tree
are being edited, and names exactly which commit the figures belong to.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class AppCode:
    path: Path
    commit: str
    dirty: bool  # the working tree differs from the commit (only when serving the tree)
    exported: bool
    _tmp: tempfile.TemporaryDirectory | None = None

    def cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def app_code(ref: str | None) -> AppCode:
    """The working tree when `ref` is None, else a temporary export of that commit."""
    if ref is None:
        try:
            commit = git("rev-parse", "HEAD").strip()
            dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench").strip())
        except (OSError, subprocess.CalledProcessError):
            commit, dirty = "unknown", True
        return AppCode(ROOT, commit, dirty, exported=False)
    commit = git("rev-parse", "--verify", f"{ref}^{{commit}}").strip()
    tmp = tempfile.TemporaryDirectory(prefix="hotline-bench-app-")
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp.name, filter="data")
    return AppCode(Path(tmp.name), commit, dirty=False, exported=True, _tmp=tmp)
