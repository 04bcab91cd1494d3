"""Live policies on the local cloud: the simulator's engine decides as the clock advances."""

import numpy as np
import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb import frames
from clusterdb_nb.autoscaling import simulate
from clusterdb_nb.providers.local.clock import WallClock

POLICY = cdb.AutoScalingConfig(min_capacity=1, max_capacity=10, target_cpu_utilization=50.0, cooldown_seconds=60)
CPU = [40] * 10 + [90] * 20 + [15] * 40 + [70] * 15 + [30] * 30  # % on the fleet's 4 instances, one value a minute


def session(path=":memory:", **local):
    return cdb.connect(local={"clock": "virtual", "seed": 7, "path": path, **local})


def start(s, cpu=CPU, policy=POLICY):
    """A 4-instance fleet, booted, with ``policy`` attached and ``cpu`` as its load from the next minute."""
    s.create_fleet(cdb.FleetConfig("web", capacity=4, instance_type="t3.medium"))
    s.local.advance("1min")
    configured = s.local.now
    s.configure_auto_scaling("web", policy)
    s.local.attach_trace(
        "web", pd.Series([cpu[0], *cpu], dtype=float, index=pd.date_range("2014-01-01", periods=len(cpu) + 1, freq="1min"))
    )
    return configured


def autoscaled(s):
    acts = s.scaling_activities("web")
    return acts[acts["reason"].str.startswith("autoscaler")].reset_index(drop=True)


def test_live_decisions_are_the_simulators(cpu_trace):
    s = session()
    configured = start(s)
    s.local.advance(f"{len(CPU)}min")
    live = autoscaled(s)
    trace = pd.Series(np.array(CPU, dtype=float), index=pd.date_range("2014-01-01", periods=len(CPU), freq="1min"))
    simulated = simulate(trace, POLICY, initial_capacity=4, observed_capacity=4).activities
    assert len(live) >= 3
    assert (live["time"] - configured).tolist() == (simulated["time"] - trace.index[0].tz_localize("UTC")).tolist()
    assert live[["from_capacity", "to_capacity"]].values.tolist() == simulated[["from_capacity", "to_capacity"]].values.tolist()
    assert [r.removeprefix("autoscaler (") for r in live["reason"]] == [r.replace(": ", "): ", 1) for r in simulated["reason"]]
    assert s.fleet("web").capacity == live["to_capacity"].iloc[-1]
    s.close()


def test_scaling_activities_frame_and_the_first_scale_out():
    s = session()
    configured = start(s)
    s.local.advance("15min")
    acts = s.scaling_activities("web")
    assert list(acts.columns) == list(frames.SCALING_ACTIVITIES) and (acts["provider"] == "local").all()
    # 90 % on 4 instances from minute 10 of the load (evaluations at minutes 11, 12, 13 after configuring):
    # ceil(4 * 90 / 50) = 8 at the third high datapoint.
    first = autoscaled(s).iloc[0]
    assert (first["time"] - configured, first["from_capacity"], first["to_capacity"]) == (pd.Timedelta("13min"), 4, 8)
    assert first["reason"] == "autoscaler (AWS target tracking): cpu 90.0% > target 50% for 3 datapoints"
    s.local.advance("1min")
    assert s.fleet("web").running == 8  # launched at the decision, booted 40 s later
    s.close()


def test_a_fleet_without_policy_is_left_alone():
    s = session()
    s.create_fleet(cdb.FleetConfig("web", capacity=4))
    s.local.attach_trace("web", pd.Series([100.0], index=pd.to_datetime(["2014-01-01"])))
    s.local.advance("2h")
    assert s.scaling_activities("web")["reason"].tolist() == ["create_fleet"]
    s.close()


def test_the_config_chooses_the_cloud():
    s = session(autoscaler="kubernetes")
    start(s)
    s.local.advance("20min")
    assert autoscaled(s)["reason"].str.startswith("autoscaler (Kubernetes HPA)").all() and len(autoscaled(s))
    s.close()
    with pytest.raises(cdb.ValidationError):
        session(autoscaler="openstack")


def test_wall_clock_catches_up_at_the_next_operation(tmp_path, monkeypatch):
    now = [pd.Timestamp("2026-03-02T10:00:30Z").timestamp()]
    monkeypatch.setattr(WallClock, "now", lambda self, db=None: now[0])
    with cdb.connect(local={"path": str(tmp_path / "wall.db")}) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=2))
        now[0] += 60
        s.configure_auto_scaling("web", POLICY)
        s.local.attach_trace("web", pd.Series([100.0], index=pd.to_datetime(["2014-01-01"])))
        now[0] += 10 * 60  # ten minutes pass; nobody looks
        acts = autoscaled(s)
        # Evaluated on whole minutes from 10:02: 100 % on 2 for 3 datapoints -> ceil(2 * 100 / 50) = 4 at 10:04.
        assert acts["time"].iloc[0] == pd.Timestamp("2026-03-02T10:04:00Z") and acts["to_capacity"].iloc[0] == 4


@pytest.mark.parametrize("kind", ["aws", "gcp", "azure", "kubernetes"])
def test_engine_memory_survives_reopening(tmp_path, kind):
    def run(path, chunks):
        with session(str(path), autoscaler=kind) as s:
            start(s)
        for minutes in chunks:
            with session(str(path), autoscaler=kind) as s:
                s.local.advance(f"{minutes}min")
        with session(str(path), autoscaler=kind) as s:
            return autoscaled(s)[["time", "from_capacity", "to_capacity", "reason"]]

    # The alarms, windows, launches and the initial recommendation are mid-way when a session closes;
    # they carry on after it (engine state in the state file).
    once = run(tmp_path / "once.db", [len(CPU)])
    assert len(once) >= 2
    pd.testing.assert_frame_equal(once, run(tmp_path / "split.db", [3, 77, len(CPU) - 80]))


def test_reconfiguring_and_deleting(tmp_path):
    s = session()
    start(s)
    s.local.advance("12min")  # two high datapoints counted
    s.configure_auto_scaling("web", POLICY)  # a fresh policy: fresh alarm counters
    s.local.advance("2min")
    assert autoscaled(s).empty
    s.delete_fleet("web")
    s.local.advance("10min")
    assert s.fleets().empty
    s.close()


def count_decisions(monkeypatch):
    """Count the AWS engine's evaluations (one decide call each)."""
    from clusterdb_nb.autoscaling.engines.aws import AwsTargetTracking

    calls, original = [0], AwsTargetTracking.decide

    def counted(self, *args):
        calls[0] += 1
        return original(self, *args)

    monkeypatch.setattr(AwsTargetTracking, "decide", counted)
    return calls


def test_a_ten_year_advance_after_a_replayed_trace_stops_evaluating(monkeypatch):
    """Issue 9: ``advance("3650d")`` with autoscaling on never returned (one evaluation per minute, each
    with its queries). Once the trace has ended, nothing is pending and the policy has been quiet for an
    hour, the remaining minutes decide nothing and are skipped: the decisions are those of the trace."""
    calls = count_decisions(monkeypatch)
    s = session()
    start(s)
    s.local.advance(f"{len(CPU) + 120}min")
    expected, evaluated = autoscaled(s), calls[0]
    s.close()

    calls[0] = 0
    s = session()
    start(s)
    s.local.advance("3650d")
    pd.testing.assert_frame_equal(autoscaled(s), expected)
    assert calls[0] <= evaluated  # not 5,256,000
    s.local.advance("1d")  # memory saved at the end of the jump: still nothing to do
    pd.testing.assert_frame_equal(autoscaled(s), expected)
    s.close()


def test_a_ten_year_advance_under_a_moving_load_is_bounded(monkeypatch):
    """Issue 9: under the daily load the catch-up evaluates at most 31 days at each end of the span
    and says so, instead of holding the write lock for hours."""
    calls = count_decisions(monkeypatch)
    s = session()
    s.create_fleet(cdb.FleetConfig("web", capacity=4, instance_type="t3.medium"))
    s.configure_auto_scaling("web", POLICY)
    with pytest.warns(UserWarning, match="days of minutes were not evaluated"):
        s.local.advance("3650d")
    assert calls[0] <= 2 * 32 * 1440
    acts = autoscaled(s)
    assert len(acts) > 10 and acts["time"].iloc[-1] > s.local.now - pd.Timedelta("31D")
    s.close()


@pytest.mark.parametrize("kind", ["aws", "gcp", "azure", "kubernetes"])
def test_live_and_simulated_boot_alike(kind):
    """Issue 11 (1): the local cloud's ``boot_seconds`` is the live autoscaler's boot time, and
    ``simulate(boot_seconds=...)`` models the same: at 150 s both make the same decisions."""
    s = session(boot_seconds=150, autoscaler=kind)
    configured = start(s)
    s.local.advance(f"{len(CPU)}min")
    live = autoscaled(s)
    trace = pd.Series(np.array(CPU, dtype=float), index=pd.date_range("2014-01-01", periods=len(CPU), freq="1min"))
    simulated = simulate(trace, POLICY, provider=kind, initial_capacity=4, observed_capacity=4, boot_seconds=150).activities
    assert len(live) >= 2
    assert (live["time"] - configured).tolist() == (simulated["time"] - trace.index[0].tz_localize("UTC")).tolist()
    assert live[["from_capacity", "to_capacity"]].values.tolist() == simulated[["from_capacity", "to_capacity"]].values.tolist()
    s.close()
