"""simulate(): the timeline, the summary worked out by hand, prices and bad arguments (its figure: tests/test_plots.py)."""

import math

import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb import frames
from clusterdb_nb.autoscaling import AzureRule, example_trace, simulate

POLICY = cdb.AutoScalingConfig(min_capacity=1, max_capacity=10, target_cpu_utilization=50.0, cooldown_seconds=300)


@pytest.fixture
def scaled(cpu_trace):
    # 4 instances at 40 % (1.6 units) for 5 minutes, 80 % (3.2 units) for 10: AWS adds 3 at minute 7
    # (capacity 7 from minute 8); they boot in 60 s and serve from minute 8 (the 300 s warmup is
    # only how long AWS leaves them out of its metric).
    return simulate(cpu_trace((40, 5), (80, 10)), POLICY, initial_capacity=4, observed_capacity=4, price_per_hour=0.5)


def test_timeline_has_the_schema_and_the_fleet_as_it_was(scaled):
    t = scaled.timeline
    assert list(t.columns) == list(frames.SIMULATION) and str(t["time"].dt.tz) == "UTC"
    assert t["capacity"].tolist() == [4] * 8 + [7] * 7
    assert t["serving"].tolist() == [4] * 8 + [7] * 7
    assert t["utilization"].round(2).tolist() == [40.0] * 5 + [80.0] * 3 + [45.71] * 7
    assert not t["saturated"].any()
    assert list(scaled.activities.columns) == list(frames.SCALING_ACTIVITIES)


def test_summary_worked_out_by_hand(scaled):
    s = scaled.summary
    assert s.instance_hours == pytest.approx((8 * 4 + 7 * 7) / 60)  # 1.35 instance-hours
    assert s.cost_usd == pytest.approx(1.35 * 0.5)
    assert s.minutes_above_target == 3  # minutes 5-7 at 80 %
    assert s.minutes_saturated == 0
    assert s.scaling_actions == 1
    assert s.p95_utilization == pytest.approx(80.0)  # 3 of 15 minutes at 80 %
    assert "1.4 instance-hours ($0.68)" in str(s) and "1 scaling actions" in repr(scaled)


def test_saturation_when_demand_exceeds_the_fleet(cpu_trace):
    # 100 % on 2 instances and a cap of 2: every minute saturated.
    policy = cdb.AutoScalingConfig(min_capacity=1, max_capacity=2, target_cpu_utilization=50.0)
    result = simulate(cpu_trace((100, 10)), policy, initial_capacity=2, observed_capacity=3)
    assert result.summary.minutes_saturated == 10 and result.timeline["saturated"].all()
    assert math.isnan(result.summary.cost_usd)


def test_price_from_the_catalog(cpu_trace):
    result = simulate(cpu_trace((40, 60)), POLICY, initial_capacity=2, observed_capacity=2, instance_type="m5.large")
    assert result.price_per_hour == cdb.catalog.lookup("m5.large").on_demand_usd
    assert result.summary.cost_usd == pytest.approx(result.summary.instance_hours * result.price_per_hour)


@pytest.mark.parametrize("provider", ["aws", "gcp", "azure", "kubernetes"])
def test_a_lower_target_buys_more_instances_on_a_real_trace(provider):
    trace = example_trace("ec2_cpu_utilization_5f5533")
    hours = [
        simulate(
            trace,
            cdb.AutoScalingConfig(min_capacity=1, max_capacity=20, target_cpu_utilization=t),
            provider=provider,
            observed_capacity=6,
        ).summary.instance_hours
        for t in (40.0, 80.0)
    ]
    assert hours[0] > 1.3 * hours[1]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"provider": "oracle"}, "provider"),
        ({"provider": "aws", "rules": []}, "rules"),
        (
            {"provider": "azure", "rules": [AzureRule(direction="Increase", operator="GreaterThan", threshold=70)], "mode": "ON"},
            "mode",
        ),
        ({"instance_type": "m5.large", "price_per_hour": 0.1}, "price_per_hour"),
        ({"price_per_hour": -1}, "price_per_hour"),
        ({"instance_type": "m5.huge"}, "instance_type"),
        ({"initial_capacity": 11}, "initial_capacity"),
        ({"initial_capacity": 2.5}, "initial_capacity"),
        ({"initial_capacity": "two"}, "initial_capacity"),
        ({"provider": "gcp", "initialization_period": "soon"}, "initialization_period"),
        ({"provider": "kubernetes", "tolerance": 1.5}, "tolerance"),
    ],
)
def test_bad_arguments_raise_validation_error(cpu_trace, kwargs, field):
    with pytest.raises(cdb.ValidationError) as err:
        simulate(cpu_trace((50, 5)), POLICY, **kwargs)
    assert err.value.field == field


def test_min_above_max_and_a_policy_of_the_wrong_type():
    with pytest.raises(cdb.ValidationError) as err:
        cdb.AutoScalingConfig(min_capacity=5, max_capacity=2)
    assert err.value.field == "min_capacity"
    with pytest.raises(cdb.ValidationError) as err:
        simulate(example_trace(), {"min_capacity": 5, "max_capacity": 2})
    assert err.value.field == "min_capacity"
    with pytest.raises(cdb.ValidationError) as err:
        simulate(example_trace(), "70%")
    assert err.value.field == "policy"


def test_exported_from_the_package():
    assert cdb.simulate is simulate and "simulate" in cdb.__all__ and "SimulationResult" in cdb.__all__
    assert isinstance(simulate(pd.Series([50.0], index=pd.to_datetime(["2024-01-01"])), POLICY), cdb.SimulationResult)
