"""The local cloud: lifecycle, state machine, utilization and costs under the virtual clock."""

import numpy as np
import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb.frames import INSTANCES, UTILIZATION

T0 = pd.Timestamp("2026-01-05T00:00:00Z")


def test_new_fleet_boots_pending_then_running(s):
    fleet = s.create_fleet(cdb.FleetConfig("web-fleet").with_capacity(5).with_instance_type("t3.medium"))
    assert (fleet.capacity, fleet.running) == (5, 0)
    assert set(s.instances()["state"]) == {"pending"}
    s.local.advance("39s")
    assert set(s.instances()["state"]) == {"pending"}
    s.local.advance("1s")  # boot takes 40 s on the local clock
    assert set(s.instances()["state"]) == {"running"}
    assert s.fleet("web-fleet").running == 5


def test_instances_frame_has_stable_columns_and_dtypes(web):
    df = web.instances()
    assert list(df.columns) == list(INSTANCES)
    assert str(df["launched_at"].dtype).startswith("datetime64") and str(df["launched_at"].dt.tz) == "UTC"
    assert df["hourly_cost_usd"].dtype == np.float64 and df["spot"].dtype == bool
    empty = web.instances(state="stopped")
    assert list(empty.columns) == list(INSTANCES) and len(empty) == 0
    assert (empty.dtypes == df.dtypes).all()


def test_stop_start_terminate_follow_the_state_machine(web):
    iid = web.instances()["id"].iloc[0]
    assert web.stop_instance(iid).state is cdb.InstanceState.STOPPING
    with pytest.raises(cdb.ConflictError, match="while it is stopping"):
        web.start_instance(iid)
    web.local.advance("20s")
    assert web.instance(iid).state is cdb.InstanceState.STOPPED
    assert web.stop_instance(iid).state is cdb.InstanceState.STOPPED  # idempotent, like EC2
    assert web.start_instance(iid).state is cdb.InstanceState.PENDING
    web.local.advance("40s")
    assert web.instance(iid).state is cdb.InstanceState.RUNNING
    assert web.terminate_instance(iid).state is cdb.InstanceState.TERMINATING
    web.local.advance("15s")
    assert web.instance(iid).state is cdb.InstanceState.TERMINATED
    with pytest.raises(cdb.ConflictError):
        web.start_instance(iid)
    states = web.local.history().query("instance_id == @iid")["state"].tolist()
    assert states == ["pending", "running", "stopping", "stopped", "pending", "running", "terminating", "terminated"]


def test_terminated_fleet_member_is_replaced_to_keep_capacity(web):
    iid = web.instances()["id"].iloc[0]
    web.terminate_instance(iid)
    web.local.advance("15s")
    live = web.instances()
    assert len(live) == 5 and iid not in set(live["id"])
    assert (live["state"] == "pending").sum() == 1
    assert len(web.instances(state="all")) == 6


def test_scale_in_terminates_stopped_members_first_then_newest(web):
    first = web.instances()["id"].tolist()
    web.stop_instance(first[2])
    web.update_fleet_capacity("web-fleet", 8)
    newest = web.instances(state="pending")["id"].tolist()
    web.update_fleet_capacity("web-fleet", 4)
    gone = set(web.instances(state=["terminating"])["id"])
    assert first[2] in gone and set(newest) <= gone and len(gone) == 4


def test_capacity_outside_bounds_is_rejected_before_anything_changes(s):
    s.create_fleet(cdb.FleetConfig("web-fleet", capacity=2, min_capacity=1, max_capacity=4))
    with pytest.raises(cdb.ValidationError, match=r"outside .* bounds \[1, 4\]") as err:
        s.update_fleet_capacity("web-fleet", 5)
    assert err.value.field == "capacity"
    assert s.fleet("web-fleet").capacity == 2 and len(s.instances()) == 2


def test_unknown_instance_type_lists_nearest_names(s):
    with pytest.raises(cdb.ValidationError, match="t3.medium") as err:
        s.create_fleet(cdb.FleetConfig("web-fleet").with_instance_type("t3.mediun"))
    assert err.value.field == "instance_type"
    assert len(s.fleets()) == 0


def test_types_of_every_cloud_are_accepted(s):
    for name, itype in [("a", "m5.large"), ("g", "e2-standard-2"), ("z", "Standard_D2s_v3")]:
        s.create_fleet(cdb.FleetConfig(name, capacity=1, instance_type=itype))
    assert sorted(s.fleets()["instance_type"]) == ["Standard_D2s_v3", "e2-standard-2", "m5.large"]


def test_duplicate_fleet_is_a_conflict(web):
    with pytest.raises(cdb.ConflictError, match="already exists"):
        web.create_fleet(cdb.FleetConfig("web-fleet", capacity=1))


def test_delete_fleet_terminates_members(web):
    web.delete_fleet("web-fleet")
    assert len(web.fleets()) == 0
    assert set(web.instances(state="all")["state"]) == {"terminating"}
    with pytest.raises(cdb.NotFoundError):
        web.fleet("web-fleet")


def test_costs_are_running_seconds_times_catalog_price(s):
    price = cdb.catalog.lookup("t3.medium").on_demand_usd
    s.create_fleet(cdb.FleetConfig("web-fleet", capacity=5, instance_type="t3.medium"))
    s.local.advance("2h")
    costs = s.costs(by="resource")
    assert (costs["running_seconds"] == 7200 - 40).all()
    assert costs["cost_usd"].sum() == pytest.approx(5 * (7200 - 40) / 3600 * price)
    by_fleet = s.costs()
    assert by_fleet.loc[0, "fleet"] == "web-fleet" and by_fleet.loc[0, "resources"] == 5
    assert by_fleet.loc[0, "cost_usd"] == pytest.approx(costs["cost_usd"].sum())
    # a window covers only the seconds inside it
    hour = s.costs(start=T0 + pd.Timedelta("1h"), end=T0 + pd.Timedelta("90min"), by="instance_type")
    assert hour.loc[0, "running_hours"] == pytest.approx(5 * 0.5)


def test_stopped_instances_cost_nothing(web):
    iid = web.instances()["id"].iloc[0]
    web.stop_instance(iid)
    web.local.advance("1h")
    per = web.costs(by="resource").set_index("resource")["running_seconds"]
    assert per[iid] == pytest.approx(20)  # the minute of boot until the stop, minus 40 s booting
    assert (per.drop(iid) == 3600 + 20).all()


def test_spot_fleet_is_priced_at_spot(s):
    item = cdb.catalog.lookup("m5.large")
    s.create_fleet(cdb.FleetConfig("batch", capacity=2, instance_type="m5.large", spot=True))
    s.local.advance("1h")
    assert s.costs().loc[0, "cost_usd"] == pytest.approx(2 * (3600 - 40) / 3600 * item.spot_usd)


def test_utilization_is_deterministic_and_follows_capacity(s):
    def run():
        session = cdb.connect(local={"clock": "virtual", "seed": 7, "path": ":memory:"})
        session.create_fleet(cdb.FleetConfig("web-fleet", capacity=4))
        session.local.advance("1h")
        session.update_fleet_capacity("web-fleet", 8)
        session.local.advance("1h")
        df = session.utilization("web-fleet")
        session.close()
        return df

    a, b = run(), run()
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == list(UTILIZATION) and len(a) == 24
    assert a["cpu_percent"].between(0, 100).all()
    first, second = a.iloc[1:12], a.iloc[13:]
    assert (first["running"] == 4).all() and (second["running"] == 8).all()
    # the same demand over twice the instances: about half the CPU
    assert second["cpu_percent"].mean() < 0.6 * first["cpu_percent"].mean()


def test_utilization_follows_the_daily_cycle(s):
    s.create_fleet(cdb.FleetConfig("web-fleet", capacity=4))
    s.local.advance("1d")
    hourly = s.utilization("web-fleet", period="1h").set_index("time")["cpu_percent"]
    assert hourly.idxmax().hour in range(13, 18) and hourly.idxmin().hour in range(1, 6)


def test_utilization_per_instance(web):
    web.local.advance("30min")
    df = web.utilization("web-fleet", by="instance", period="10min")
    assert set(df["instance_id"]) == set(web.instances()["id"])
    fleet = web.utilization("web-fleet", period="10min").set_index("time")["cpu_percent"]
    mean = df.groupby("time")["cpu_percent"].mean()
    assert (abs(mean - fleet.loc[mean.index]) < 10).all()


def test_attached_trace_drives_the_load(s):
    s.create_fleet(cdb.FleetConfig("web-fleet", capacity=2))
    trace = pd.Series([20.0, 80.0], index=pd.to_datetime(["2014-02-14 00:00", "2014-02-14 00:30"]))
    s.local.attach_trace("web-fleet", trace)
    s.local.advance("1h")
    df = s.utilization("web-fleet", period="30min")
    assert df["cpu_percent"].round(6).tolist() == [20.0, 80.0]
    with pytest.raises(cdb.ValidationError, match=r"\[0, 100\]"):
        s.local.attach_trace("web-fleet", pd.Series([120.0], index=pd.to_datetime(["2014-02-14"])))


def test_advance_needs_the_virtual_clock(tmp_path):
    with cdb.connect(local={"path": str(tmp_path / "w.db")}) as wall:
        with pytest.raises(cdb.ConflictError, match="virtual clock"):
            wall.local.advance("1h")


def test_state_survives_reopening_the_file(tmp_path):
    cfg = {"clock": "virtual", "seed": 3, "path": str(tmp_path / "state.db")}
    with cdb.connect(local=cfg) as s:
        s.create_fleet(cdb.FleetConfig("web-fleet", capacity=3))
        s.local.advance("10min")
        ids = sorted(s.instances()["id"])
    with cdb.connect(local=cfg) as again:
        assert again.local.now == T0 + pd.Timedelta("10min")
        assert sorted(again.instances()["id"]) == ids
        assert set(again.instances()["state"]) == {"running"}
