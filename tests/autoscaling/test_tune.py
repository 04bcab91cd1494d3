"""tune(): the whole grid in the vectorized engine, the Pareto front, a recommendation in words."""

import sys

import numpy as np
import pytest

import clusterdb_nb as cdb
from clusterdb_nb import frames
from clusterdb_nb.autoscaling import example_trace, load_trace, simulate, tune
from clusterdb_nb.autoscaling.tune import pareto_front

TRACE = load_trace(example_trace("ec2_cpu_utilization_5f5533"), observed_capacity=6)


@pytest.fixture(scope="module")
def aws():
    return tune(
        TRACE, targets=[40, 55, 70, 85], cooldowns=[0, 300, 900], min_capacity=1, max_capacity=[4, 8], instance_type="m5.large"
    )


def test_table_lists_every_policy_of_the_grid(aws):
    t = aws.table
    assert list(t.columns) == list(frames.TUNING) and len(t) == 4 * 3 * 2
    assert set(t["target_cpu_utilization"]) == {40.0, 55.0, 70.0, 85.0} and set(t["max_capacity"]) == {4, 8}
    assert (t["cost_usd"] == t["instance_hours"] * cdb.catalog.lookup("m5.large").on_demand_usd).all()
    assert t["minutes_saturated"].nunique() > 3  # the grid really spans cheap-and-saturated to costly-and-served


def test_figures_match_simulate_policy_by_policy(aws):
    for _, row in aws.table.sample(4, random_state=1).iterrows():
        policy = cdb.AutoScalingConfig(
            min_capacity=int(row["min_capacity"]),
            max_capacity=int(row["max_capacity"]),
            target_cpu_utilization=row["target_cpu_utilization"],
            cooldown_seconds=int(row["cooldown_seconds"]),
        )
        summary = simulate(TRACE, policy, instance_type="m5.large").summary
        assert summary.as_dict() == {k: row[k] for k in summary.as_dict()}


def test_pareto_front_is_the_non_dominated_set(aws):
    t = aws.table
    cost, sat = t["cost_usd"].to_numpy(), t["minutes_saturated"].to_numpy()
    for i in range(len(t)):
        dominated = ((cost <= cost[i]) & (sat <= sat[i]) & ((cost < cost[i]) | (sat < sat[i]))).any()
        assert t["pareto"].iloc[i] == (not dominated)
    front = aws.pareto
    assert front["cost_usd"].is_monotonic_increasing and front["minutes_saturated"].is_monotonic_decreasing


def test_pareto_front_keeps_ties():
    assert pareto_front(np.array([1.0, 1.0, 2.0, 0.5]), np.array([5.0, 5.0, 1.0, 9.0])).tolist() == [True, True, True, True]
    assert pareto_front(np.array([1.0, 2.0, 2.0]), np.array([5.0, 5.0, 1.0])).tolist() == [True, False, True]


def test_recommendation_is_the_cheapest_within_the_slo(aws):
    t = aws.table
    minutes = len(TRACE) * TRACE.step / 60
    assert aws.limits == {"minutes_saturated": 0.001 * minutes, "minutes_above_target": 0.25 * minutes, "p95_utilization": 70.0}
    ok = t[(t["minutes_saturated"] <= aws.limits["minutes_saturated"]) & (t["minutes_above_target"] <= 0.25 * minutes)]
    ok = ok[ok["p95_utilization"] <= 70.0]
    assert t["meets_slo"].tolist() == t.index.isin(ok.index).tolist() and 0 < len(ok) < len(t)
    best = t[t["recommended"]]
    assert len(best) == 1 and best["cost_usd"].iloc[0] == ok["cost_usd"].min()
    row = best.iloc[0]
    assert aws.recommended == cdb.AutoScalingConfig(
        min_capacity=int(row["min_capacity"]),
        max_capacity=int(row["max_capacity"]),
        target_cpu_utilization=row["target_cpu_utilization"],
        cooldown_seconds=int(row["cooldown_seconds"]),
    )
    assert aws.reason.startswith("cheapest policy within the SLO: ")
    assert f"target {row['target_cpu_utilization']:g}%" in aws.reason


def test_the_binding_constraint_is_named_with_the_cheaper_policy_it_keeps_out(aws):
    """Drop a binding limit and a cheaper policy comes through; the reason names it."""
    assert aws.binding, aws.reason
    for key in aws.binding:
        assert f"{key} binds: the cheaper target" in aws.reason
        loose = {"max_saturated_fraction": 1.0, "max_minutes_above_target": 1e9, "max_p95_utilization": 100.0}[key]
        freer = tune(
            TRACE,
            targets=[40, 55, 70, 85],
            cooldowns=[0, 300, 900],
            min_capacity=1,
            max_capacity=[4, 8],
            instance_type="m5.large",
            slo={key: loose},
        )
        assert (
            freer.table.loc[freer.table["recommended"], "cost_usd"].iloc[0]
            < aws.table.loc[aws.table["recommended"], "cost_usd"].iloc[0]
        )


def test_the_p95_limit_stops_the_drift_to_the_highest_target():
    """Issue 11: with saturated minutes as the only objective the tuner drifted to the grid's highest
    target (90-95 %, p95 72-83 % on held-out traces). Under the default SLO the recommendation keeps
    p95 utilization within 70 %; with only the saturation limit it takes the grid's highest target."""
    grid = dict(
        targets=[40, 50, 60, 70, 80, 90, 95], cooldowns=[60, 300, 900], max_capacity=20, provider="azure", price_per_hour=0.1
    )
    default = tune(TRACE, **grid)
    saturation_only = tune(TRACE, **grid, slo={"max_minutes_above_target": 1e9, "max_p95_utilization": 100})
    assert default.table.loc[default.table["recommended"], "p95_utilization"].iloc[0] <= 70.0
    assert default.binding == ["max_p95_utilization"] and "max_p95_utilization binds" in default.reason
    assert saturation_only.recommended.target_cpu_utilization == 95 > default.recommended.target_cpu_utilization


def test_when_no_policy_meets_the_slo_the_closest_is_recommended():
    result = tune(TRACE, targets=[70, 90], cooldowns=[300], max_capacity=2, slo={"max_saturated_fraction": 0})
    assert result.reason.startswith("no policy meets the SLO; this one comes closest")
    assert "max_saturated_fraction" in result.binding and not result.table["meets_slo"].any()
    assert result.cost_column == "instance_hours" and result.table["cost_usd"].isna().all()
    best = result.table[result.table["recommended"]].iloc[0]
    assert best["minutes_saturated"] == result.table["minutes_saturated"].min()


@pytest.mark.parametrize("provider", ["gcp", "azure", "kubernetes"])
def test_every_cloud_tunes(provider):
    short = load_trace(example_trace("ec2_cpu_utilization_5f5533"), observed_capacity=6)
    result = tune(short, targets=[40, 80], cooldowns=[60, 600], max_capacity=8, provider=provider, price_per_hour=0.1)
    t = result.table
    assert len(t) == 4 and t["recommended"].sum() == 1
    assert (
        t.loc[t["target_cpu_utilization"] == 40, "instance_hours"].min()
        > t.loc[t["target_cpu_utilization"] == 80, "instance_hours"].max()
    )


def test_large_grids_show_progress(monkeypatch, capsys):
    monkeypatch.setattr(sys.modules["clusterdb_nb.autoscaling.tune"], "BATCH", 2)  # the module, not the function
    short = load_trace(example_trace("ec2_cpu_utilization_5f5533"), observed_capacity=6)
    result = tune(short, targets=[40, 60, 80], cooldowns=[60], max_capacity=8)
    assert "tuning 3 policies" in capsys.readouterr().err and len(result.table) == 3
    tune(short, targets=[40, 60, 80], cooldowns=[60], max_capacity=8, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"targets": []}, "targets"),
        ({"targets": [0]}, "target_cpu_utilization"),
        ({"cooldowns": [-5]}, "cooldown_seconds"),
        ({"min_capacity": 5, "max_capacity": 2}, "min_capacity"),
        ({"min_capacity": [5, 6], "max_capacity": [2, 3]}, "min_capacity"),
        ({"slo": {"max_saturated_fraction": -1}}, "slo.max_saturated_fraction"),
        ({"slo": {"max_saturated_fraction": 2}}, "slo.max_saturated_fraction"),
        ({"slo": {"max_p95_utilization": 101}}, "slo.max_p95_utilization"),
        ({"slo": {"max_minutes_above_target": float("nan")}}, "slo.max_minutes_above_target"),
        ({"slo": {"p99": 90}}, "slo.p99"),
        ({"slo": [0.1]}, "slo"),
        ({"provider": "gcp", "instance_warmup": 60}, "instance_warmup"),
    ],
)
def test_bad_grids_raise_validation_error(kwargs, field):
    with pytest.raises(cdb.ValidationError) as err:
        tune(TRACE, **kwargs)
    assert err.value.field == field


def test_exported_from_the_package(aws):
    assert cdb.tune is tune and isinstance(aws, cdb.TuningResult) and "TuningResult" in cdb.__all__
    assert "policies" in repr(aws)


def test_notes_say_when_demand_is_censored_or_the_fleet_size_unknown():
    """Issue 11: a trace at ~100 % CPU hides its true demand; without observed_capacity demand never
    exceeds one instance. Both are said in the result."""
    import pandas as pd

    index = pd.date_range("2014-01-01", periods=200, freq="5min")
    pinned = pd.Series([99.5] * 190 + [60.0] * 10, index=index)
    result = tune(pinned, targets=[60], cooldowns=[300], max_capacity=4)
    assert any(n.startswith("demand is censored: the trace's CPU p95 is 99.5%") for n in result.notes)
    assert any(n.startswith("observed_capacity was not given") for n in result.notes)
    assert "note: demand is censored" in repr(result)
    sized = tune(pd.Series([40.0] * 200, index=index), targets=[60], cooldowns=[300], max_capacity=4, observed_capacity=3)
    assert sized.notes == ["step 5 min: the trace's own sampling period"]
