"""Does every operation of the API answer as its OpenAPI description says, and never with a 500?

Schemathesis generates requests from /api/v1/openapi.json and runs them against the app.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.openapi import openapi_document
from domain.staff.api_tokens import create_token
from extensions import db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


# The description as the app serves it (it is built from code, without an app).
schema = schemathesis.openapi.from_dict(openapi_document())


@pytest.fixture
def bearer(app):
    with app.app_context():
        token = create_token("schemathesis")
        db.session.remove()
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms(app, case, bearer):
    case.call_and_validate(app=app, base_url="http://localhost/api/v1", headers=bearer, checks=CHECKS)


def test_the_description_is_served_and_lists_the_operations(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert operations == {"upsertTransactions", "getTransactions", "createImport", "getImport"}
