"""Migration between the local cloud and AWS (moto), Google Cloud (``fake_gcp``) and Azure (``fake_azure``):
the same handle, the target's type from the catalog, the capacity invariants from the migration's history."""

from __future__ import annotations

import pandas as pd

import clusterdb_nb as cdb
from clusterdb_nb import MigrationConfig
from clusterdb_nb.testing import fake_azure, fake_gcp

pytest_plugins = ["aws_moto"]  # moto fixtures: aws_env, mocked, raw, role

LOCAL = {"clock": "virtual", "seed": 7, "path": ":memory:"}
GCP = {"project_id": "demo", "credentials": "anonymous", "poll_seconds": 0.01, "retry_initial_seconds": 0.01}
C = 3


def within(m, low: int, high: int) -> None:
    moved = m.history().query("event in ('scale', 'create', 'bounds', 'delete')")
    assert moved["total_capacity"].iloc[:-1].between(low, high).all(), m.history()


def migrate(s: cdb.ComputeSession, source: str, target: str, cloud=None, **changes) -> cdb.Migration:
    cfg = MigrationConfig(
        source_fleet="web", source_provider=source, target_provider=target, batch_size=2, grace_period=0, **changes
    )
    plan = s.create_migration(cfg, dry_run=True)
    assert plan.attrs["hourly_cost_peak_usd"] >= plan.attrs["hourly_cost_before_usd"] > 0
    m = s.create_migration(cfg)
    m.run(timeout="2min", progress=False, clock=cloud)
    assert m.status == "completed", m.reason
    within(m, C, C + 2)
    return m


def test_local_to_aws_and_back(raw):
    with cdb.connect(local=LOCAL, aws={"region": "us-east-1"}) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=C, instance_type="t3.small", provider="local"))
        s.local.advance("1min")
        m = migrate(s, "local", "aws", health_check=lambda df: set(df["provider"]) == {"aws"})
        fleet = s.fleet("web", provider="aws")
        assert (fleet.capacity, fleet.instance_type) == (C, "t3.small")  # an AWS type stays itself on AWS
        groups = raw.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
        assert [g["DesiredCapacity"] for g in groups] == [C]
        assert s.fleets()["provider"].tolist() == ["aws"]
        back = migrate(s, "aws", "local")
        assert back.id != m.id and s.fleets()["provider"].tolist() == ["local"]
        assert len(s.migrations()) == 2


def test_a_failed_gate_on_aws_rolls_back_and_deletes_the_group(raw):
    with cdb.connect(local=LOCAL, aws={"region": "us-east-1"}) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=C, instance_type="t3.small", provider="local"))
        s.local.advance("1min")
        cfg = MigrationConfig(
            source_fleet="web", target_provider="aws", batch_size=1, grace_period=0, health_check=lambda df: False
        )
        m = s.create_migration(cfg)
        m.run(timeout="2min", progress=False)
        assert m.status == "paused" and "returned False" in m.reason
        m.rollback(timeout="2min", progress=False)
        assert m.status == "rolled_back"
        assert raw.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"] == []
        assert s.fleet("web").capacity == C


def test_local_to_gcp_takes_the_equivalent_type():
    with fake_gcp() as cloud, cdb.connect(local=LOCAL, gcp=GCP) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=C, instance_type="t3.medium", provider="local"))
        s.local.advance("1min")
        plan = s.create_migration(MigrationConfig(source_fleet="web", target_provider="gcp"), dry_run=True)
        assert "e2-medium" in plan["action"].iloc[0]
        migrate(s, "local", "gcp", cloud)
        fleet = s.fleet("web", provider="gcp")
        assert (fleet.capacity, fleet.instance_type) == (C, "e2-medium")
        assert s.fleets()["provider"].tolist() == ["gcp"]


def test_local_to_azure_blue_green():
    with fake_azure() as cloud, cdb.connect(local=LOCAL, azure=cloud.config()) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=C, instance_type="t3.medium", provider="local"))
        s.local.advance("1min")
        cfg = MigrationConfig(source_fleet="web", target_provider="azure", strategy="blue_green", grace_period=0)
        m = s.create_migration(cfg).run(timeout="10min", progress=False, clock=cloud)
        assert m.status == "completed", m.reason
        assert m.history()["total_capacity"].max() == 2 * C
        fleet = s.fleet("web", provider="azure")
        assert fleet.capacity == C and fleet.instance_type.lower().startswith("standard_")


def test_a_fake_that_follows_the_session_clock_runs_on_the_local_clock():
    with fake_gcp() as cloud, cdb.connect(local=LOCAL, gcp=GCP) as s:
        cloud.follow(lambda: s.local.now)
        s.create_fleet(cdb.FleetConfig("web", capacity=C, instance_type="t3.medium", provider="local"))
        s.local.advance("1min")
        before = s.local.now
        cfg = MigrationConfig(source_fleet="web", target_provider="gcp", batch_size=2, grace_period="1min")
        m = s.create_migration(cfg).run(timeout="30min", progress=False, clock=s.local)
        assert m.status == "completed", m.reason
        assert s.local.now - before >= pd.Timedelta("2min")  # two gates, each a minute of grace, in virtual time
        within(m, C, C + 2)
