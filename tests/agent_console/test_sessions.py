"""Do logout, deactivation and a new password end every session of the user, everywhere,
including a copied cookie and an open live stream?"""

from __future__ import annotations

import pytest

from domain.live import InProcessBroker
from domain.staff.users import set_active, set_password
from extensions import db
from models import User
from tests.support.console import Stream, agent_client, console_client
from tests.support.records import csrf_token, log_in, logged_in_client

SESSION_COOKIE = "hotline_session"


def copy_of(app, client):
    """Another browser, on another address, holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie(SESSION_COOKIE, client.get_cookie(SESSION_COOKIE).value, domain="localhost")
    return thief


def opens_console(client) -> bool:
    return client.get("/console/queue.json", environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code == 200


def log_out(client):
    return client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/search")})


def test_a_cookie_copied_before_logout_opens_nothing_after_it(app, staff):
    agent = logged_in_client(app, "aya")
    copied = copy_of(app, agent)
    assert opens_console(copied)  # the copy works while the session lives
    assert log_out(agent).status_code == 302
    assert not opens_console(copied)
    assert copied.get("/console/").status_code == 302


def test_logging_out_in_one_browser_ends_the_others(app, staff):
    office, home = logged_in_client(app, "aya"), logged_in_client(app, "aya")
    log_out(office)
    assert not opens_console(home)
    again = app.test_client()
    assert log_in(again, "aya").status_code == 302 and opens_console(again)  # a new login works


@pytest.mark.parametrize("change", ["deactivate", "new password"])
def test_deactivation_and_a_new_password_end_every_session(app, staff, change):
    agent = logged_in_client(app, "aya")
    with app.app_context():
        user = db.session.get(User, staff["agent"])
        if change == "deactivate":
            set_active(user, False)
        else:
            set_password(user, "a brand new passphrase")
        db.session.commit()
    assert not opens_console(agent)


def test_the_cli_sets_a_new_password_and_ends_the_sessions(app, staff, runner):
    agent = logged_in_client(app, "aya")
    result = runner.invoke(args=["users", "set-password", "aya"], input="a brand new passphrase\n")
    assert result.exit_code == 0, result.output
    assert not opens_console(agent)
    assert log_in(app.test_client(), "aya", "a brand new passphrase").status_code == 302
    assert runner.invoke(args=["users", "set-password", "aya"], input="short\n").exit_code != 0


@pytest.fixture
def every_tick_checks(app, monkeypatch):
    import agent_console.streams

    monkeypatch.setattr(agent_console.streams, "SESSION_RECHECK_S", 0)
    monkeypatch.setitem(app.config, "SSE_KEEPALIVE_S", 1)
    app.extensions["hotline.broker"] = InProcessBroker()
    yield
    app.extensions.pop("hotline.broker", None)


def test_an_open_stream_ends_when_its_user_is_deactivated(app, app_context, every_tick_checks):
    agent = agent_client(app, "amira")
    stream = Stream(agent)
    stream.next_event()
    assert stream.next_block() == ": keep-alive"  # checked, still current
    user = db.session.scalar(db.select(User).where(User.username == "amira"))
    set_active(user, False)
    db.session.commit()
    assert stream.next_event("ended") == {"type": "ended"}
    with pytest.raises(StopIteration):
        stream.next_block()
    stream.close()


def test_an_open_stream_ends_when_its_user_logs_out_elsewhere(app, app_context, every_tick_checks):
    agent = agent_client(app, "amira")
    other = console_client(app)
    log_in(other, "amira")
    stream = Stream(agent)
    stream.next_event()
    log_out(other)
    assert stream.next_event("ended") == {"type": "ended"}
    stream.close()
