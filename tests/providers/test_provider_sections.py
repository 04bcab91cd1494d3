"""Several sections of one cloud: two AWS regions (moto) and two local clouds, side by side in one session."""

from __future__ import annotations

import boto3
import pandas as pd
import pytest
from aws_moto import live_instances

import clusterdb_nb as cdb

pytest_plugins = ["aws_moto"]  # moto fixtures: aws_env, mocked, raw, role

WEB = cdb.FleetConfig("web", capacity=1, max_capacity=4, instance_type="t3.micro")
LOCAL = {"clock": "virtual", "path": ":memory:"}


def pd_time(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_two_aws_regions_side_by_side(raw, role):
    config = {
        "compute": {
            "default_provider": "aws",
            "providers": {"aws": {"region": "us-east-1"}, "aws-eu": {"kind": "aws", "region": "eu-west-1"}},
        }
    }
    with cdb.connect(config) as s:
        assert {n: type(p).__name__ for n, p in s.manager.providers.items()} == {"aws": "AwsProvider", "aws-eu": "AwsProvider"}
        s.create_fleet(WEB)
        s.create_fleet(WEB.with_provider("aws-eu").with_capacity(2))
        fleets = s.fleets().sort_values("provider")
        assert fleets[["provider", "region", "capacity"]].values.tolist() == [["aws", "us-east-1", 1], ["aws-eu", "eu-west-1", 2]]
        assert sorted(s.instances()["provider"]) == ["aws", "aws-eu", "aws-eu"]
        eu = boto3.client("ec2", region_name="eu-west-1")
        in_eu = [i for r in eu.describe_instances()["Reservations"] for i in r["Instances"]]
        assert len(in_eu) == 2 and len(live_instances(raw)) == 1  # each section works in its own region
        with pytest.raises(cdb.ConflictError, match="pass provider=.*aws-eu"):
            s.update_fleet_capacity("web", 3)
        s.update_fleet_capacity("web", 3, provider="aws-eu")
        assert s.fleet("web", provider="aws-eu").capacity == 3 and s.fleet("web", provider="aws").capacity == 1
        assert list(s.capabilities().columns) == ["aws", "aws-eu"]
        assert set(s.status()["provider"]) == {"aws", "aws-eu"}


def test_a_named_section_is_checked_by_its_kinds_model():
    with pytest.raises(cdb.ValidationError, match="aws-eu.max_attempts") as err:
        cdb.connect({"compute": {"providers": {"local": LOCAL, "aws-eu": {"kind": "aws", "max_attempts": 0}}}})
    assert err.value.field.endswith("aws-eu.max_attempts")
    with pytest.raises(cdb.ValidationError, match="aws.kind: the section named 'aws' is of kind 'aws', not 'gcp'"):
        cdb.load_config(None, aws={"kind": "gcp"})
    with pytest.raises(cdb.ValidationError, match="local-b.path: local already keeps its state"):
        cdb.load_config({"compute": {"providers": {"local": {}, "local-b": {"kind": "local"}}}})


def test_two_local_clouds_share_one_virtual_time():
    with cdb.connect(local=LOCAL, local_b={"kind": "local", **LOCAL, "seed": 3}) as s:  # keyword sections work too
        assert sorted(s.locals) == ["local", "local_b"]
        s.create_fleet(WEB)
        s.create_fleet(WEB.with_provider("local_b").with_capacity(2))
        s.local.advance("10min")
        assert s.locals["local_b"].now == s.local.now == pd_time("2026-01-05 00:10")
        s.locals["local_b"].advance("5min")  # from either handle, both move
        assert s.local.now == s.locals["local_b"].now == pd_time("2026-01-05 00:15")
        assert s.instances().groupby("provider").size().to_dict() == {"local": 1, "local_b": 2}
        assert set(s.costs()["provider"]) == {"local", "local_b"}
        assert s.locals["local_b"].history()["fleet"].nunique() == 1
        with pytest.raises(cdb.ConflictError, match="pass provider=.*local_b"):
            s.fleet("web")


def test_the_default_local_section_need_not_be_called_local():
    config = {"compute": {"default_provider": "lab", "providers": {"lab": {"kind": "local", **LOCAL}}}}
    with cdb.connect(config) as s:
        s.create_fleet(WEB)
        assert s.fleets()["provider"].tolist() == ["lab"]
        assert s.local.advance("1min") == pd_time("2026-01-05 00:01")
        assert list(s.locals) == ["lab"]


def test_an_empty_window_is_empty_on_every_cloud(raw, role):
    with cdb.connect(aws={"region": "us-east-1"}, local=LOCAL) as s:
        s.create_fleet(WEB.with_provider("aws"))
        s.create_fleet(cdb.FleetConfig("api", capacity=1, provider="local"))
        s.local.advance("1h")
        t = "2026-01-05 00:30"
        assert len(s.costs(start=t, end=t)) == 0  # local and AWS agree: start == end costs nothing
        assert len(s.utilization("web", start=t, end=t)) == 0
        assert len(s.utilization("api", start=t, end=t)) == 0
        with pytest.raises(cdb.ValidationError, match="start: .* is after end"):
            s.costs(start="2026-01-06", end=t)


def test_unknown_keys_of_a_named_section_are_named():
    with pytest.raises(cdb.ValidationError, match=r"unknown config key: compute.providers.aws-eu.regoin \(did you mean 'region'"):
        cdb.load_config({"compute": {"providers": {"aws-eu": {"kind": "aws", "regoin": "eu-west-1"}}}})


def test_a_named_section_has_its_kinds_model_and_rules():
    providers = cdb.load_config(None, local=LOCAL, aws_eu={"kind": "aws", "region": "eu-west-1"}).compute.providers
    section = providers.sections()["aws_eu"]
    assert isinstance(section, cdb.config.AwsConfig) and section.region == "eu-west-1"
    assert cdb.config.rules_of(section).default_instance_type == cdb.config.rules_of(cdb.config.AwsConfig()).default_instance_type
