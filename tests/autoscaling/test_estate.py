"""tune_many: a whole estate in one table, here or on any concurrent.futures executor; s.tune_fleets()."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb.autoscaling import example_trace, load_trace, tune
from clusterdb_nb.autoscaling.estate import ESTATE

GRID = dict(targets=[40, 60, 80], cooldowns=[60, 300], min_capacity=1, max_capacity=12, price_per_hour=0.1)
TODAY = cdb.AutoScalingConfig(min_capacity=8, max_capacity=12, target_cpu_utilization=30, cooldown_seconds=300)


def estate():
    return {
        "web": load_trace(example_trace("ec2_cpu_utilization_5f5533"), observed_capacity=6),
        "batch": {"trace": example_trace("cpu_utilization_asg_misconfiguration"), "observed_capacity": 4, "provider": "gcp"},
        "api": {"trace": load_trace(example_trace("ec2_cpu_utilization_825cc2"), observed_capacity=3), "current": None},
    }


def test_one_row_per_fleet_with_the_recommendation_and_the_savings():
    table = cdb.tune_many(estate(), current=TODAY, **GRID)
    assert list(table.columns) == list(ESTATE) and table["fleet"].tolist() == ["web", "batch", "api"]
    assert table["provider"].tolist() == ["aws", "gcp", "aws"] and (table["error"] == "").all()
    web = table.iloc[0]
    alone = tune(estate()["web"], **GRID)
    assert web["target_cpu_utilization"] == alone.recommended.target_cpu_utilization and web["reason"] == alone.reason
    today = cdb.simulate(estate()["web"], TODAY, price_per_hour=0.1).summary
    assert web["current_cost_usd"] == pytest.approx(today.cost_usd)
    assert web["savings_usd"] == pytest.approx(today.cost_usd - web["cost_usd"]) and web["savings_usd"] > 0
    assert web["savings_percent"] == pytest.approx(100 * web["savings_usd"] / today.cost_usd)
    assert web["current_meets_slo"] == (today.minutes_saturated <= alone.limits["minutes_saturated"]) and web["meets_slo"]
    assert np.isnan(table.iloc[2]["current_cost_usd"])  # "api" gave current=None: nothing to compare with


def test_an_executor_gives_the_same_table_and_one_bad_fleet_does_not_hide_the_others():
    fleets = {**estate(), "broken": pd.Series([1.0, 2.0])}  # no DatetimeIndex
    with ThreadPoolExecutor(2) as pool:
        parallel = cdb.tune_many(fleets, current=TODAY, executor=pool, **GRID)
    here = cdb.tune_many(fleets, current=TODAY, **GRID)
    pd.testing.assert_frame_equal(parallel, here)
    broken = here.set_index("fleet").loc["broken"]
    assert broken["error"].startswith("trace: a Series needs a DatetimeIndex") and here["error"].eq("").sum() == 3


def test_a_dask_cluster_runs_the_estate():
    """The same table from a Dask cluster's executor (in-process here; a real one is
    ``distributed.Client("tcp://scheduler:8786").get_executor()``)."""
    import distributed  # the dask extra (a dev dependency)

    small = dict(GRID, targets=[50, 70], cooldowns=[300])
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            table = cdb.tune_many(estate(), current=TODAY, executor=client.get_executor(), **small)
    pd.testing.assert_frame_equal(table, cdb.tune_many(estate(), current=TODAY, **small))


def test_bad_estates_raise_validation_error():
    for bad in ({}, [1, 2], None):
        with pytest.raises(cdb.ValidationError) as err:
            cdb.tune_many(bad)
        assert err.value.field == "traces"


def test_the_session_tunes_its_own_fleets():
    with cdb.connect(local={"path": ":memory:", "clock": "virtual", "seed": 3}) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=6, min_capacity=1, max_capacity=12, instance_type="m5.large"))
        s.create_fleet(cdb.FleetConfig("api", capacity=2, min_capacity=1, max_capacity=6, instance_type="t3.medium"))
        s.configure_auto_scaling("api", cdb.AutoScalingConfig(min_capacity=1, max_capacity=6, target_cpu_utilization=50))
        s.local.advance("2D")
        table = s.tune_fleets(start=s.local.now - pd.Timedelta("1D"), targets=[50, 70], cooldowns=[300])
    assert sorted(table["fleet"]) == ["api", "web"] and (table["error"] == "").all()
    web = table.set_index("fleet").loc["web"]
    assert web["max_capacity"] == 12 and web["current_cost_usd"] > 0  # no policy today: its fixed 6 instances
    assert web["cost_usd"] == pytest.approx(web["instance_hours"] * cdb.catalog.lookup("m5.large").on_demand_usd)
    assert web["savings_usd"] > 0
