"""Property-based run of the whole OpenAPI schema against the local cloud: no 5xx, every answer matches the schema.

Bounded (a few examples per operation, no deadline) so it stays well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

import clusterdb_nb as cdb  # noqa: E402
from clusterdb_nb.server import ServerSettings, Tokens, create_app  # noqa: E402

TOKEN = "fuzz-token-0123456789abcdef"
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture(scope="module")
def api_schema():
    session = cdb.connect(local={"clock": "virtual", "seed": 3, "path": ":memory:"})
    session.create_fleet(cdb.FleetConfig("web", capacity=2, instance_type="t3.micro", max_capacity=4))
    session.local.advance("1min")
    app = create_app(session, ServerSettings(tokens=Tokens(read_write=[TOKEN]), max_body_bytes=64 * 1024))
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    session.close()


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_within_its_schema(case):
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)
