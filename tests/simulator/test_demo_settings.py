"""Does the demo (./scripts/run-demo, no Twilio account) work end to end with the settings it
really uses? The app is built from what scripts/demo-settings.sh exports, served on the port
those settings name, and a call goes from the IVR to an agent and back through the app's own
Twilio stand-in."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from config import Config
from domain.calls.agent import handle_seconds, queue_seconds
from extensions import db
from factory import create_app
from models import Call, DevTwilioRequest, Outcome, Presence
from tests.support.console import console_client, csrf_token, log_in, make_user
from tests.support.simulator_page import SimulatorPage

SETTINGS = Path(__file__).resolve().parents[2] / "scripts" / "demo-settings.sh"
SETTING_NAMES = (
    "APP_ENV",
    "CALL_CONFERENCES",
    "PORT",
    "PUBLIC_BASE_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_API_BASE_URL",
    "TWILIO_AUTH_TOKEN",
    "HOTLINE_CALLER_ID",
    "SMS_FROM",
)


def demo_settings(tmp_path: Path, **environment: str) -> dict[str, str]:
    """What run-demo exports, given this environment (and no .env unless one is written)."""
    script = f'source "{SETTINGS}"; for name in {" ".join(SETTING_NAMES)}; do echo "$name=${{!name:-}}"; done'
    output = subprocess.run(
        ["bash", "-c", script],
        env={"PATH": "/usr/bin:/bin", "ROOT": str(tmp_path), **environment},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split("=", 1) for line in output.splitlines())


def test_without_a_twilio_account_the_demo_points_the_client_at_the_apps_stand_in(tmp_path):
    settings = demo_settings(tmp_path, PORT="5611")
    assert settings["APP_ENV"] == "development"
    assert settings["CALL_CONFERENCES"] == "1"  # the simulator plays conferences
    assert settings["PUBLIC_BASE_URL"] == "http://127.0.0.1:5611"
    assert re.fullmatch(r"AC[0-9a-f]{32}", settings["TWILIO_ACCOUNT_SID"])
    assert settings["TWILIO_API_BASE_URL"] == "http://127.0.0.1:5611/dev/twilio"
    assert settings["TWILIO_AUTH_TOKEN"] == ""  # the app's development token is used
    assert settings["HOTLINE_CALLER_ID"] and settings["SMS_FROM"]


@pytest.mark.parametrize("configured", ["environment", "dotenv"])
def test_with_a_twilio_account_the_demo_leaves_twilio_alone(tmp_path, configured):
    environment = {"PORT": "5611"}
    if configured == "environment":
        environment["TWILIO_ACCOUNT_SID"] = "AC" + "a" * 32
    else:
        (tmp_path / ".env").write_text("TWILIO_ACCOUNT_SID=AC" + "a" * 32 + "\n")
    settings = demo_settings(tmp_path, **environment)
    assert settings["TWILIO_API_BASE_URL"] == ""
    assert settings["TWILIO_ACCOUNT_SID"] in {"", "AC" + "a" * 32}


@pytest.fixture
def demo_app(app, database_url, tmp_path, monkeypatch):
    """The app as run-demo builds it, on the port its settings name, on the test database.

    Only AGENT_HOURS is widened, so that agents answer whatever the hour the test runs.
    """
    holder = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start), threaded=True)
    settings = demo_settings(tmp_path, PORT=str(server.server_port))
    for name in list(Config().as_dict()) + ["DATABASE_URL"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in settings.items():
        if value:
            monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AGENT_HOURS", "00:00-24:00")
    holder["app"] = demo = create_app(Config())
    thread = threading.Thread(target=server.serve_forever, name="demo-server", daemon=True)
    thread.start()
    yield demo
    server.shutdown()
    thread.join(timeout=5)
    with demo.app_context():
        db.engine.dispose()  # its own pool: no connection left open on the test database


def test_a_call_goes_from_the_ivr_to_an_agent_and_back_through_the_stand_in(demo_app):
    assert demo_app.config["APP_ENV"] == "development"
    assert demo_app.config["TWILIO_API_BASE_URL"].endswith("/dev/twilio")
    with demo_app.app_context():
        make_user("dilan")  # an available agent, with a browser phone named after them

    # The simulator page: English, then 0 for an agent; the caller waits in the queue.
    page = SimulatorPage(demo_app.test_client())
    page.call_to_the_queue()
    assert page.poll() is None

    # The console: log in, see the caller, Take (CSRF token from the page, as console.js sends it).
    agent = console_client(demo_app)
    log_in(agent, "dilan")
    queue = agent.get("/console/queue.json").get_json()
    [waiting] = queue["calls"]
    response = agent.post(
        f"/console/calls/{waiting['id']}/take",
        headers={"Accept": "application/json", "X-CSRFToken": csrf_token(agent, "/console/")},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"ok": True, "url": f"/console/calls/{waiting['id']}"}

    # The stand-in was asked, over HTTP with the demo's account, to redirect the call.
    with demo_app.app_context():
        [asked] = db.session.scalars(select(DevTwilioRequest)).all()
        assert asked.path == f"/2010-04-01/Accounts/{demo_app.config['TWILIO_ACCOUNT_SID']}/Calls/{page.sid}.json"
        assert asked.form["Url"] == f"{demo_app.config['PUBLIC_BASE_URL']}/ivr/agent/connect?call={waiting['id']}"

    # The simulator follows the redirect: /ivr/agent/connect rings the agent into the call's
    # conference by REST, and the caller joins it; the stand-in's agent answers.
    assert demo_app.config["CALL_CONFERENCES"] is True
    page.follow(page.poll())
    assert page.state == "connected"
    assert page.turn["dial"]["targets"] == [{"kind": "conference", "address": f"hotline-call-{waiting['id']}"}]
    assert page.turn["dial"]["agent"] == {"address": "dilan", "kind": "client"}
    assert page.texts() == ["An agent is answering your call now."]
    dial = page.turn["dial"]
    joined = page.post(
        "conference",
        {**page.state_kept(), "after": 0, "dial": {k: dial[k] for k in ("conference", "events_url", "since")}},
    )
    assert [note["title"] for note in joined["notes"]] == ["Twilio rings agent “dilan” into the conference"]

    # The agent hangs up (the <Dial action>), the IVR says goodbye, Twilio's status callback.
    assert page.agent_hangs_up(duration=42)["state"] == "ended"
    page.hang_up(duration=60)

    # The agent wraps up in the console.
    wrap = agent.post(
        f"/console/calls/{waiting['id']}/notes",
        data={
            "csrf_token": csrf_token(agent, f"/console/calls/{waiting['id']}"),
            "notes": "Status explained.",
            "disposition": demo_app.config["DISPOSITIONS"][0],
            "wrap_up": "Save and wrap up",
        },
    )
    assert wrap.status_code == 303, wrap.get_data(as_text=True)[:500]

    with demo_app.app_context():
        call = db.session.scalar(select(Call).where(Call.sid == page.sid))
        assert call.outcome == Outcome.agent_answered
        assert call.agent.username == "dilan" and call.agent.presence == Presence.available
        assert call.answered_at is not None and call.agent_ended_at is not None and call.wrapped_up_at is not None
        assert queue_seconds(call) is not None and handle_seconds(call) is not None
        assert call.duration_s == 60


def write_dotenv(root: Path, **environment: str) -> subprocess.CompletedProcess:
    script = f'source "{SETTINGS}"; write_dotenv'
    return subprocess.run(
        ["bash", "-c", script],
        env={"PATH": "/usr/bin:/bin", "ROOT": str(root), **environment},
        capture_output=True,
        text=True,
        check=True,
    )


def flask_in(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """`flask --app wsgi ARGS` as a new terminal runs it there: no APP_ENV, .env read."""
    root = Path(__file__).resolve().parents[2]
    environment = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(root),
        "DATABASE_URL": f"sqlite:///{folder / 'demo.sqlite3'}",
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_flask_commands_in_a_new_terminal_use_the_settings_run_demo_wrote(tmp_path):
    refused = flask_in(tmp_path, "db", "upgrade")
    assert refused.returncode != 0 and "Refusing to start in production" in refused.stderr
    write_dotenv(tmp_path, PORT="5611")
    written = (tmp_path / ".env").read_text()
    assert "APP_ENV=development" in written and "PUBLIC_BASE_URL=http://127.0.0.1:5611" in written
    assert "CALL_CONFERENCES=1" in written
    upgraded = flask_in(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr[-2000:]


def test_run_demo_leaves_a_dotenv_of_your_own_alone(tmp_path):
    mine = "SECRET_KEY=mine\n"
    (tmp_path / ".env").write_text(mine)
    assert "is yours" in write_dotenv(tmp_path).stdout
    assert (tmp_path / ".env").read_text() == mine
