"""The agents page for supervisors; creating, deactivating and reactivating users for admins."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from domain.staff.passwords import MIN_LENGTH, verify_password
from domain.staff.users import UserError, check_endpoint
from extensions import db
from models import AuditEntry, EndpointKind, Presence, Role, User
from tests.support.records import add_user, log_in, logged_in_client, post_form

NEW_USER = {
    "username": "Zara",
    "display_name": "Zara Ahmed",
    "role": "agent",
    "language": "ckb",
    "endpoint_kind": "phone",
    "endpoint": "+9647701112233",
    "password": "a long enough secret",
}


def users_named(app, username: str) -> list[User]:
    with app.app_context():
        return db.session.scalars(select(User).where(User.username == username)).all()


def test_supervisors_see_every_agent_with_state_since_and_endpoint(app, staff):
    with app.app_context():
        add_user(
            "dana",
            Role.agent,
            presence=Presence.on_call,
            endpoint_kind=EndpointKind.sip,
            endpoint="sip:dana@pbx.example.org",
            presence_since=datetime.now(timezone.utc) - timedelta(minutes=7),
        )
    html = logged_in_client(app, "sami").get("/console/agents").get_data(as_text=True)
    assert "Dana" in html and "On a call" in html and "0:07:0" in html
    assert "sip:dana@pbx.example.org" in html and "SIP" in html
    assert "New user" not in html and "Deactivate" not in html  # admins only


def test_an_admin_creates_a_user(app, staff):
    client = logged_in_client(app, "adam")
    assert "New user" in client.get("/console/agents").get_data(as_text=True)
    response = post_form(client, "/console/agents/new", NEW_USER)
    assert response.status_code == 302
    [user] = users_named(app, "zara")
    assert (user.display_name, user.role, user.language) == ("Zara Ahmed", Role.agent, "ckb")
    assert (user.endpoint_kind, user.endpoint) == (EndpointKind.phone, "+9647701112233")
    assert verify_password(user.password_hash, "a long enough secret")
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user_create"))
        assert entry.user_id == staff["admin"] and entry.target_id == str(user.id)
        assert "a long enough secret" not in str(entry.detail)
    assert log_in(app.test_client(), "zara", "a long enough secret").status_code == 302


@pytest.mark.parametrize(
    "change, message",
    [
        ({"endpoint": "07701112233"}, "A phone endpoint is a valid number in international form"),
        ({"endpoint": "+96412"}, "A phone endpoint is a valid number in international form"),
        ({"endpoint_kind": "sip", "endpoint": "zara@pbx.example.org"}, "A SIP endpoint starts with sip:"),
        ({"endpoint_kind": "sip", "endpoint": "sip:"}, "A SIP endpoint starts with sip:"),
        ({"endpoint_kind": "client", "endpoint": "zara ahmed"}, "A browser identity is letters, digits"),
        ({"endpoint_kind": "client", "endpoint": "<zara>"}, "A browser identity is letters, digits"),
        ({"password": "short"}, f"at least {MIN_LENGTH} characters"),
        ({"password": " padded password "}, f"at least {MIN_LENGTH} characters"),
        ({"username": "aya"}, "This username is already taken."),
        ({"username": "no spaces please"}, "A username is 2 to 64 lower-case letters"),
        ({"role": "root"}, "Not a valid choice."),
        ({"display_name": "x" * 121}, "Field cannot be longer than 120 characters."),
    ],
)
def test_a_bad_user_is_explained_and_not_created(app, staff, change, message):
    response = post_form(logged_in_client(app, "adam"), "/console/agents/new", {**NEW_USER, **change})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert users_named(app, "zara") == []
    assert len(users_named(app, "aya")) == 1


def test_a_browser_identity_defaults_to_the_username(app, staff):
    client = logged_in_client(app, "adam")
    post_form(client, "/console/agents/new", {**NEW_USER, "endpoint_kind": "client", "endpoint": ""})
    [user] = users_named(app, "zara")
    assert (user.endpoint_kind, user.endpoint) == (EndpointKind.client, "zara")


@pytest.mark.parametrize(
    "kind, endpoint, stored",
    [
        (EndpointKind.phone, "+964 770 111 2233", "+9647701112233"),
        (EndpointKind.sip, "sip:agent.7@pbx.example.org;transport=tls", "sip:agent.7@pbx.example.org;transport=tls"),
        (EndpointKind.client, "Agent_7.b-2", "Agent_7.b-2"),
    ],
)
def test_good_endpoints_are_kept_in_their_canonical_form(kind, endpoint, stored):
    assert check_endpoint(kind, endpoint) == stored


@pytest.mark.parametrize(
    "kind, endpoint",
    [
        (EndpointKind.phone, "+1"),
        (EndpointKind.phone, "sip:a@b"),
        (EndpointKind.phone, ""),
        (EndpointKind.sip, "SIP agent"),
        (EndpointKind.sip, "tel:+9647701112233"),
        (EndpointKind.client, "a/b"),
        (EndpointKind.client, "x" * 121),
        (EndpointKind.client, "نور"),
    ],
)
def test_bad_endpoints_are_refused(kind, endpoint):
    with pytest.raises(UserError) as refused:
        check_endpoint(kind, endpoint)
    assert refused.value.field == "endpoint"


def test_an_admin_deactivates_and_reactivates_a_user(app, staff):
    agent = logged_in_client(app, "aya")
    admin = logged_in_client(app, "adam")
    assert post_form(admin, f"/console/agents/{staff['agent']}/active", {"active": "0"}).status_code == 302
    with app.app_context():
        user = db.session.get(User, staff["agent"])
        assert not user.active and user.presence == Presence.offline
    assert agent.get("/console/search").status_code == 302  # the open session ended
    assert log_in(app.test_client(), "aya").status_code == 401
    assert "Deactivated" in admin.get("/console/agents").get_data(as_text=True)
    assert post_form(admin, f"/console/agents/{staff['agent']}/active", {"active": "1"}).status_code == 302
    assert log_in(app.test_client(), "aya").status_code == 302
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "user")).all()
    assert actions == ["user_deactivate", "user_activate"]


def test_an_admin_cannot_deactivate_themselves(app, staff):
    admin = logged_in_client(app, "adam")
    response = post_form(admin, f"/console/agents/{staff['admin']}/active", {"active": "0"})
    assert response.status_code == 409
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    assert admin.get("/console/agents").status_code == 200
    assert post_form(admin, "/console/agents/424242/active", {"active": "0"}).status_code == 404


def test_every_wrong_field_is_marked_in_one_round_trip(app, staff):
    response = post_form(
        logged_in_client(app, "adam"),
        "/console/agents/new",
        {
            **NEW_USER,
            "username": "aya",
            "endpoint_kind": "sip",
            "endpoint": "bad",
            "password": "short",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in [
        "This username is already taken.",
        "A SIP endpoint starts with sip:",
        f"at least {MIN_LENGTH} characters",
    ]:
        assert message in html


def test_the_cli_names_every_problem(runner):
    result = runner.invoke(
        args=["users", "create", "omar", "--role", "agent", "--endpoint-kind", "phone", "--endpoint", "0770"],
        input="short\n",
    )
    assert result.exit_code != 0
    assert "password" in result.output and "E.164" in result.output
