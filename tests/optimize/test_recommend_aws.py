"""The recommendations and apply on AWS (moto): CloudWatch history in, Auto Scaling group changes out."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

import clusterdb_nb as cdb

sys.path.insert(0, str(Path(__file__).parents[1] / "providers"))  # the moto fixtures live beside the AWS tests
from aws_moto import provider  # noqa: E402

pytest_plugins = ["aws_moto"]  # moto fixtures: aws_env, mocked, raw, role, aws

BATCH = cdb.FleetConfig("batch", capacity=3, instance_type="m5.xlarge", provider="aws")


def history(raw, fleet: str, cpu: float | Callable[[pd.Timestamp], float], running: int, days: float = 2) -> None:
    """``days`` of 5-minute CloudWatch points up to now: the group's CPU % (a number, or one per time) and its
    in-service and desired counts."""
    times = pd.date_range(end=pd.Timestamp.now(tz="UTC").floor("5min"), periods=int(days * 24 * 12), freq="5min")
    series = (("AWS/EC2", "CPUUtilization", cpu), ("AWS/AutoScaling", "GroupInServiceInstances", running),
              ("AWS/AutoScaling", "GroupDesiredCapacity", running))  # fmt: skip
    for namespace, metric, value in series:
        for k in range(0, len(times), 500):  # put_metric_data takes at most 1000 points a call
            raw.cloudwatch.put_metric_data(
                Namespace=namespace,
                MetricData=[
                    {
                        "MetricName": metric,
                        "Dimensions": [{"Name": "AutoScalingGroupName", "Value": fleet}],
                        "Timestamp": t.to_pydatetime(),
                        "Value": float(value(t) if callable(value) else value),
                    }  # fmt: skip
                    for t in times[k : k + 500]
                ],
            )


@pytest.fixture
def batch(aws, raw):
    aws.create_fleet(BATCH)
    history(raw, "batch", cpu=12.0, running=3)
    return aws


def test_rightsize_and_autoscaling_from_cloudwatch(batch):
    df = batch.recommendations(window="7d")
    found = df.set_index("kind")
    assert set(found.index) == {"rightsize", "autoscaling"} and set(df["provider"]) == {"aws"}
    rightsize = found.loc["rightsize", "details"]
    assert rightsize["p95_cpu_percent"] == pytest.approx(12.0) and rightsize["proposed_type"] == "m5.large"
    assert rightsize["hours_observed"] == pytest.approx(48, abs=0.5)
    assert found.loc["rightsize", "confidence"] == "medium"  # two days of a seven-day window
    assert found.loc["rightsize", "monthly_savings_usd"] == pytest.approx(3 * (0.192 - 0.096) * 730, rel=1e-3)
    assert found.loc["autoscaling", "details"]["engine"] == "aws"


def test_dry_run_changes_nothing_and_apply_changes_the_group(batch, monkeypatch):
    rec = batch.recommendations(window="7d", kinds="rightsize").iloc[0]
    aws = provider(batch)
    real = aws.update_fleet

    async def refuse(*args, **kw):
        raise AssertionError("a dry run called the provider")

    monkeypatch.setattr(aws, "update_fleet", refuse)
    plan = batch.apply(rec, dry_run=True)
    assert plan.plans[0].hourly_cost_after_usd == pytest.approx(3 * 0.096)
    assert batch.fleet("batch").instance_type == "m5.xlarge"
    monkeypatch.setattr(aws, "update_fleet", real)
    batch.apply(rec)
    assert batch.fleet("batch").instance_type == "m5.large"


def test_apply_the_autoscaling_policy_on_aws(batch):
    rec = batch.recommendations(window="7d", kinds="autoscaling").iloc[0]
    batch.apply(rec)
    policy = batch.fleet("batch").auto_scaling
    assert policy is not None and policy.target_cpu_utilization == rec["details"]["target_cpu_utilization"]


def test_a_busy_fleet_gets_no_rightsizing(aws, raw):
    aws.create_fleet(BATCH)
    history(raw, "batch", cpu=45.0, running=3)
    assert aws.recommendations(window="7d", kinds="rightsize").empty


def test_a_night_pattern_becomes_auto_scaling_scheduled_actions(aws, raw):
    aws.create_fleet(cdb.FleetConfig("office", capacity=4, instance_type="t3.large", provider="aws"))
    history(raw, "office", cpu=lambda t: 60.0 if 8 <= t.hour < 20 else 3.0, running=4, days=4)
    rec = aws.recommendations(window="7d", kinds="schedule").iloc[0]
    assert rec["details"]["night_hours"] == "20:00-08:00" and rec["details"]["off_capacity"] == 1
    aws.apply(rec, dry_run=True)
    assert raw.autoscaling.describe_scheduled_actions(AutoScalingGroupName="office")["ScheduledUpdateGroupActions"] == []
    aws.apply(rec)
    actions = raw.autoscaling.describe_scheduled_actions(AutoScalingGroupName="office")["ScheduledUpdateGroupActions"]
    assert sorted((a["Recurrence"], a["DesiredCapacity"]) for a in actions) == [("0 20 * * *", 1), ("0 8 * * *", 4)]
