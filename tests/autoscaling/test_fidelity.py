"""Issue 11's fidelity fixes, each with its worked numbers and the source it follows.

1. Boot time (``boot_seconds``) is apart from each cloud's own knob (cooldown, warmup, ...).
2. Kubernetes, GCE and Azure start with windows as full as their history.
4. A trace runs at its own sampling period; AWS's datapoints are metric periods.
(3, Azure's per-action cooldown, is in test_engine_azure.py.)
"""

import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb.autoscaling import HpaBehavior, example_trace, simulate, tune

PROVIDERS = ["aws", "gcp", "azure", "kubernetes"]


def capacity(result):
    return result.timeline["capacity"].tolist()


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("cooldown", [0, 60, 300, 900])
def test_new_instances_serve_after_boot_seconds_whatever_the_cooldown(cpu_trace, provider, cooldown):
    """Issue 11 (1): AWS and GCE used ``cooldown_seconds`` as the boot time (warmup / initialization
    period) and Azure and Kubernetes a fixed 60 s, so a shorter cooldown booted instances faster.
    Sources: EC2 Auto Scaling "Instance warmup" (warmup only keeps an instance out of the metric),
    GCE ``AutoscalingPolicy.coolDownPeriodSec`` (ignores a VM's metric while it initializes).

    4 instances at 100 % scale out at some minute m; the new ones serve at m + ceil(boot / 60 s),
    for every cloud and cooldown."""
    policy = cdb.AutoScalingConfig(min_capacity=1, max_capacity=20, target_cpu_utilization=50.0, cooldown_seconds=cooldown)
    for boot, delay in [(30, 1), (60, 1), (150, 3), (600, 10)]:
        result = simulate(
            cpu_trace((100, 40)), policy, provider=provider, initial_capacity=4, observed_capacity=4, boot_seconds=boot
        )
        t = result.timeline
        first = int((t["capacity"] > 4).idxmax()) - 1  # the step of the first scale-out decision
        assert t["serving"].iloc[first + delay] > 4 and (t["serving"].iloc[: first + delay] == 4).all()
        assert result.boot_seconds == boot


def test_boot_seconds_default_is_the_same_for_every_cloud(cpu_trace):
    policy = cdb.AutoScalingConfig(min_capacity=1, max_capacity=20, target_cpu_utilization=50.0, cooldown_seconds=900)
    for provider in PROVIDERS:
        assert simulate(cpu_trace((100, 5)), policy, provider=provider, initial_capacity=4).boot_seconds == 60


def test_a_warmup_shorter_than_the_boot_sees_booting_instances_at_zero(cpu_trace):
    """Source: EC2 Auto Scaling "Instance warmup": after its warmup an instance counts in the metric.
    4 instances at 100 % (target 50 %) decide 8 at minute 2. With a 60 s warmup and a 600 s boot the 4
    new ones count from minute 3 at 0 %: the average is (4 * 100 + 4 * 0) / 8 = 50 %, not above the
    target, so AWS does not add more while they boot (with the warmup as long as the boot it would not
    count them either)."""
    policy = cdb.AutoScalingConfig(min_capacity=1, max_capacity=30, target_cpu_utilization=50.0, cooldown_seconds=600)
    short = simulate(cpu_trace((100, 12)), policy, initial_capacity=4, observed_capacity=4, boot_seconds=600, instance_warmup=60)
    assert capacity(short) == [4, 4, 4] + [8] * 9
    long = simulate(cpu_trace((100, 12)), policy, initial_capacity=4, observed_capacity=4, boot_seconds=600)
    assert capacity(long) == [4, 4, 4] + [8] * 9


def test_tune_no_longer_buys_fast_boots_with_a_short_cooldown():
    """Issue 11 (1): with boot tied to the cooldown, ``tune`` recommended cooldown 0 on every cloud.
    Now a 0 s cooldown boots as slowly as a 900 s one, and on a real trace at least one cloud's
    recommendation takes a cooldown above 0."""
    picks = [
        tune(
            example_trace(),
            targets=[50, 70],
            cooldowns=[0, 300, 900],
            min_capacity=1,
            max_capacity=12,
            provider=p,
            observed_capacity=6,
            price_per_hour=0.1,
        ).recommended.cooldown_seconds
        for p in PROVIDERS
    ]
    assert max(picks) > 0


def test_kubernetes_holds_its_replicas_for_the_stabilization_window_at_the_start(cpu_trace):
    """Issue 11 (2). Source: kubernetes/kubernetes pkg/controller/podautoscaler/horizontal.go,
    ``recordInitialRecommendation``: the first sync records the current replica count. 4 pods at
    20 % (target 50 %) propose 2, but the window holds 4 for 300 s: [4] * 7 + [2] * 3 without
    ``behavior`` (the window includes its edge), [4] * 6 + [2] * 4 with it (it does not)."""
    policy = cdb.AutoScalingConfig(min_capacity=1, max_capacity=10, target_cpu_utilization=50.0, cooldown_seconds=300)
    trace = cpu_trace((20, 10))
    legacy = simulate(trace, policy, provider="kubernetes", initial_capacity=4, observed_capacity=4)
    assert capacity(legacy) == [4] * 7 + [2] * 3
    behaved = simulate(trace, policy, provider="kubernetes", initial_capacity=4, observed_capacity=4, behavior=HpaBehavior())
    assert capacity(behaved) == [4] * 6 + [2] * 4


def test_gce_stabilization_holds_the_initial_size(cpu_trace):
    """Issue 11 (2). Source: GCE "Understanding autoscaler decisions" (stabilization: the highest
    recommendation of the last 10 minutes before scaling in). The group's size is its history at
    the start: 4 VMs at 20 % (target 50 %) recommend 2, but 4 is held for 10 minutes (was [4, 2, ...])."""
    policy = cdb.AutoScalingConfig(min_capacity=1, max_capacity=10, target_cpu_utilization=50.0, cooldown_seconds=60)
    result = simulate(cpu_trace((20, 14)), policy, provider="gcp", initial_capacity=4, observed_capacity=4)
    assert capacity(result) == [4] * 11 + [2] * 3


def five_minute_trace():
    """One 80 % five-minute sample among 30 % ones."""
    values = [30.0] * 10 + [80.0] + [30.0] * 10
    return pd.Series(values, index=pd.date_range("2014-01-01", periods=len(values), freq="5min"))


def test_one_five_minute_sample_no_longer_fires_a_three_datapoint_alarm():
    """Issue 11 (4). Source: EC2 Auto Scaling target tracking (the high alarm: 3 of 3 datapoints) and
    CloudWatch basic monitoring (5-minute datapoints). Held over five one-minute steps one 80 %
    sample made 3 datapoints on its own: 3 actions at ``step="1min"``, 0 at ``step="5min"``. The step
    now defaults to the trace's period, and at a finer step the alarm still needs 3 periods (15 steps)."""
    policy = cdb.AutoScalingConfig(min_capacity=1, max_capacity=10, target_cpu_utilization=50.0, cooldown_seconds=300)
    trace = five_minute_trace()
    default = simulate(trace, policy, initial_capacity=2, observed_capacity=2)
    assert default.step_seconds == 300 and default.summary.scaling_actions == 0
    fine = simulate(trace, policy, initial_capacity=2, observed_capacity=2, step="1min")
    assert fine.step_seconds == 60 and fine.summary.scaling_actions == 0
    # With one-minute datapoints declared (detailed monitoring) the old reading comes back: the sample
    # fires a scale-out (and, 15 low minutes later, the scale-in back).
    old = simulate(trace, policy, initial_capacity=2, observed_capacity=2, step="1min", metric_period=60)
    assert old.summary.scaling_actions == 2
    # Three 80 % samples in a row (15 minutes) do fire.
    three = pd.Series([30.0] * 5 + [80.0] * 3 + [30.0] * 5, index=pd.date_range("2014-01-01", periods=13, freq="5min"))
    assert simulate(three, policy, initial_capacity=2, observed_capacity=2, step="1min").summary.scaling_actions >= 1


def test_real_rds_like_traces_take_far_fewer_actions_at_their_own_step():
    """Issue 11 (4) on a shipped real trace: the default (5-minute) step takes fewer AWS actions than
    the old 1-minute default with one-minute datapoints."""
    policy = cdb.AutoScalingConfig(min_capacity=1, max_capacity=12, target_cpu_utilization=50.0, cooldown_seconds=300)
    path = example_trace("ec2_cpu_utilization_825cc2")
    old = simulate(path, policy, observed_capacity=4, step="1min", metric_period=60).summary.scaling_actions
    new = simulate(path, policy, observed_capacity=4).summary.scaling_actions
    assert new < old


def test_boot_seconds_is_checked():
    policy = cdb.AutoScalingConfig()
    for bad in (-1, 1.5, "soon", True, 10**9):
        with pytest.raises(cdb.ValidationError) as err:
            simulate(five_minute_trace(), policy, boot_seconds=bad)
        assert err.value.field == "boot_seconds"
    assert simulate(five_minute_trace(), policy, boot_seconds="2min").boot_seconds == 120
