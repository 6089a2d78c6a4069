"""Does `pip install .` give a working app? The wheel is built, checked against the packages
in the repository, installed apart from the checkout and run from another folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOT_SHIPPED = {"tests", "bench", "scripts", "deploy", "requirements", ".ci"}
pytestmark = pytest.mark.once


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in listed.splitlines() if (ROOT / name).is_file()]


def shipped_sources() -> set[str]:
    """Every file the app reads at run time: the Python modules and the package data
    (templates, static files, catalogs, clips, translations, migrations) of the checkout."""
    wanted = set()
    for name in tracked_files():
        path = Path(name)
        if len(path.parts) == 1:
            if path.suffix == ".py":
                wanted.add(name)  # config.py, wsgi.py, factory.py, extensions.py
            continue
        if path.parts[0] in NOT_SHIPPED or path.parts[0].startswith(".") or path.name.startswith("."):
            continue
        if path.suffix in {".md", ".pot", ".cfg"}:
            continue  # notes and translation templates: not read at run time
        wanted.add(name)
    return wanted


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Built from a copy of the checkout's files: a build/ folder left by an earlier build
    # must not lend the wheel what the packaging settings would leave out.
    source = tmp_path_factory.mktemp("source")
    for name in tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return next(out.glob("*.whl"))


def test_the_wheel_holds_every_module_and_data_file_of_the_app(wheel):
    inside = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(shipped_sources() - inside)
    assert not missing, f"not in the wheel: {missing[:20]}"


def test_the_installed_wheel_runs_from_another_folder(wheel, tmp_path):
    target = tmp_path / "installed"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    # The dependencies come from this virtualenv's site-packages as a plain path: with -S its
    # .pth files (among them the editable install of this checkout) are not read, so nothing
    # can come from the checkout.
    environment = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": f"{target}{os.pathsep}{sysconfig.get_paths()['purelib']}",
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
        "FLASK_SKIP_DOTENV": "1",
    }
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def flask(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-S", "-m", "flask", "--app", "wsgi", *args],
            cwd=elsewhere,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    where = subprocess.run(
        [sys.executable, "-S", "-c", "import wsgi, domain; print(wsgi.__file__, domain.__file__)"],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in where and str(target) in where
    flask("db", "upgrade")  # the migrations are in the wheel
    routes = flask("routes")
    for url in ("/ivr/voice", "/console/login", "/inquiry", "/api/v1/", "/sms/status"):
        assert url in routes, url
