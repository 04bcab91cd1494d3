"""A REST API over a fresh in-memory local cloud (virtual clock), with a read-write and a read-only token."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import clusterdb_nb as cdb
from clusterdb_nb.server import ServerSettings, Tokens, create_app

RW = "rw-token-0123456789abcdef"
RO = "ro-token-0123456789abcdef"


@pytest.fixture
def session():
    s = cdb.connect(local={"clock": "virtual", "seed": 7, "path": ":memory:"})
    yield s
    s.close()


@pytest.fixture
def app(session):
    return create_app(session, ServerSettings(tokens=Tokens(read_write=[RW], read_only=[RO]), max_body_bytes=256 * 1024))


@pytest.fixture
def api(app):
    """A TestClient sending the read-write token."""
    with TestClient(app, headers={"Authorization": f"Bearer {RW}"}, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def rw_token():
    return RW


@pytest.fixture
def read_only():
    """Headers carrying the read-only token."""
    return {"Authorization": f"Bearer {RO}"}


@pytest.fixture
def anon(app):
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
