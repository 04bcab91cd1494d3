"""The AWS provider's utilization (CloudWatch), costs (Cost Explorer or estimate) and status, on moto."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from aws_moto import ACCOUNT, REGION, params_of, provider, queue_cost_results
from click.testing import CliRunner

import clusterdb_nb as cdb
from clusterdb_nb import catalog
from clusterdb_nb.cli import main
from clusterdb_nb.frames import COSTS, INSTANCE_UTILIZATION, UTILIZATION

pytest_plugins = ["aws_moto"]  # moto fixtures: aws_env, mocked, raw, role, aws

T0 = pd.Timestamp("2026-01-05T00:00:00Z")
WEB = cdb.FleetConfig("web", capacity=3, instance_type="t3.medium", provider="aws")


def put(raw, namespace: str, metric: str, dimension: tuple[str, str], values: list[float], step: str = "1min") -> None:
    """Seed one datapoint per ``step`` from T0."""
    raw.cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}],
                "Timestamp": (T0 + k * pd.Timedelta(step)).to_pydatetime(),
                "Value": v,
            }
            for k, v in enumerate(values)
        ],
    )


# -- utilization -----------------------------------------------------------------------------
def test_utilization_reads_group_cpu_and_capacity_from_cloudwatch(aws, raw):
    aws.create_fleet(WEB)
    cpu = [float(10 + k) for k in range(15)]  # minutes 0..14
    put(raw, "AWS/EC2", "CPUUtilization", ("AutoScalingGroupName", "web"), cpu)
    put(raw, "AWS/EC2", "CPUUtilization", ("AutoScalingGroupName", "other"), [99.0] * 15)
    put(raw, "AWS/AutoScaling", "GroupInServiceInstances", ("AutoScalingGroupName", "web"), [3] * 5 + [4] * 10)
    put(raw, "AWS/AutoScaling", "GroupDesiredCapacity", ("AutoScalingGroupName", "web"), [4] * 15)

    df = aws.utilization("web", start=T0, end=T0 + pd.Timedelta("15min"), period="5min")
    assert list(df.columns) == list(UTILIZATION) and str(df["time"].dt.tz) == "UTC"
    assert df["time"].tolist() == [T0, T0 + pd.Timedelta("5min"), T0 + pd.Timedelta("10min")]
    assert df["cpu_percent"].tolist() == [12.0, 17.0, 22.0]  # the mean of each 5-minute bucket
    assert df["running"].tolist() == [3, 4, 4] and df["desired_capacity"].tolist() == [4, 4, 4]
    assert set(df["fleet"]) == {"web"} and set(df["provider"]) == {"aws"}
    assert df["running"].dtype == np.int64


def test_utilization_by_instance_gives_one_series_per_member(aws, raw):
    aws.create_fleet(WEB)
    ids = sorted(aws.instances(fleet="web")["id"])
    for k, iid in enumerate(ids):
        put(raw, "AWS/EC2", "CPUUtilization", ("InstanceId", iid), [10.0 * (k + 1)] * 10)
    df = aws.utilization("web", start=T0, end=T0 + pd.Timedelta("10min"), period="5min", by="instance")
    assert list(df.columns) == list(INSTANCE_UTILIZATION)
    assert df["instance_id"].tolist() == [ids[0]] * 2 + [ids[1]] * 2 + [ids[2]] * 2
    assert df["cpu_percent"].tolist() == [10.0, 10.0, 20.0, 20.0, 30.0, 30.0]


def test_utilization_without_datapoints_is_an_empty_frame_with_the_columns(aws):
    aws.create_fleet(WEB)
    df = aws.utilization("web", start=T0, end=T0 + pd.Timedelta("1h"))
    assert list(df.columns) == list(UTILIZATION) and len(df) == 0


@pytest.mark.parametrize("period", ["90s", "30s", "1M"])
def test_cloudwatch_periods_must_be_whole_minutes(aws, period):
    aws.create_fleet(WEB)
    with pytest.raises(cdb.ValidationError) as err:
        aws.utilization("web", period=period)
    assert err.value.field == "period"


# -- costs -----------------------------------------------------------------------------------
def billed(*groups: tuple[str, str, str, str]) -> dict:
    """A GetCostAndUsage answer: (fleet tag value, instance type, USD, hours) per group."""
    return {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": "2026-01-01", "End": "2026-01-08"},
                "Total": {},
                "Groups": [
                    {
                        "Keys": [f"aws:autoscaling:groupName${fleet}", itype],
                        "Metrics": {
                            "UnblendedCost": {"Amount": usd, "Unit": "USD"},
                            "UsageQuantity": {"Amount": hours, "Unit": "Hrs"},
                        },
                    }
                    for fleet, itype, usd, hours in groups
                ],
                "Estimated": False,
            }
        ]
    }


def test_costs_come_from_cost_explorer_grouped_by_the_fleet_tag(aws):
    aws.create_fleet(WEB.model_copy(update={"name": "batch", "spot": True, "instance_type": "c5.large"}))
    sent = params_of(provider(aws).clients.client("ce"), "GetCostAndUsage")
    queue_cost_results(
        billed(("web", "t3.medium", "6.9888", "168"), ("batch", "c5.large", "2.5", "84"), ("", "m5.large", "1.25", "13"))
    )
    df = aws.costs(start="2026-01-01", end="2026-01-08", by="resource")
    assert list(df.columns) == list(COSTS)
    rows = df[["resource", "fleet", "instance_type", "spot", "running_seconds", "cost_usd", "source"]].fillna({"fleet": "-"})
    assert rows.values.tolist() == [
        ["batch", "batch", "c5.large", True, 84 * 3600.0, 2.5, "billing"],
        ["web", "web", "t3.medium", False, 168 * 3600.0, 6.9888, "billing"],
        ["untagged", "-", "m5.large", False, 13 * 3600.0, 1.25, "billing"],  # instances outside any fleet
    ]
    [request] = sent()
    assert request["TimePeriod"] == {"Start": "2026-01-01", "End": "2026-01-08"}
    assert request["GroupBy"] == [
        {"Type": "TAG", "Key": "aws:autoscaling:groupName"},
        {"Type": "DIMENSION", "Key": "INSTANCE_TYPE"},
    ]
    assert {"Dimensions": {"Key": "REGION", "Values": [REGION]}} in request["Filter"]["And"]

    by_fleet = aws.costs(start="2026-01-01", end="2026-01-08")
    assert by_fleet.set_index("fleet").loc["web", "cost_usd"] == 6.9888


def test_costs_are_estimated_from_the_catalog_without_cost_explorer_data(aws, raw):
    aws.create_fleet(WEB)
    stopped = aws.instances()["id"].iloc[0]
    aws.stop_instance(stopped)
    start = pd.Timestamp.now(tz="UTC") - pd.Timedelta("1h")
    df = aws.costs(start=start, by="resource")  # moto's Cost Explorer has nothing queued: an empty answer
    running = set(aws.instances(state="running")["id"])
    assert set(df["resource"]) == running and stopped not in running and len(running) == 2
    assert set(df["source"]) == {"estimate"} and set(df["kind"]) == {"instance"}
    price = catalog.lookup("t3.medium", REGION).on_demand_usd
    assert np.allclose(df["cost_usd"], df["running_seconds"] / 3600.0 * price)
    assert (df["running_seconds"] > 0).all() and (df["running_seconds"] < 3600).all()


def test_a_cost_window_that_ends_before_it_starts_is_bad_input(aws):
    with pytest.raises(cdb.ValidationError, match="start.*after end") as err:  # an error, not an empty frame
        aws.costs(start="2026-01-08", end="2026-01-01")
    assert err.value.field == "start"


# -- status -----------------------------------------------------------------------------------
def test_status_names_the_account_region_and_what_the_vcpu_quota_says(aws):
    df = aws.status()
    row = df.iloc[0]
    assert (row["provider"], bool(row["ok"]), row["region"], row["account"]) == ("aws", True, REGION, ACCOUNT)
    assert f"authenticated as arn:aws:sts::{ACCOUNT}:" in row["detail"]
    # moto's Service Quotas knows only VPC quotas: the EC2 vCPU quota is reported as unreadable, not as a failure
    assert "on-demand vCPU quota not readable" in row["detail"]


def test_cli_status_for_aws(raw, tmp_path):
    config = tmp_path / "clusterdb.yaml"
    config.write_text(f"compute:\n  default_provider: aws\n  providers:\n    aws:\n      region: {REGION}\n")
    result = CliRunner().invoke(main, ["compute", "--config", str(config), "status", "--provider", "aws"])
    assert result.exit_code == 0, result.output
    assert ACCOUNT in result.output and REGION in result.output


def test_fleets_of_a_failing_provider_are_reported_beside_the_others(raw, aws_env):
    with cdb.connect(aws={"region": REGION}, local={"path": ":memory:", "clock": "virtual"}) as s:
        s.create_fleet(cdb.FleetConfig("local-web", capacity=1, provider="local"))
        bad = provider(s).clients.client("autoscaling")
        bad.meta.events.register_first("before-send.auto-scaling.DescribeAutoScalingGroups", _expired)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            df = s.fleets()
        assert df["name"].tolist() == ["local-web"]
        assert isinstance(df.attrs["errors"]["aws"], cdb.AuthenticationError)
        assert any("aws failed during list_fleets" in str(w.message) for w in seen)
        assert s.errors()["solution"].tolist() == ["Verify and update provider credentials"]


def _expired(request, **_):
    from botocore.exceptions import ClientError

    raise ClientError(
        {"Error": {"Code": "ExpiredToken", "Message": "The security token included in the request is expired"}},
        "DescribeAutoScalingGroups",
    )
