"""A fleet name held by AWS (moto) and the local cloud: every operation needs provider=, even in the creating session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aws_moto import REGION, group, live_instances

import clusterdb_nb as cdb

pytest_plugins = ["aws_moto"]  # moto fixtures: aws_env, mocked, raw, role

WEB = cdb.FleetConfig("web", capacity=1, max_capacity=4, instance_type="t3.micro")


@pytest.fixture
def both(raw, role) -> Iterator[cdb.ComputeSession]:
    """One session that created a fleet 'web' on AWS and another 'web' on the local cloud."""
    session = cdb.connect(aws={"region": REGION, "function_role_arn": role}, local={"clock": "virtual", "path": ":memory:"})
    session.create_fleet(WEB.with_provider("aws"))
    session.create_fleet(WEB.with_provider("local"))
    yield session
    session.close()


AMBIGUOUS = {
    "fleet": lambda s: s.fleet("web"),
    "delete_fleet": lambda s: s.delete_fleet("web"),
    "delete_fleet dry run": lambda s: s.delete_fleet("web", dry_run=True),
    "update_fleet_capacity": lambda s: s.update_fleet_capacity("web", 2),
    "update_fleet": lambda s: s.update_fleet(cdb.FleetConfig("web", description="x")),
    "configure_auto_scaling": lambda s: s.configure_auto_scaling("web", cdb.AutoScalingConfig(min_capacity=1, max_capacity=4)),
    "scaling_activities": lambda s: s.scaling_activities("web"),
    "instances": lambda s: s.instances(fleet="web"),
    "utilization": lambda s: s.utilization("web"),
    "plot_utilization": lambda s: s.plot_utilization("web"),
}


@pytest.mark.parametrize("call", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_the_creating_session_asks_which_fleet_and_changes_nothing(both, raw, call):
    with pytest.raises(cdb.ConflictError, match="fleet 'web' exists in aws, local; pass provider=") as err:
        call(both)
    assert "provider='aws'" in err.value.solution
    assert group(raw, "web")["DesiredCapacity"] == 1
    assert both.fleet("web", provider="local").capacity == 1


def test_delete_fleet_with_provider_deletes_that_one_only(both, raw):
    both.delete_fleet("web", provider="local")
    with pytest.raises(cdb.NotFoundError):
        both.fleet("web", provider="local")
    assert group(raw, "web")["DesiredCapacity"] == 1
    assert both.fleet("web").provider == "aws"  # no longer ambiguous


def test_every_fleet_method_of_the_session_takes_provider(both, raw):
    assert both.fleet("web", provider="aws").provider == "aws"
    assert both.update_fleet_capacity("web", 2, provider="aws").capacity == 2
    assert group(raw, "web")["DesiredCapacity"] == 2
    assert both.update_fleet_capacity("web", 3, provider="local").capacity == 3
    assert both.update_fleet(cdb.FleetConfig("web", description="local web", provider="local")).description == "local web"
    policy = cdb.AutoScalingConfig(min_capacity=1, max_capacity=4)
    assert both.configure_auto_scaling("web", policy, provider="local").auto_scaling is not None
    assert set(both.instances(fleet="web", provider="local")["provider"]) == {"local"}
    members = live_instances(raw, **{"tag:aws:autoscaling:groupName": "web"})
    assert len(both.instances(fleet="web", provider="aws")) == len(members)
    assert len(both.scaling_activities("web", provider="local")) >= 2
    both.local.advance("10min")
    assert len(both.utilization("web", provider="local")) > 0
    assert both.plot_utilization("web", provider="local") is not None
    assert both.delete_fleet("web", dry_run=True, provider="aws").provider == "aws"
    both.delete_fleet("web", provider="aws")
    assert both.fleet("web").provider == "local"


def test_an_instance_id_routes_to_its_provider_and_takes_provider(both):
    iid = both.instances(fleet="web", provider="local")["id"].iloc[0]
    assert both.instance(iid).provider == "local"
    assert both.instance(iid, provider="local").id == iid
    assert both.stop_instance(iid, dry_run=True, provider="local").provider == "local"
    with pytest.raises(cdb.NotFoundError):
        both.instance(iid, provider="aws")
