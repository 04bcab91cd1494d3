"""Each rule's thresholds, just under and just over, and the numbers of its evidence, on the local cloud."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from week_scenario import START, constant, run

import clusterdb_nb as cdb
from clusterdb_nb import catalog, frames
from clusterdb_nb.optimize import RECOMMENDATIONS, parameters
from clusterdb_nb.optimize.rightsize import smaller_type
from clusterdb_nb.optimize.schedule import cron_days, night_run, transitions

VIRTUAL = {"clock": "virtual", "seed": 7, "path": ":memory:"}


@pytest.fixture
def s():
    session = cdb.connect(local=VIRTUAL)
    yield session
    session.close()


def fleet(name: str, itype: str = "m5.xlarge", capacity: int = 4, **more) -> cdb.FleetConfig:
    return cdb.FleetConfig(name, capacity=capacity, instance_type=itype, provider="local", **more)


def found(s, kind: str, **thresholds) -> pd.DataFrame:
    df = s.recommendations(window="7d", kinds=[kind], **thresholds)
    return df[df["kind"] == kind]


# -- rightsize ---------------------------------------------------------------------------------------
def test_rightsize_just_under_the_p95_threshold_is_found_with_its_evidence(s):
    run(s, {"batch": (fleet("batch"), constant(34.9))})
    df = found(s, "rightsize")
    assert df["resource"].tolist() == ["batch"]
    row = df.iloc[0]
    ev = row["details"]
    assert ev["p95_cpu_percent"] == pytest.approx(34.9, abs=0.01)
    assert ev["proposed_type"] == "m5.large" and ev["proposed_vcpu"] == 2 and ev["proposed_memory_gib"] == 8
    assert ev["projected_p95_cpu_percent"] == pytest.approx(69.8, abs=0.02)  # the same work on half the cores
    assert ev["observed_memory_gib"] is None and "memory use not reported" in row["evidence"]
    assert row["monthly_savings_usd"] == pytest.approx((0.192 - 0.096) * 4 * 730, rel=1e-3)
    assert row["action"] == "s.update_fleet(FleetConfig('batch', provider='local').with_instance_type('m5.large'))"
    assert row["confidence"] == "medium"  # a whole window, but memory use is unknown


@pytest.mark.parametrize(("cpu", "expected"), [(39.9, True), (40.1, False)])
def test_rightsize_p95_threshold(s, cpu, expected):
    run(s, {"batch": (fleet("batch", itype="m5.2xlarge"), constant(cpu))})  # 8 vCPU: a 4-vCPU type projects 80 %
    df = found(s, "rightsize", rightsize_max_projected_p95=90.0)
    assert (len(df) == 1) is expected


@pytest.mark.parametrize(("cpu", "expected"), [(34.9, True), (35.1, False)])
def test_rightsize_never_projects_above_the_ceiling(s, cpu, expected):
    run(s, {"batch": (fleet("batch"), constant(cpu))})  # m5.xlarge -> m5.large doubles the CPU %
    assert (len(found(s, "rightsize")) == 1) is expected


def test_rightsize_keeps_the_observed_memory():
    current = catalog.lookup("m5.xlarge")
    assert smaller_type(current, 10.0, 70.0, observed_memory_gib=7.5).name == "m5.large"
    assert smaller_type(current, 10.0, 70.0, observed_memory_gib=8.5) is None  # every 2-vCPU general type has 8 GiB
    assert smaller_type(current, 10.0, 70.0, observed_memory_gib=None).memory_gib / 2 >= 16 / 4  # GiB per vCPU kept


def test_rightsize_with_memory_data_uses_it(s, monkeypatch):
    run(s, {"batch": (fleet("batch"), constant(10.0))})
    real = s.utilization

    def with_memory(*args, **kw):
        df = real(*args, **kw)
        return df.assign(memory_percent=60.0)  # 9.6 GiB of 16: no 8 GiB type will do

    monkeypatch.setattr(s, "utilization", with_memory)
    assert found(s, "rightsize").empty
    monkeypatch.setattr(s, "utilization", lambda *a, **kw: real(*a, **kw).assign(memory_percent=40.0))  # 6.4 GiB
    row = found(s, "rightsize").iloc[0]
    assert row["details"]["observed_memory_gib"] == pytest.approx(6.4) and row["confidence"] == "high"


# -- idle ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("cpu", "expected"), [(1.9, True), (2.1, False)])
def test_idle_fleet_cpu_threshold(s, cpu, expected):
    run(s, {"quiet": (fleet("quiet", itype="t3.medium", capacity=3), constant(cpu))})
    df = found(s, "idle")
    assert (len(df) == 1) is expected
    if expected:
        row = df.iloc[0]
        assert row["details"]["max_hourly_cpu_percent"] == pytest.approx(1.9, abs=0.01)
        assert row["monthly_savings_usd"] == pytest.approx(3 * 0.0416 * 730, rel=1e-2)
        assert row["action"] == "s.update_fleet(FleetConfig('quiet', provider='local', capacity=0, min_capacity=0))"


@pytest.mark.parametrize(("days", "expected"), [(6, True), (8, False)])
def test_idle_needs_the_whole_number_of_days(s, days, expected):
    run(s, {"quiet": (fleet("quiet", itype="t3.medium", capacity=2), constant(0.5))})  # a week of history
    assert (len(found(s, "idle", idle_days=days)) == 1) is expected


def test_stopped_instance_still_billed_for_storage_is_found_and_terminated(s, monkeypatch):
    bastion = s.create_instance(cdb.InstanceConfig(name="bastion", instance_type="t3.micro", provider="local", region="local"))
    s.local.advance("1min")
    s.stop_instance(bastion.id)
    s.local.advance("9D")
    provider = s.manager.providers["local"]
    real = provider.costs

    async def with_storage(start, end):  # a cloud that bills a stopped instance's disk: a row with no running time
        disk = (provider.name, "instance", bastion.id, "", "t3.micro", "local", False, 0.0, 0, 1.2, "billed")
        return frames.concat(frames.COSTS, [await real(start, end), frames.frame(frames.COSTS, [disk])])

    assert found(s, "idle").empty  # the local cloud bills nothing for a stopped instance
    monkeypatch.setattr(provider, "costs", with_storage)
    df = found(s, "idle")
    row = df.iloc[0]
    assert row["resource"] == bastion.id and row["details"]["storage_cost_usd"] == pytest.approx(1.2)
    assert row["monthly_savings_usd"] == pytest.approx(1.2 / (7 * 24) * 730, rel=1e-3)
    assert row["action"] == f"s.terminate_instance('{bastion.id}', provider='local')"
    s.apply(row["recommendation"])
    assert s.instance(bastion.id).state in (cdb.InstanceState.TERMINATING, cdb.InstanceState.TERMINATED)


# -- spot ---------------------------------------------------------------------------------------------
def test_spot_only_for_fleets_tagged_interruption_tolerant(s):
    run(
        s,
        {
            "workers": (fleet("workers", itype="m5.large", capacity=2, tags={"interruptible": "true"}), constant(50.0)),
            "db": (fleet("db", itype="m5.large", capacity=2), constant(50.0)),
        },
    )
    df = found(s, "spot")
    assert df["resource"].tolist() == ["workers"]
    it = catalog.lookup("m5.large")
    ev = df.iloc[0]["details"]
    assert ev["spot_hourly_usd"] == it.spot_usd and ev["on_demand_hourly_usd"] == it.on_demand_usd
    assert df.iloc[0]["monthly_savings_usd"] == pytest.approx((it.on_demand_usd - it.spot_usd) * 2 * 730, rel=1e-3)
    assert "reclaimed" in df.iloc[0]["evidence"] and df.iloc[0]["risk"] == "high"


def test_spot_savings_threshold(s):
    run(s, {"workers": (fleet("workers", itype="m5.large", capacity=2, tags={"stateless": "yes"}), constant(50.0))})
    percent = found(s, "spot").iloc[0]["details"]["savings_percent"]
    assert len(found(s, "spot", spot_min_savings_percent=percent - 0.1)) == 1
    assert found(s, "spot", spot_min_savings_percent=percent + 0.1).empty


def test_spot_apply_moves_the_fleet_to_spot(s):
    run(s, {"workers": (fleet("workers", itype="m5.large", capacity=2, tags={"interruptible": "1"}), constant(50.0))})
    rec = found(s, "spot").iloc[0]
    s.apply(rec)
    assert s.fleet("workers").spot


# -- schedule -----------------------------------------------------------------------------------------
def day_night(day: float, night: float, weekend: float | None = None, days: float = 7) -> pd.Series:
    index = pd.date_range(START, periods=int(days * 24 * 12), freq="5min")
    value = np.where((index.hour >= 8) & (index.hour < 20), day, night)
    if weekend is not None:
        value = np.where(index.day_of_week >= 5, weekend, value)
    return pd.Series(value, index=index)


def test_schedule_finds_the_nights_and_weekend_with_crons_and_savings(s):
    run(s, {"office": (fleet("office", itype="t3.large", capacity=4), day_night(60.0, 3.0, weekend=3.0))})
    row = found(s, "schedule").iloc[0]
    ev = row["details"]
    assert ev["night_hours"] == "20:00-08:00" and ev["weekend_off"] and ev["off_hours_per_week"] == 12 * 5 + 48
    assert ev["off_capacity"] == 1 and ev["on_capacity"] == 4  # 3 % of 4 = 0.12 instances, at 70 %: one
    assert row["monthly_savings_usd"] == pytest.approx(3 * 108 * 0.0832 * 730 / 168, rel=1e-3)
    assert row["action"] == (
        "s.schedule_capacity('office', cron='0 20 * * MON-FRI', capacity=1, timezone='UTC', name='off-hours-2000', "
        "provider='local'); s.schedule_capacity('office', cron='0 8 * * MON-FRI', capacity=4, timezone='UTC', "
        "name='on-hours-0800', provider='local')"
    )


@pytest.mark.parametrize(("fraction", "expected"), [(0.2, True), (0.18, False)])
def test_schedule_off_fraction(s, fraction, expected):
    run(s, {"office": (fleet("office", itype="t3.large", capacity=4), day_night(60.0, 11.4))})  # nights at 19 % of the peak
    assert (len(found(s, "schedule", schedule_off_fraction=fraction)) == 1) is expected


@pytest.mark.parametrize(("hours", "expected"), [(12, True), (13, False)])
def test_schedule_min_off_hours(s, hours, expected):
    run(s, {"office": (fleet("office", itype="t3.large", capacity=4), day_night(60.0, 3.0))})  # 12-hour nights, busy weekends
    assert (len(found(s, "schedule", schedule_min_off_hours=hours)) == 1) is expected


def test_schedule_hours_follow_the_timezone(s):
    run(s, {"office": (fleet("office", itype="t3.large", capacity=4), day_night(60.0, 3.0))})
    row = found(s, "schedule", schedule_timezone="Europe/Berlin").iloc[0]  # UTC+1 in January
    assert row["details"]["night_hours"] == "21:00-09:00"
    assert "timezone='Europe/Berlin'" in row["action"] and "cron='0 21 * * *'" in row["action"]


def test_steady_load_has_no_schedule(s):
    run(s, {"api": (fleet("api", itype="m5.large", capacity=3), constant(55.0))})
    assert found(s, "schedule").empty


def test_cron_helpers():
    assert cron_days([0, 1, 2, 3, 4]) == "MON-FRI" and cron_days(range(7)) == "*" and cron_days([5, 6]) == "SAT,SUN"
    assert cron_days([0, 2]) == "MON,WED"
    off = np.zeros(24, dtype=bool)
    off[[22, 23, 0, 1, 2, 10]] = True
    assert night_run(off) == [22, 23, 0, 1, 2]
    mask = np.zeros(168, dtype=bool)
    mask[5 * 24 :] = True  # the weekend
    assert transitions(mask) == [(True, 0, [5]), (False, 0, [0])]


# -- autoscaling --------------------------------------------------------------------------------------
def test_autoscaling_is_the_tuners_policy_on_the_fleets_own_history(s):
    run(s, {"batch": (fleet("batch"), constant(12.0)), "api": (fleet("api", itype="m5.large", capacity=3), constant(55.0))})
    df = found(s, "autoscaling")
    assert df["resource"].tolist() == ["batch"]  # at 55 % of 3, a policy at 70 % still needs 3
    ev = df.iloc[0]["details"]
    assert ev["current_instance_hours"] == pytest.approx(4 * 7 * 24, rel=0.01)
    assert ev["policy_instance_hours"] < ev["current_instance_hours"] / 2 and ev["min_capacity"] == 1
    saved = ev["current_cost_usd"] - ev["policy_cost_usd"]
    assert df.iloc[0]["monthly_savings_usd"] == pytest.approx(saved / ev["hours_observed"] * 730, rel=0.01)
    assert df.iloc[0]["action"].startswith("s.configure_auto_scaling('batch', AutoScalingConfig(min_capacity=1")


def test_autoscaling_savings_threshold_and_fleets_that_already_scale(s):
    run(s, {"batch": (fleet("batch"), constant(12.0))})
    percent = found(s, "autoscaling").iloc[0]["details"]["savings_percent"]
    assert len(found(s, "autoscaling", autoscaling_min_savings_percent=percent - 0.1)) == 1
    assert found(s, "autoscaling", autoscaling_min_savings_percent=percent + 0.1).empty
    s.configure_auto_scaling("batch", cdb.AutoScalingConfig(min_capacity=1, max_capacity=4))
    assert found(s, "autoscaling").empty


# -- cross-cloud --------------------------------------------------------------------------------------
def test_cross_cloud_compares_the_equivalent_on_every_configured_cloud():
    """The GCP section cannot even list its fleets (no credentials here): its failure is reported beside the rows,
    and its catalog price still counts as an offer."""
    with cdb.connect(local=VIRTUAL, **{"gcp-west": {"kind": "gcp", "project_id": "p", "region": "us-central1"}}) as s:
        run(s, {"web": (fleet("web", itype="m5.large", capacity=2), constant(50.0))})
        with pytest.warns(UserWarning, match="gcp-west failed during list_fleets"):
            df = found(s, "cross_cloud")
        assert set(df.attrs["errors"]) == {"gcp-west"} and set(s.errors()["provider"]) == {"gcp-west"}
        row = df.iloc[0]
        eq = catalog.equivalent("m5.large", "gcp", "us-central1")
        ev = row["details"]
        assert ev["target_provider"] == "gcp-west" and ev["target_instance_type"] == eq.name == "e2-standard-2"
        assert ev["savings_percent"] == pytest.approx(100 * (0.096 - eq.on_demand_usd) / 0.096, abs=0.05)
        assert row["monthly_savings_usd"] == pytest.approx((0.096 - eq.on_demand_usd) * 2 * 730, rel=1e-3)
        assert row["action"] == (
            "s.create_migration(MigrationConfig(source_fleet='web', source_provider='local', target_provider='gcp-west', "
            "strategy='rolling', batch_size=1, target_instance_type='e2-standard-2'))"
        )
        percent = ev["savings_percent"]
        with pytest.warns(UserWarning):
            assert found(s, "cross_cloud", cross_cloud_min_savings_percent=percent + 0.1).empty
            assert len(found(s, "cross_cloud", cross_cloud_min_savings_percent=percent - 0.1)) == 1


# -- the frame ----------------------------------------------------------------------------------------
def test_no_fleets_is_an_empty_frame_with_the_columns(s):
    df = s.recommendations()
    assert list(df.columns) == list(RECOMMENDATIONS) and df.empty and df.attrs["errors"] == {}


def test_a_day_of_history_is_needed(s):
    run(s, {"batch": (fleet("batch"), constant(5.0, days=1))}, days=0.9)
    assert s.recommendations(window="7d").empty


def test_sorted_by_savings_and_ids_are_stable(s):
    run(s, {"batch": (fleet("batch"), constant(12.0)), "small": (fleet("small", capacity=1), constant(12.0))})
    df = s.recommendations(window="7d")
    assert df["monthly_savings_usd"].is_monotonic_decreasing
    assert sorted(zip(df["kind"], df["resource"])) == [("autoscaling", "batch"), ("rightsize", "batch"), ("rightsize", "small")]
    assert df["id"].tolist() == s.recommendations(window="7d")["id"].tolist() and df["id"].is_unique


def test_bad_arguments_name_the_field(s):
    with pytest.raises(cdb.ValidationError) as err:
        s.recommendations(kinds=["rightsizing"])
    assert err.value.field == "kinds"
    with pytest.raises(cdb.ValidationError) as err:
        s.recommendations(rightsize_p95=30)
    assert err.value.field == "rightsize_p95" and "rightsize_p95_below" in err.value.message
    with pytest.raises(cdb.ValidationError) as err:
        s.recommendations(window="2h")
    assert err.value.field == "window"
    assert parameters()["rightsize_p95_below"] == 40.0 and parameters()["idle_days"] == 7.0


def test_a_provider_whose_metrics_fail_is_reported_beside_the_others_rows():
    with cdb.connect(local=VIRTUAL, **{"local-b": {"kind": "local", "clock": "virtual", "seed": 8, "path": ":memory:"}}) as s:
        run(s, {"batch": (fleet("batch"), constant(12.0))})
        s.create_fleet(cdb.FleetConfig("other", capacity=2, instance_type="m5.xlarge", provider="local-b"))
        broken = s.manager.providers["local-b"]

        async def down(*args, **kw):
            raise cdb.ProviderError("metrics are down", provider="local-b", operation="utilization")

        broken.utilization = down
        with pytest.warns(UserWarning, match="local-b failed during recommendations: metrics are down"):
            df = s.recommendations(window="7d", kinds="rightsize")
        assert df["resource"].tolist() == ["batch"] and set(df.attrs["errors"]) == {"local-b"}
        assert s.errors()["provider"].tolist() == ["local-b"]


def test_a_spot_fleet_is_rightsized_at_spot_prices(s):
    run(s, {"batch": (fleet("batch", spot=True), constant(12.0))})
    ev = found(s, "rightsize").iloc[0]["details"]
    assert ev["hourly_price_usd"] == catalog.lookup("m5.xlarge").spot_usd
    assert ev["proposed_hourly_price_usd"] == catalog.lookup("m5.large").spot_usd
