"""Azure autoscale: scale in only when every scale-in rule agrees; one cooldown blocks both directions."""

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


def test_one_cooldown_blocks_both_directions(cpu_trace):
    # The scale-in at minute 14 starts a 5-minute cooldown (to minute 19). Demand then jumps to
    # 4 units (100 % of 4 VMs) at minute 15: the 5-minute average is (4 * 20 + 100) / 5 = 36 % at 15,
    # 52 % at 16, 68 % at 17 and (20 + 4 * 100) / 5 = 84 % > 70 % at 18 -- still in the cooldown.
    # The scale-out (+2) happens at minute 19: 5 VMs from minute 20.
    trace = cpu_trace((50, 10), (20, 5), (100, 15))
    result = simulate(
        trace, POLICY, provider="azure", initial_capacity=4, observed_capacity=4, rules=[OUT, IN_AVERAGE, IN_MAXIMUM]
    )
    assert capacity(result)[14:21] == [4, 3, 3, 3, 3, 3, 5]
    # With a one-minute cooldown on the scale-in rules the scale-out comes at minute 18.
    quick = [OUT, IN_AVERAGE.model_copy(update={"cooldown": 60}), IN_MAXIMUM.model_copy(update={"cooldown": 60})]
    result = simulate(trace, POLICY, provider="azure", initial_capacity=4, observed_capacity=4, rules=quick)
    assert capacity(result)[14:20] == [4, 3, 3, 3, 3, 5]


def test_flapping_guard_takes_a_smaller_step_or_none(cpu_trace):
    # 3 VMs at 40 %; the scale-in rule (< 45 %) asks for -2. On 1 VM that would be 120 % > 70 %:
    # it would flap, so autoscale tries 2 VMs: 40 * 3 / 2 = 60 % <= 70 %, fine.
    down_two = AzureRule(direction="Decrease", operator="LessThan", threshold=45, time_window="PT5M", value=2)
    result = simulate(
        cpu_trace((40, 10)), POLICY, provider="azure", initial_capacity=3, observed_capacity=3, rules=[OUT, down_two]
    )
    assert capacity(result)[:2] == [3, 2]
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
    # 10 % on 4 VMs: one fewer at minute 0, the next only after the 300 s cooldown, at minute 5.
    result = simulate(cpu_trace((10, 12)), POLICY, provider="azure", initial_capacity=4, observed_capacity=4)
    assert capacity(result)[:7] == [4, 3, 3, 3, 3, 3, 2]
