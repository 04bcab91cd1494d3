"""GCE managed instance group autoscaler: scale out at once, scale in only after the 10-minute stabilization."""

import clusterdb_nb as cdb
from clusterdb_nb.autoscaling import GcpScaleInControl, simulate

POLICY = cdb.AutoScalingConfig(min_capacity=1, max_capacity=10, target_cpu_utilization=50.0, cooldown_seconds=60)


def capacity(result):
    return result.timeline["capacity"].tolist()


def test_holds_the_ten_minute_peak_before_scaling_in(cpu_trace):
    # 8 VMs at 50 % (4 units) recommend ceil(8 * 50 / 50) = 8; from minute 10, 10 % (0.8 units)
    # recommends ceil(8 * 10 / 50) = ceil(1.6) = 2. The autoscaler keeps the highest recommendation
    # of the last 10 minutes: minute 9's 8 is in the window of minutes 10-18, so the group
    # shrinks at minute 19 (window 10-19, all 2), to 2 VMs from minute 20.
    trace = cpu_trace((50, 10), (10, 30))
    result = simulate(trace, POLICY, provider="gcp", initial_capacity=8, observed_capacity=8)
    assert capacity(result)[:21] == [8] * 20 + [2]
    assert result.activities["time"].iloc[0] == trace.index[20]
    assert "highest recommendation of the last 10 minutes is 2" in result.activities["reason"].iloc[0]


def test_scales_out_at_the_first_high_recommendation(cpu_trace):
    # 4 VMs at 100 %: ceil(4 * 100 / 50) = 8 at minute 0 already, serving after the 60 s initialization.
    result = simulate(cpu_trace((100, 5)), POLICY, provider="gcp", initial_capacity=4, observed_capacity=4)
    assert capacity(result) == [4, 8, 8, 8, 8]
    assert result.timeline["serving"].tolist() == [4, 8, 8, 8, 8]


def test_scale_in_control_caps_the_drop_below_the_peak(cpu_trace):
    # As above, with at most 3 VMs below the peak recommendation of the last 20 minutes:
    # at minute 19 the peak is still 8, so 5 VMs; minute 9's 8 leaves the 20-minute window at
    # minute 29 (0.8 / 5 = 16 % recommends 2 meanwhile), and the group goes to 2.
    control = GcpScaleInControl(max_scaled_in_replicas=3, time_window_seconds="20min")
    result = simulate(
        cpu_trace((50, 10), (10, 40)), POLICY, provider="gcp", initial_capacity=8, observed_capacity=8, scale_in_control=control
    )
    assert capacity(result)[19:31] == [8] + [5] * 10 + [2]


def test_only_scale_out_mode_never_scales_in(cpu_trace):
    result = simulate(
        cpu_trace((100, 3), (10, 30)), POLICY, provider="gcp", initial_capacity=4, observed_capacity=4, mode="ONLY_SCALE_OUT"
    )
    assert capacity(result)[-1] == 8 and result.summary.scaling_actions == 1


def test_off_mode_does_nothing(cpu_trace):
    result = simulate(cpu_trace((100, 3), (10, 30)), POLICY, provider="gcp", initial_capacity=4, observed_capacity=4, mode="OFF")
    assert set(capacity(result)) == {4}
