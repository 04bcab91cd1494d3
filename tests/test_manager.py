"""ComputeManager: fan-out, failures beside results, routing, dry-run plans, unsupported operations."""

import asyncio

import pytest
from fakes import BrokenCloud, FakeCloud

import clusterdb_nb as cdb
from clusterdb_nb.config import LocalConfig, load_config
from clusterdb_nb.providers.local import LocalProvider
from clusterdb_nb.session import ComputeSession


def make_manager(*extra):
    local = LocalProvider(LocalConfig(clock="virtual", path=":memory:"))
    providers = {"local": local, **{p.name: p for p in extra}}
    return cdb.ComputeManager(load_config(None, local={"clock": "virtual", "path": ":memory:"}), providers=providers)


def test_listing_keeps_other_providers_rows_when_one_fails():
    fake = FakeCloud({}, name="fakecloud")
    m = make_manager(fake, BrokenCloud({}, name="broken"))

    async def scenario():
        await m.create_fleet(cdb.FleetConfig("web", capacity=2))
        await m.create_fleet(cdb.FleetConfig("api", capacity=1, provider="fakecloud"))
        return await m.list_fleets(), await m.list_instances(), await m.status()

    fleets, instances, status = asyncio.run(scenario())
    assert sorted((f.provider, f.name) for f in fleets) == [("fakecloud", "api"), ("local", "web")]
    assert list(fleets.errors) == ["broken"]
    assert isinstance(fleets.errors["broken"], cdb.AuthenticationError)
    assert fleets.errors["broken"].operation == "list_fleets"
    assert len(instances) == 2 and list(instances.attrs["errors"]) == ["broken"]
    assert [(st.provider, st.ok) for st in status] == [("local", True), ("fakecloud", True), ("broken", False)]


def test_session_warns_and_records_the_failure(recwarn):
    s = ComputeSession(make_manager(BrokenCloud({}, name="broken")))
    s.create_fleet(cdb.FleetConfig("web", capacity=2))
    with pytest.warns(UserWarning, match="broken failed during list_fleets"):
        df = s.fleets()
    assert df["name"].tolist() == ["web"]
    errors = s.errors()
    assert errors[["provider", "operation", "error"]].values.tolist() == [["broken", "list_fleets", "AuthenticationError"]]
    assert errors.loc[0, "solution"] == "Verify and update provider credentials"
    s.close()


def test_fleet_name_routes_to_its_provider_without_naming_it():
    fake = FakeCloud({}, name="fakecloud")
    s = ComputeSession(make_manager(fake))
    s.create_fleet(cdb.FleetConfig("api", capacity=1, provider="fakecloud"))
    s.update_fleet_capacity("api", 3)
    assert fake.calls[-1] == ("update_fleet_capacity", "api", 3)
    with pytest.raises(cdb.NotFoundError, match="no fleet 'nope'"):
        s.update_fleet_capacity("nope", 3)
    s.close()


def test_same_name_on_two_providers_needs_a_provider():
    s = ComputeSession(make_manager(FakeCloud({}, name="fakecloud")))
    s.create_fleet(cdb.FleetConfig("web", capacity=1))
    s.create_fleet(cdb.FleetConfig("web", capacity=1, provider="fakecloud"))
    with pytest.raises(cdb.ConflictError, match="pass provider="):  # even in the session that created them
        s.fleet("web")
    assert asyncio.run(s.manager.get_fleet("web", provider="fakecloud")).provider == "fakecloud"
    s.close()


def test_not_found_says_which_providers_could_not_be_asked():
    s = ComputeSession(make_manager(BrokenCloud({}, name="broken")))
    with pytest.raises(cdb.NotFoundError, match="could not be asked.*broken"):
        s.fleet("web")
    s.close()


def test_unsupported_operation_names_provider_and_operation():
    fake = FakeCloud({}, name="fakecloud")
    assert fake.supports("create_fleet") and not fake.supports("stop_instance")
    s = ComputeSession(make_manager(fake))
    s.create_fleet(cdb.FleetConfig("api", capacity=1, provider="fakecloud"))
    with pytest.raises(cdb.NotSupportedError) as err:
        asyncio.run(s.manager.delete_fleet("api"))
    assert (err.value.provider, err.value.operation) == ("fakecloud", "delete_fleet")
    with pytest.raises(cdb.NotSupportedError, match="fakecloud does not support create_function"):
        s.create_function(cdb.FunctionConfig(name="fn", provider="fakecloud"))
    s.close()


def test_dry_run_plans_change_nothing_and_price_the_change(s):
    price = cdb.catalog.lookup("t3.medium").on_demand_usd
    plan = s.create_fleet(cdb.FleetConfig("web-fleet", capacity=5, instance_type="t3.medium"), dry_run=True)
    assert isinstance(plan, cdb.Plan) and len(s.fleets()) == 0
    assert plan.hourly_cost_after_usd == pytest.approx(5 * price)
    s.create_fleet(cdb.FleetConfig("web-fleet", capacity=5, instance_type="t3.medium"))
    before = s.local.history()
    plan = s.update_fleet_capacity("web-fleet", 20, dry_run=True)
    assert plan.hourly_cost_before_usd == pytest.approx(5 * price)
    assert plan.hourly_cost_delta_usd == pytest.approx(15 * price)
    assert plan.calls[0].call == "update_fleet_capacity('web-fleet', 20)"
    assert "nothing changed" in str(plan) and "+0.6240 $/h" in str(plan)
    iid = s.instances()["id"].iloc[0]
    s.local.advance("1min")
    assert s.stop_instance(iid, dry_run=True).hourly_cost_after_usd == 0.0
    assert s.terminate_instance(iid, dry_run=True).hourly_cost_delta_usd == 0.0  # the fleet replaces it
    assert s.delete_fleet("web-fleet", dry_run=True).hourly_cost_after_usd == 0.0
    scaling = cdb.AutoScalingConfig(min_capacity=1, max_capacity=3)
    assert s.configure_auto_scaling("web-fleet", scaling, dry_run=True).hourly_cost_after_usd == pytest.approx(3 * price)
    assert s.fleet("web-fleet").capacity == 5 and len(s.local.history()) == len(before) + 5  # only the boots


def test_bad_input_fails_before_any_provider_call():
    fake = FakeCloud({}, name="fakecloud")
    s = ComputeSession(make_manager(fake))
    s.create_fleet(cdb.FleetConfig("api", capacity=1, max_capacity=4, provider="fakecloud"))
    calls = list(fake.calls)
    for bad in (-1, 2.5, "3", True):
        with pytest.raises(cdb.ValidationError, match="capacity"):
            s.update_fleet_capacity("api", bad)
    with pytest.raises(cdb.ValidationError, match=r"bounds \[0, 4\]"):
        s.update_fleet_capacity("api", 5)
    with pytest.raises(cdb.ValidationError, match="provider"):
        s.create_fleet(cdb.FleetConfig("x", provider="nowhere"))
    assert fake.calls == calls
    s.close()


def test_fleet_defaults_come_from_the_config():
    cfg = {
        "compute": {"default_provider": "local", "providers": {"local": {"clock": "virtual", "path": ":memory:"}}},
        "fleet": {"default_instance_type": "m5.large", "default_capacity": 2, "tags": {"managed-by": "clusterdb"}},
    }
    with cdb.connect(cfg) as s:
        fleet = s.create_fleet(cdb.FleetConfig("web", tags={"owner": "me"}))
        assert (fleet.instance_type, fleet.capacity) == ("m5.large", 2)
        assert fleet.tags == {"managed-by": "clusterdb", "owner": "me"}


def test_exceptions_that_are_not_compute_errors_become_provider_errors():
    class Buggy(FakeCloud):
        async def list_fleets(self):
            raise KeyError("boom")

    m = make_manager(Buggy({}, name="buggy"))
    fleets = asyncio.run(m.list_fleets())
    err = fleets.errors["buggy"]
    assert isinstance(err, cdb.ProviderError) and "KeyError" in err.message and isinstance(err.__cause__, KeyError)
