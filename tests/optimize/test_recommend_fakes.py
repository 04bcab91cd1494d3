"""The same rules and apply on Google Cloud and Azure, through their SDKs against the offline fakes.

Each fake follows the session's virtual local clock, so two days of load pass in an instant.
"""

from __future__ import annotations

import pytest

import clusterdb_nb as cdb
from clusterdb_nb.testing.azure import fake_azure
from clusterdb_nb.testing.gcp import fake_gcp

VIRTUAL = {"clock": "virtual", "seed": 7, "path": ":memory:"}
GCP = {"project_id": "demo", "credentials": "anonymous", "poll_seconds": 0.01, "retry_initial_seconds": 0.01}


def rightsize_then_apply(s: cdb.ComputeSession, provider: str, smaller: str) -> None:
    df = s.recommendations(window="7d", kinds=["rightsize", "autoscaling"])
    assert sorted(df["kind"]) == ["autoscaling", "rightsize"] and set(df["provider"]) == {provider}
    row = df[df["kind"] == "rightsize"].iloc[0]
    assert row["details"]["proposed_type"] == smaller and row["details"]["hours_observed"] == pytest.approx(48, abs=0.5)
    assert row["details"]["p95_cpu_percent"] < 40 and row["details"]["projected_p95_cpu_percent"] <= 70
    s.apply(row, dry_run=True)
    assert s.fleet("web").instance_type != smaller
    s.apply(row)
    assert s.fleet("web").instance_type == smaller


def test_on_google_cloud():
    with fake_gcp() as cloud, cdb.connect(local=VIRTUAL, gcp=GCP) as s:
        cloud.follow(lambda: s.local.now)
        cloud.base_units = 0.4  # instance-units of demand: about 20 % of two instances
        s.create_fleet(cdb.FleetConfig("web", capacity=2, instance_type="e2-standard-4", provider="gcp"))
        s.local.advance("2D")
        rightsize_then_apply(s, "gcp", "e2-standard-2")


def test_on_azure():
    with fake_azure() as cloud, cdb.connect(local=VIRTUAL, azure=cloud.config()) as s:
        cloud.follow(lambda: s.local.now)
        s.create_fleet(cdb.FleetConfig("web", capacity=2, instance_type="Standard_D4s_v3", provider="azure"))
        cloud.set_load("clusterdb-web", 0.4)
        s.local.advance("2D")
        rightsize_then_apply(s, "azure", "Standard_D2s_v3")


def test_cross_cloud_to_google_cloud_creates_the_migration():
    from week_scenario import constant, run

    with fake_gcp() as cloud, cdb.connect(local=VIRTUAL, gcp=GCP) as s:
        cloud.follow(lambda: s.local.now)
        run(s, {"web": (cdb.FleetConfig("web", capacity=2, instance_type="m5.large", provider="local"), constant(50.0))})
        row = s.recommendations(window="7d", kinds="cross_cloud").iloc[0]
        assert row["details"]["target_provider"] == "gcp" and row["details"]["target_instance_type"] == "e2-standard-2"
        assert row["monthly_savings_usd"] == pytest.approx((0.096 - 0.067006) * 2 * 730, rel=1e-3)
        plan = s.apply(row, dry_run=True)
        assert len(plan.steps[0][1]) > 0 and s.migrations().empty
        moved = s.apply(row).steps[0][1]
        listed = s.migrations()
        assert moved.status == "planned" and len(listed) == 1
        assert moved.config.target_provider == "gcp" and moved.config.target_instance_type == "e2-standard-2"
