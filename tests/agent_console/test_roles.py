"""Does every console route check the role it needs, and refuse a form without its CSRF token?

The routes are read from the app's URL map, so a route added later is checked too: one
without `role_required` fails here unless it is one of the few pages for everybody.
"""

from __future__ import annotations

import pytest
from flask import url_for
from werkzeug.routing import IntegerConverter

from models import Role
from models.user import ROLE_RANK
from tests.support.records import csrf_token, logged_in_client

# Pages that must work before login or for any logged-in user, whatever their role.
OPEN_ENDPOINTS = {
    "console.login",
    "console.logout",
    "console.static",
    "console.language",
    "console.login_language",
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def console_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every console rule, with 1 / "x" for path arguments."""
    routes = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("console."):
                continue
            values = {
                name: 1 if isinstance(rule._converters.get(name), IntegerConverter) else "x" for name in rule.arguments
            }
            url = url_for(rule.endpoint, **values)
            routes.extend((rule.endpoint, method, url) for method in METHODS if method in rule.methods)
    return routes


def required_role(app, endpoint: str) -> Role | None:
    return getattr(app.view_functions[endpoint], "required_role", None)


def only_role(app, endpoint: str) -> bool:
    """Pages for one role alone (an officer's own entity's letters): no higher role opens them."""
    return getattr(app.view_functions[endpoint], "only_role", False)


def refused_to(app, endpoint: str, role: Role) -> bool:
    needed = required_role(app, endpoint)
    if only_role(app, endpoint):
        return role is not needed
    return ROLE_RANK[needed] > ROLE_RANK[role]


def guarded_routes(app):
    return [r for r in console_routes(app) if required_role(app, r[0]) is not None]


def send(client, method: str, url: str, token: str | None = None):
    data = {"csrf_token": token} if token else {}
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data=data)


def test_the_matrix_sees_the_console(app):
    endpoints = {endpoint for endpoint, _, _ in console_routes(app)}
    assert {
        "console.search",
        "console.transaction",
        "console.callbacks",
        "console.agents",
        "console.agent_create",
    } <= endpoints


def test_every_route_declares_a_role_unless_it_is_open_to_all(app):
    undeclared = {endpoint for endpoint, _, _ in console_routes(app) if required_role(app, endpoint) is None}
    assert undeclared <= OPEN_ENDPOINTS, (
        f"{sorted(undeclared - OPEN_ENDPOINTS)} have no role_required: add one, or, if the page "
        "really is for everybody, add it to OPEN_ENDPOINTS with a reason"
    )


def test_anonymous_users_are_sent_to_the_login_page(app, client):
    token = csrf_token(client)
    for endpoint, method, url in guarded_routes(app):
        response = send(client, method, url, token)
        if method == "GET":
            assert response.status_code == 302, (endpoint, response.status_code)
            assert response.headers["Location"].startswith("/console/login"), endpoint
        else:
            assert response.status_code in {302, 401, 403}, (endpoint, method, response.status_code)
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/console/login"), endpoint


@pytest.fixture
def officer(app, staff):
    from extensions import db
    from tests.support.complaints import add_entity
    from tests.support.records import add_user

    with app.app_context():
        entity = add_entity()
        db.session.commit()
        return add_user("olan", Role.officer, entity_id=entity.id).id


@pytest.mark.parametrize("role", ["officer", "agent", "supervisor", "admin"])
def test_a_role_is_refused_every_route_above_it(app, staff, officer, role):
    client = logged_in_client(app, {"officer": "olan", "agent": "aya", "supervisor": "sami", "admin": "adam"}[role])
    token = csrf_token(client, "/console/complaints")
    refused = 0
    for endpoint, method, url in guarded_routes(app):
        if refused_to(app, endpoint, Role(role)):
            response = send(client, method, url, token)
            assert response.status_code == 403, (role, endpoint, method, response.status_code)
            refused += 1
    assert refused > 0


@pytest.mark.parametrize("role", ["officer", "agent", "supervisor", "admin"])
def test_a_role_opens_every_page_at_or_below_it(app, staff, officer, role, monkeypatch):
    # With an API key the browser phone's token is answered like any page (without: 503).
    monkeypatch.setitem(app.config, "TWILIO_API_KEY_SID", "SK" + "5" * 32)
    monkeypatch.setitem(app.config, "TWILIO_API_KEY_SECRET", "k" * 32)
    client = logged_in_client(app, {"officer": "olan", "agent": "aya", "supervisor": "sami", "admin": "adam"}[role])
    for endpoint, method, url in guarded_routes(app):
        if method != "GET" or "/1" in url or "/x/" in url or refused_to(app, endpoint, Role(role)):
            continue  # pages of one record (or clip) are opened with real ones in their own tests
        response = client.get(url)  # not buffered: a live stream is not read to its end
        try:
            # An officer's start page is their inbox: "/" sends them there.
            expected = 302 if (role, endpoint) == ("officer", "console.home") else 200
            assert response.status_code == expected, (role, endpoint, response.status_code)
        finally:
            response.close()


def test_every_form_without_its_csrf_token_is_refused(app, staff):
    posts = [(e, m, u) for e, m, u in console_routes(app) if m != "GET"]
    assert any(endpoint == "console.login" for endpoint, _, _ in posts)
    client = logged_in_client(app, "adam")
    for endpoint, method, url in posts:
        response = client.open(url, method=method, data={})
        assert response.status_code == 400, (endpoint, method, response.status_code)
    # Still logged in: a refused form changes nothing.
    assert client.get("/console/search").status_code == 200
