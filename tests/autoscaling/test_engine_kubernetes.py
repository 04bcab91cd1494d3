"""Kubernetes HPA, as its controller's code decides: 10 % tolerance, 300 s scale-down stabilization, rate limits."""

import pytest

import clusterdb_nb as cdb
from clusterdb_nb.autoscaling import HpaBehavior, simulate

POLICY = cdb.AutoScalingConfig(min_capacity=1, max_capacity=20, target_cpu_utilization=50.0, cooldown_seconds=300)


def capacity(result):
    return result.timeline["capacity"].tolist()


@pytest.mark.parametrize("cpu", [46, 54])
def test_keeps_the_count_within_the_ten_percent_tolerance(cpu_trace, cpu):
    # 4 pods at 46 % or 54 % of a 50 % target: ratio 0.92 or 1.08, within 0.1 of 1 -> no change.
    result = simulate(cpu_trace((cpu, 10)), POLICY, provider="kubernetes", initial_capacity=4, observed_capacity=4)
    assert set(capacity(result)) == {4}


def test_scales_beyond_the_tolerance(cpu_trace):
    # 56 %: ratio 1.12 -> ceil(1.12 * 4) = ceil(4.48) = 5 pods; then 2.24 / 5 = 44.8 % -> 44 % (whole percent),
    # ratio 0.88 asks for ceil(0.88 * 5) = 5: stays.
    result = simulate(cpu_trace((56, 10)), POLICY, provider="kubernetes", initial_capacity=4, observed_capacity=4)
    assert capacity(result) == [4] + [5] * 9
    assert result.activities["reason"].iloc[0] == "Kubernetes HPA: cpu 56% vs target 50% (4 ready of 4): proposed 5"


def test_holds_scale_down_for_the_300_second_window(cpu_trace):
    # 8 pods at 50 % (4 units) recommend 8; from minute 10 at 20 % (1.6 units) they recommend
    # ceil(0.4 * 8) = 4. Without `behavior`, the controller keeps the highest recommendation not
    # older than 300 s: minute 9's 8 counts through minute 14; at minute 15 the pods go to 4.
    trace = cpu_trace((50, 10), (20, 20))
    legacy = simulate(trace, POLICY, provider="kubernetes", initial_capacity=8, observed_capacity=8)
    assert capacity(legacy)[:17] == [8] * 16 + [4]
    # With the default `behavior` the 300 s window takes recommendations strictly newer than 300 s:
    # at minute 14 minute 9's is out, so the scale-down comes a minute earlier.
    behavior = simulate(trace, POLICY, provider="kubernetes", initial_capacity=8, observed_capacity=8, behavior=HpaBehavior())
    assert capacity(behavior)[:16] == [8] * 15 + [4]


def test_scale_up_limit_without_behavior_is_twice_current_or_four(cpu_trace):
    # 1 pod at 100 % of a 10 % target asks for 10: max(2 * 1, 4) = 4 allowed; then 25 % on 4 asks for
    # ceil(2.5 * 4) = 10, max(2 * 4, 4) = 8 allowed; then 12.5 % -> 12 % on 8 asks for ceil(1.2 * 8) = 10.
    policy = cdb.AutoScalingConfig(min_capacity=1, max_capacity=20, target_cpu_utilization=10.0)
    result = simulate(cpu_trace((100, 5)), policy, provider="kubernetes", observed_capacity=1)
    assert capacity(result) == [1, 4, 8, 10, 10]


def test_scale_up_policies_of_the_default_behavior(cpu_trace):
    # Default behavior: per 15 s period the larger of +4 pods and +100 %: from 1 pod, 5; then 10.
    policy = cdb.AutoScalingConfig(min_capacity=1, max_capacity=20, target_cpu_utilization=10.0)
    result = simulate(cpu_trace((100, 5)), policy, provider="kubernetes", observed_capacity=1, behavior=HpaBehavior())
    assert capacity(result) == [1, 5, 10, 10, 10]


def test_unready_pods_count_as_idle_when_scaling_up(cpu_trace):
    # 5 pods at 85 %: ratio 1.7 -> 9 pods; the 4 new ones boot for 300 s. At 97 % on the 5 ready
    # pods the plain rule would ask for ceil(1.94 * 5) = 10, but the unready pods count as 0 %:
    # int(97 * 5 / 9) = 53 % -> ratio 1.06, within the tolerance: the HPA stays at 9.
    result = simulate(
        cpu_trace((85, 1), (97, 8)), POLICY, provider="kubernetes", initial_capacity=5, observed_capacity=5, boot_seconds=300
    )
    assert capacity(result) == [5] + [9] * 8


def test_cooldown_seconds_is_the_downscale_stabilization_window(cpu_trace):
    # The same drop as above with cooldown_seconds=60: only the last minute's recommendation holds.
    policy = cdb.AutoScalingConfig(min_capacity=1, max_capacity=20, target_cpu_utilization=50.0, cooldown_seconds=60)
    result = simulate(cpu_trace((50, 10), (20, 20)), policy, provider="kubernetes", initial_capacity=8, observed_capacity=8)
    assert capacity(result)[:13] == [8] * 12 + [4]
