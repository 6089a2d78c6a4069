"""Does every error under /api/ answer in the API's JSON shape, while the console keeps its pages?"""

from __future__ import annotations

import pytest

import api.routes


def assert_api_error(response, status: int, error: str) -> None:
    assert response.status_code == status
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    assert response.json["error"] == error
    assert isinstance(response.json["message"], str) and response.json["message"].isascii()


@pytest.mark.parametrize("path", ["/api/v1/nowhere", "/api/v2/transactions", "/api/"])
def test_an_unknown_api_path_is_a_json_404(client, path):
    assert_api_error(client.get(path), 404, "not_found")


def test_a_wrong_method_is_a_json_405_with_the_allowed_methods(client, auth):
    response = client.delete("/api/v1/transactions", headers=auth)
    assert_api_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    only_get = client.put("/api/v1/imports/1", headers=auth)
    assert_api_error(only_get, 405, "method_not_allowed")
    assert set(only_get.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_a_body_over_the_limit_is_a_json_413(client, auth, app):
    too_big = b"[" + b" " * (app.config["API_BATCH_MAX"] * api.routes.JSON_ROW_BYTES + 1) + b"]"
    response = client.post("/api/v1/transactions", data=too_big, headers=auth, content_type="application/json")
    assert_api_error(response, 413, "request_entity_too_large")


def test_a_body_that_is_not_json_is_a_json_415(client, auth):
    response = client.post("/api/v1/transactions", data="number=1", headers=auth, content_type="text/plain")
    assert_api_error(response, 415, "unsupported_media_type")


def test_an_unexpected_failure_is_a_json_500(app, client, auth, monkeypatch):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production: handled, not raised

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(api.routes, "find_transactions", broken)
    response = client.get("/api/v1/transactions?number=1&date=2024-01-01", headers=auth)
    assert_api_error(response, 500, "internal_server_error")
    assert "database" not in response.get_data(as_text=True)  # nothing of the exception leaks


def test_the_console_and_public_pages_keep_their_html_errors(client):
    for response in (client.get("/console/nowhere"), client.get("/nowhere"), client.delete("/")):
        assert response.status_code in (404, 405)
        assert response.mimetype == "text/html"
