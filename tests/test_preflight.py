"""One pre-flight in the manager: bad or impossible requests are refused before any adapter call."""

import pytest
from fakes import FakeCloud

import clusterdb_nb as cdb
from clusterdb_nb.config import LocalConfig, load_config
from clusterdb_nb.providers.local import LocalProvider

LOCAL = {"clock": "virtual", "path": ":memory:"}


class Recording(FakeCloud):
    """Fleets and functions; records every call it gets."""

    kind = "recording"

    def hourly_price(self, instance_type, spot=False):
        return cdb.catalog.lookup(instance_type).price(spot)

    async def create_function(self, config):
        self.calls.append(("create_function", config.name))

    async def update_fleet(self, config):
        self.calls.append(("update_fleet", config.name))
        return self.fleets[config.name]


@pytest.fixture
def rec():
    double = Recording({}, name="rec")
    providers = {"local": LocalProvider(LocalConfig(**LOCAL)), "rec": double}
    with cdb.ComputeSession(cdb.ComputeManager(load_config(None, local=LOCAL), providers=providers)) as s:
        s.create_fleet(cdb.FleetConfig("api", capacity=2, min_capacity=1, max_capacity=4, provider="rec"))
        double.calls.clear()
        yield s, double


def test_create_requests_are_checked_before_the_adapter(rec):
    s, double = rec
    with pytest.raises(cdb.ValidationError, match="code: creating a function needs its code"):
        s.create_function(cdb.FunctionConfig(name="fn", provider="rec"))
    with pytest.raises(cdb.ValidationError, match="no-such.type"):
        s.create_fleet(cdb.FleetConfig("web", instance_type="no-such.type", provider="rec"))
    with pytest.raises(cdb.ValidationError, match="capacity: 20000 is more than rec's largest fleet"):
        s.create_fleet(cdb.FleetConfig("web", capacity=20_000, max_capacity=20_000, provider="rec"))
    assert double.calls == []


def test_capacity_rules_live_in_the_models_and_run_once(rec):
    s, double = rec
    with pytest.raises(cdb.ValidationError, match=r"capacity: 9 is outside fleet 'api'\'s bounds \[1, 4\]"):
        s.update_fleet_capacity("api", 9)
    with pytest.raises(cdb.ValidationError, match="capacity"):  # new bounds that exclude the asked capacity
        s.update_fleet(cdb.FleetConfig("api", capacity=5))
    assert double.calls == []
    s.update_fleet(cdb.FleetConfig("api", max_capacity=1))  # no capacity asked: the fleet's is clamped into the bounds
    assert double.calls == [("update_fleet", "api")]


def test_the_models_resolve_capacities():
    fleet = cdb.Fleet(
        id="web",
        name="web",
        provider="local",
        region="local",
        instance_type="t3.micro",
        capacity=5,
        min_capacity=0,
        max_capacity=8,
    )
    assert cdb.FleetConfig("web", max_capacity=2).resolve_update(fleet).capacity == 2
    assert cdb.FleetConfig("web", min_capacity=6).resolve_update(fleet).model_dump(include={"capacity", "min_capacity"}) == {
        "capacity": 6,
        "min_capacity": 6,
    }
    assert fleet.check_capacity(8) == 8
    assert cdb.AutoScalingConfig(min_capacity=2, max_capacity=8).clamp(1) == 2


def test_already_exists_has_one_wording_for_every_cloud(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=1))
    with pytest.raises(cdb.ConflictError) as err:
        s.create_fleet(cdb.FleetConfig("web", capacity=1))
    assert err.value.message == "fleet 'web' already exists"
    assert err.value.cause == "local (local) already holds a fleet named 'web'"
    assert err.value.solution == "Pick another name, or change the fleet with update_fleet"
