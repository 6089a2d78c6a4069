"""Logging in: wrong and right passwords, throttling, cookies, redirects, and the users CLI."""

from __future__ import annotations

from sqlalchemy import select

from domain.staff.passwords import verify_password
from extensions import db
from models import AuditEntry, EndpointKind, Role, User
from tests.support.records import PASSWORD, csrf_token, log_in

WRONG_LOGIN_AR = "اسم المستخدم أو كلمة المرور غير صحيحة."  # "Wrong username or password."


def test_a_wrong_password_is_refused_with_401(app, staff):
    client = app.test_client()
    response = log_in(client, "aya", "not the password")
    assert response.status_code == 401
    assert WRONG_LOGIN_AR in response.get_data(as_text=True)  # the login page is Arabic by default
    assert client.get("/console/search").status_code == 302  # still not logged in


def test_an_unknown_user_gets_the_same_answer(app, staff):
    wrong_user = log_in(app.test_client(), "nobody", PASSWORD)
    wrong_password = log_in(app.test_client(), "aya", "not the password")
    assert wrong_user.status_code == wrong_password.status_code == 401
    assert WRONG_LOGIN_AR in wrong_user.get_data(as_text=True)


def test_the_right_password_logs_in_and_is_audited(app, staff):
    client = app.test_client()
    response = log_in(client, "aya")
    assert response.status_code == 302
    assert response.headers["Location"] == "/console/"
    assert client.get("/console/search").status_code == 200
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login"))
        assert entry.user_id == staff["agent"]


def test_five_failures_lock_that_account_from_that_address(app, staff):
    client = app.test_client()
    for _ in range(5):
        assert log_in(client, "aya", "guess").status_code == 401
    assert log_in(client, "aya", "guess").status_code == 429
    # Even the right password waits: the lock is what stops guessing.
    assert log_in(client, "aya", PASSWORD).status_code == 429


def test_someone_elses_failures_do_not_lock_out_another_address(app, staff):
    attacker = app.test_client()
    for _ in range(6):
        log_in(attacker, "aya", "guess", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert log_in(attacker, "aya", "guess", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 429
    owner = app.test_client()
    assert log_in(owner, "aya", PASSWORD, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 302


def test_a_successful_login_does_not_count_as_a_failure(app, staff):
    address = {"REMOTE_ADDR": "192.0.2.44"}
    for _ in range(4):
        assert log_in(app.test_client(), "aya", "guess", environ_base=address).status_code == 401
    for _ in range(3):
        assert log_in(app.test_client(), "aya", PASSWORD, environ_base=address).status_code == 302
    # Had the successes counted, this would be the eighth attempt and refused.
    assert log_in(app.test_client(), "aya", "guess", environ_base=address).status_code == 401
    assert log_in(app.test_client(), "aya", "guess", environ_base=address).status_code == 429


def session_cookie(response, app) -> str:
    name = app.config["SESSION_COOKIE_NAME"]
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "="))


def test_the_session_cookie_is_httponly_and_samesite(app, staff, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", False)
    cookie = session_cookie(log_in(app.test_client(), "aya"), app)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_the_session_cookie_is_secure_when_configured(app, staff, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    cookie = session_cookie(log_in(app.test_client(), "aya"), app)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logging_in_starts_a_fresh_session(app, staff):
    client = app.test_client()
    csrf_token(client)
    with client.session_transaction() as session:
        session["planted"] = "by someone who had the cookie before login"
    assert log_in(client, "aya").status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{staff['agent']}:0"  # the user and their session version


def test_next_only_leads_inside_the_console(app, staff):
    for target, expected in [
        ("https://evil.example/phish", "/console/"),
        ("//evil.example/phish", "/console/"),
        ("/\\evil.example", "/console/"),
        ("javascript:alert(1)", "/console/"),
        ("/ivr/voice", "/console/"),
        ("/console/search", "/console/search"),
    ]:
        client = app.test_client()
        token = csrf_token(client)
        response = client.post(
            "/console/login",
            query_string={"next": target},
            data={"username": "aya", "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
        assert response.headers["Location"] == expected, target


def test_a_deactivated_user_cannot_log_in_and_loses_an_open_session(app, staff):
    client = app.test_client()
    assert log_in(client, "aya").status_code == 302
    with app.app_context():
        db.session.get(User, staff["agent"]).active = False
        db.session.commit()
    assert client.get("/console/search").status_code == 302
    assert log_in(app.test_client(), "aya").status_code == 401


def test_logging_out_ends_the_session(app, staff):
    client = app.test_client()
    log_in(client, "aya")
    token = csrf_token(client, "/console/search")
    assert client.post("/console/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/console/search").status_code == 302


# --- the users CLI -----------------------------------------------------------------


def test_the_cli_creates_a_user_with_the_password_from_stdin(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "Nora",
            "--role",
            "supervisor",
            "--name",
            "Nora K.",
            "--endpoint-kind",
            "phone",
            "--endpoint",
            "+9647701234567",
        ],
        input="a long enough secret\n",
    )
    assert result.exit_code == 0, result.output
    assert "created supervisor nora" in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "nora"))
        assert user.role == Role.supervisor and user.display_name == "Nora K."
        assert user.endpoint_kind == EndpointKind.phone and user.endpoint == "+9647701234567"
        assert verify_password(user.password_hash, "a long enough secret")
        assert "a long enough secret" not in user.password_hash


def test_the_cli_refuses_a_short_password_and_a_bad_endpoint(app, runner):
    short = runner.invoke(args=["users", "create", "omar", "--role", "agent"], input="short\n")
    assert short.exit_code != 0 and "password" in short.output
    bad_sip = runner.invoke(
        args=["users", "create", "omar", "--role", "agent", "--endpoint-kind", "sip", "--endpoint", "agent@pbx"],
        input="a long enough secret\n",
    )
    assert bad_sip.exit_code != 0 and "sip:" in bad_sip.output
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "omar")) is None


def test_the_cli_refuses_a_username_that_exists(app, runner, staff):
    result = runner.invoke(args=["users", "create", "aya", "--role", "agent"], input="a long enough secret\n")
    assert result.exit_code != 0 and "exists already" in result.output
