"""Azure autoscale: scale in only when every scale-in rule agrees; each action waits its own cooldown."""

import clusterdb_nb as cdb
from clusterdb_nb.autoscaling import AzureRule, simulate

POLICY = cdb.AutoScalingConfig(min_capacity=1, max_capacity=10, target_cpu_utilization=70.0, cooldown_seconds=300)
OUT = AzureRule(direction="Increase", operator="GreaterThan", threshold=70, time_window="PT5M", value=2, cooldown="PT5M")
IN_AVERAGE = AzureRule(direction="Decrease", operator="LessThan", threshold=30, time_window="PT5M", value=1, cooldown="PT5M")
IN_MAXIMUM = AzureRule(direction="Decrease", operator="LessThan", threshold=40, time_window="PT5M", time_aggregation="Maximum")


def capacity(result):
    return result.timeline["capacity"].tolist()


def test_scale_in_waits_until_all_scale_in_rules_agree(cpu_trace):
    # 4 VMs at 50 % for 10 minutes, then 20 %. Over 5-minute windows: the average is
    # (50 + 4 * 20) / 5 = 26 % < 30 % at minute 13, but the maximum is still 50 % there;
    # at minute 14 the window holds only 20 %: both rules fire, one VM goes, 3 from minute 15.
    trace = cpu_trace((50, 10), (20, 20))
    both = simulate(trace, POLICY, provider="azure", initial_capacity=4, observed_capacity=4, rules=[OUT, IN_AVERAGE, IN_MAXIMUM])
    assert capacity(both)[13:16] == [4, 4, 3]
    assert both.activities["reason"].iloc[0] == "Azure autoscale rules: all 2 scale-in rule(s) met"
    # With the average rule alone the scale-in comes a minute earlier.
    alone = simulate(trace, POLICY, provider="azure", initial_capacity=4, observed_capacity=4, rules=[OUT, IN_AVERAGE])
    assert capacity(alone)[13:15] == [4, 3]


def test_each_action_waits_its_own_cooldown_since_the_last_action(cpu_trace):
    """Issue 11 (3). Source: Azure Monitor REST API, ``ScaleAction.cooldown``: "the amount of time to wait
    since the last scaling action before this action occurs".

    Scale-out ``> 70`` (5-minute average, +1, PT1M), scale-in ``< 50`` (5-minute average, -1, PT10M);
    2 VMs at 80 % for a minute, then 10 %. The scale-out at minute 0 gives 3 VMs; from minute 1 the
    average is below 50 %, but the scale-in waits its own 10 minutes since that action: 3 VMs are
    held until minute 10, 2 from minute 11. (Reading the last action's rule's timer instead, the
    scale-out's 1 minute, gave [2, 3, 2, 2, ...].)
    """
    out = AzureRule(direction="Increase", operator="GreaterThan", threshold=70, time_window="PT5M", value=1, cooldown="PT1M")
    scale_in = AzureRule(direction="Decrease", operator="LessThan", threshold=50, time_window="PT5M", value=1, cooldown="PT10M")
    result = simulate(
        cpu_trace((80, 1), (10, 14)), POLICY, provider="azure", initial_capacity=2, observed_capacity=2, rules=[out, scale_in]
    )
    assert capacity(result)[:13] == [2] + [3] * 10 + [2, 2]


def test_a_scale_out_waits_its_own_cooldown_after_a_scale_in(cpu_trace):
    # The scale-in at minute 14 is the last action. Demand then jumps to 4 units (100 % of 4 VMs) at
    # minute 15: the 5-minute average is (4 * 20 + 100) / 5 = 36 % at 15, 52 % at 16, 68 % at 17 and
    # (20 + 4 * 100) / 5 = 84 % > 70 % at 18. The scale-out (+2) waits its own PT5M since minute 14:
    # it happens at minute 19, 5 VMs from minute 20.
    trace = cpu_trace((50, 10), (20, 5), (100, 15))
    result = simulate(
        trace, POLICY, provider="azure", initial_capacity=4, observed_capacity=4, rules=[OUT, IN_AVERAGE, IN_MAXIMUM]
    )
    assert capacity(result)[14:21] == [4, 3, 3, 3, 3, 3, 5]
    # With a one-minute cooldown on the scale-out rule it comes at minute 18, whatever the scale-in rules' cooldown.
    quick = [OUT.model_copy(update={"cooldown": 60}), IN_AVERAGE, IN_MAXIMUM]
    result = simulate(trace, POLICY, provider="azure", initial_capacity=4, observed_capacity=4, rules=quick)
    assert capacity(result)[14:20] == [4, 3, 3, 3, 3, 5]


def test_flapping_guard_takes_a_smaller_step_or_none(cpu_trace):
    # 3 VMs at 40 %; the scale-in rule (< 45 %) asks for -2 once its 5-minute window is full (minute 4).
    # On 1 VM that would be 120 % > 70 %: it would flap, so autoscale tries 2 VMs: 40 * 3 / 2 = 60 % <= 70 %.
    down_two = AzureRule(direction="Decrease", operator="LessThan", threshold=45, time_window="PT5M", value=2)
    result = simulate(
        cpu_trace((40, 10)), POLICY, provider="azure", initial_capacity=3, observed_capacity=3, rules=[OUT, down_two]
    )
    assert capacity(result)[:6] == [3] * 5 + [2]
    assert result.activities["reason"].iloc[0].endswith("(flapping guard: 2 instead of 1)")
    # On 2 VMs at 40 % even one VM less would be 80 %: no scale-in at all.
    result = simulate(
        cpu_trace((40, 10)), POLICY, provider="azure", initial_capacity=2, observed_capacity=2, rules=[OUT, down_two]
    )
    assert set(capacity(result)) == {2}


def test_highest_scale_out_wins(cpu_trace):
    plus_one = AzureRule(direction="Increase", operator="GreaterThan", threshold=60, time_window="PT5M", value=1)
    to_nine = AzureRule(
        direction="Increase", operator="GreaterThan", threshold=80, time_window="PT5M", type="ExactCount", value=9
    )
    result = simulate(
        cpu_trace((90, 3)), POLICY, provider="azure", initial_capacity=2, observed_capacity=2, rules=[plus_one, to_nine]
    )
    assert capacity(result)[:2] == [2, 9]


def test_unreadable_metrics_go_to_the_default_count_and_never_in(cpu_trace):
    # No VM, no CPU metric: autoscale sets the profile's default capacity.
    policy = cdb.AutoScalingConfig(min_capacity=0, max_capacity=10, target_cpu_utilization=70.0, cooldown_seconds=300)
    result = simulate(cpu_trace((0, 5)), policy, provider="azure", initial_capacity=0, default_capacity=2)
    assert capacity(result)[:2] == [0, 2]
    assert result.activities["reason"].iloc[0].endswith("metrics unavailable: scale to the default capacity 2")


def test_default_rules_follow_the_target(cpu_trace):
    # Without rules: +1 when the 10-minute average is above the target (70 %), -1 below 3/7 of it (30 %),
    # with the policy's cooldown. 90 % on 2 VMs: one more at minute 0; then 1.8 / 3 = 60 %, within the band.
    result = simulate(cpu_trace((90, 12)), POLICY, provider="azure", initial_capacity=2, observed_capacity=2)
    assert capacity(result) == [2] + [3] * 11
    assert result.activities["reason"].iloc[0] == "Azure autoscale rules: cpu average 90.0% over 10 min GreaterThan 70%"
    # 10 % on 4 VMs: the scale-in rule waits for a full 10-minute window (minute 9), one VM fewer from
    # minute 10; the next waits the 300 s cooldown since that action: minute 14, 2 VMs from minute 15.
    result = simulate(cpu_trace((10, 20)), POLICY, provider="azure", initial_capacity=4, observed_capacity=4)
    assert capacity(result)[:16] == [4] * 10 + [3] * 5 + [2]


def test_scale_in_waits_for_a_full_window_at_the_start(cpu_trace):
    """Issue 11 (2). Source: Azure Monitor "Understand autoscale settings" (a rule aggregates its time
    window; scale-in never acts without data). At the start of a trace a 10-minute window holds one
    datapoint: 4 VMs at 20 % (target 50 %, scale-in below 3/7 of it) used to lose a VM at once
    ([4, 3, ...]); the scale-in now waits for the window to fill, and the scale-out still acts on
    what there is."""
    policy = POLICY.model_copy(update={"target_cpu_utilization": 50.0})
    result = simulate(cpu_trace((20, 12)), policy, provider="azure", initial_capacity=4, observed_capacity=4)
    assert capacity(result)[:11] == [4] * 10 + [3]
    result = simulate(cpu_trace((90, 3)), policy, provider="azure", initial_capacity=4, observed_capacity=4)
    assert capacity(result)[:2] == [4, 5]
