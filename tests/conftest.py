import pytest

import clusterdb_nb as cdb

VIRTUAL = {"clock": "virtual", "seed": 7, "path": ":memory:"}


@pytest.fixture
def s():
    """A session on a fresh in-memory local cloud with a virtual clock."""
    session = cdb.connect(local=VIRTUAL)
    yield session
    session.close()


@pytest.fixture
def web(s):
    """s with a 5-instance t3.medium fleet 'web-fleet' booted (clock advanced past boot)."""
    s.create_fleet(cdb.FleetConfig("web-fleet", "Web Application Fleet").with_capacity(5).with_instance_type("t3.medium"))
    s.local.advance("1min")
    return s
