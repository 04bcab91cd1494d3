"""create_instance: one standalone instance outside any fleet, on the local cloud and on AWS (moto)."""

from __future__ import annotations

import pytest
from aws_moto import REGION

import clusterdb_nb as cdb
from clusterdb_nb import catalog
from clusterdb_nb.providers.capabilities import Feature

pytest_plugins = ["aws_moto"]


def bastion(**changes):
    return cdb.InstanceConfig(
        **{"name": "bastion", "instance_type": "t3.micro", "provider": "local", "region": "local", **changes}
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Bastion"}, "name"),
        ({"instance_type": ""}, "instance_type"),
        ({"tags": {"bad\nkey": "v"}}, "tags"),
        ({"spot": "yes please"}, "spot"),
        ({"image": "ami 1"}, "image"),
    ],
)
def test_instance_config_is_validated_naming_the_field(change, field):
    with pytest.raises(cdb.ValidationError) as err:
        bastion(**change)
    assert err.value.field == field


def test_instance_config_needs_name_type_provider_and_region():
    with pytest.raises(cdb.ValidationError) as err:
        cdb.InstanceConfig(name="x", instance_type="t3.micro")
    assert err.value.field in ("provider", "region")


def test_local_create_instance_launches_one_standalone_instance_that_boots(s):
    inst = s.create_instance(bastion(tags={"team": "ops"}))
    assert inst.fleet is None and inst.state == cdb.InstanceState.PENDING and inst.instance_type == "t3.micro"
    assert inst.tags == {"team": "ops", "Name": "bastion"}
    s.local.advance("1min")
    assert s.instance(inst.id).state == cdb.InstanceState.RUNNING
    df = s.instances()
    assert list(df["id"]) == [inst.id] and df["fleet"].isna().all()
    s.stop_instance(inst.id)
    s.local.advance("1min")
    assert s.instance(inst.id).state == cdb.InstanceState.STOPPED
    s.terminate_instance(inst.id)
    s.local.advance("5min")
    assert s.instance(inst.id).state == cdb.InstanceState.TERMINATED
    assert len(s.instances(state="pending")) == 0  # no fleet replaces a standalone instance


def test_a_live_standalone_instance_name_is_a_conflict_until_terminated(s):
    first = s.create_instance(bastion())
    with pytest.raises(cdb.ConflictError):
        s.create_instance(bastion())
    s.terminate_instance(first.id)
    s.local.advance("5min")
    assert s.create_instance(bastion()).id != first.id


def test_dry_run_plans_the_hourly_cost_and_launches_nothing(s):
    plan = s.create_instance(bastion(instance_type="m5.large"), dry_run=True)
    assert isinstance(plan, cdb.Plan) and plan.operation == "create_instance" and plan.target == "bastion"
    assert plan.hourly_cost_before_usd == 0.0
    assert plan.hourly_cost_after_usd == pytest.approx(catalog.lookup("m5.large").on_demand_usd)
    assert len(s.instances()) == 0


def test_preflight_refuses_unknown_type_wrong_region_and_provider_before_any_call(s):
    with pytest.raises(cdb.ValidationError):
        s.create_instance(bastion(instance_type="zz.huge"))
    with pytest.raises(cdb.ValidationError) as err:
        s.create_instance(bastion(region="eu-west-1"))
    assert err.value.field == "region"
    with pytest.raises(cdb.ValidationError) as err:
        s.create_instance(bastion(provider="nowhere"))
    assert err.value.field == "provider"
    assert len(s.instances()) == 0


def test_wait_returns_the_running_instance(s):
    assert s.create_instance(bastion(), wait=True).state == cdb.InstanceState.RUNNING


def test_standalone_instances_is_a_capability_row(s):
    table = s.capabilities()
    assert table.loc[Feature.STANDALONE_INSTANCES.value, "local"] == "✓"


def test_aws_create_instance_runs_one_ec2_instance_with_its_name_tag(aws, raw):
    inst = aws.create_instance(
        cdb.InstanceConfig(name="db", instance_type="m5.large", provider="aws", region=REGION, tags={"env": "dev"})
    )
    found = raw.ec2.describe_instances(InstanceIds=[inst.id])["Reservations"][0]["Instances"][0]
    assert found["InstanceType"] == "m5.large"
    assert {t["Key"]: t["Value"] for t in found["Tags"]} == {"env": "dev", "Name": "db"}
    assert inst.fleet is None and inst.provider == "aws" and inst.tags["Name"] == "db"
    assert found["ImageId"].startswith("ami-")  # the latest Amazon Linux from SSM, as fleets get
    with pytest.raises(cdb.ConflictError):
        aws.create_instance(cdb.InstanceConfig(name="db", instance_type="m5.large", provider="aws", region=REGION))


def test_aws_dry_run_names_run_instances_and_changes_nothing(aws, raw):
    cfg = cdb.InstanceConfig(name="db", instance_type="m5.large", provider="aws", region=REGION, spot=True)
    plan = aws.create_instance(cfg, dry_run=True)
    assert "ec2:RunInstances" in plan.calls[0].call and "spot" in plan.calls[0].call
    assert plan.hourly_cost_after_usd == pytest.approx(catalog.lookup("m5.large", REGION).spot_usd)
    assert raw.ec2.describe_instances()["Reservations"] == []


def test_aws_spot_instance_is_launched_as_spot(aws, raw):
    cfg = cdb.InstanceConfig(
        name="cheap", instance_type="t3.micro", provider="aws", region=REGION, spot=True, image="ami-12345678"
    )
    inst = aws.create_instance(cfg)
    assert inst.spot
