"""AWS target tracking, as documented: 3 high datapoints to scale out, 15 low to scale in, none while warming.

Every example works the numbers out: a trace of CPU % on ``observed_capacity``
instances gives demand in instance-units; the fleet's CPU is demand / serving.
"""

import pytest

import clusterdb_nb as cdb
from clusterdb_nb.autoscaling import simulate

POLICY = cdb.AutoScalingConfig(min_capacity=1, max_capacity=10, target_cpu_utilization=50.0, cooldown_seconds=300)


def capacity(result):
    return result.timeline["capacity"].tolist()


def test_scale_out_after_three_high_datapoints(cpu_trace):
    # 4 instances at 40 % for 5 minutes, then 80 %: demand 3.2 instance-units.
    # Minutes 5, 6, 7 are above the 50 % target; at the third the policy asks for
    # ceil(4 * 80 / 50) = ceil(6.4) = 7 instances, which count from minute 8.
    trace = cpu_trace((40, 5), (80, 10))
    result = simulate(trace, POLICY, initial_capacity=4, observed_capacity=4)
    assert capacity(result)[:9] == [4] * 8 + [7]
    first = result.activities.iloc[0]
    assert (first["time"], first["from_capacity"], first["to_capacity"]) == (trace.index[8], 4, 7)
    assert first["reason"] == "AWS target tracking: cpu 80.0% > target 50% for 3 datapoints"


def test_two_high_datapoints_do_not_scale_out(cpu_trace):
    result = simulate(cpu_trace((40, 5), (80, 2), (40, 20)), POLICY, initial_capacity=4, observed_capacity=4)
    assert set(capacity(result)) == {4} and result.summary.scaling_actions == 0


def test_scale_in_after_fifteen_low_datapoints(cpu_trace):
    # 6 instances at 20 % (demand 1.2): below the low alarm's 45 % (90 % of 50 %) from minute 0.
    # The 15th low datapoint is minute 14: ceil(6 * 20 / 50) = ceil(2.4) = 3 instances from minute 15.
    # Then 1.2 / 3 = 40 % is still low, but ceil(3 * 40 / 50) = 3: nothing more to remove.
    result = simulate(cpu_trace((20, 40)), POLICY, initial_capacity=6, observed_capacity=6)
    assert capacity(result)[:16] == [6] * 15 + [3]
    assert set(capacity(result)[15:]) == {3}
    assert result.activities["reason"].iloc[0].endswith("cpu 20.0% < 45% (90% of target 50%) for 15 datapoints")


def test_fourteen_low_datapoints_and_a_neutral_one_do_not_scale_in(cpu_trace):
    # 47 % is neither above 50 % nor below 45 %: it resets the low alarm's count.
    result = simulate(cpu_trace((20, 14), (47, 1), (20, 14)), POLICY, initial_capacity=6, observed_capacity=6)
    assert set(capacity(result)) == {6}


def test_no_scale_in_while_instances_warm_up(cpu_trace):
    # 40 % on 4 instances, 80 % for minutes 5-7 (scale-out to 7 decided at minute 7), then 10 % (0.4 units).
    # The 3 new instances boot in 60 s and serve from minute 8, but with a 30-minute warmup AWS counts
    # them only from minute 37. The metric is 0.4 / 7 = 5.7 %, low from minute 8, so 15 low datapoints
    # are there at minute 22 -- but AWS does not scale in while instances warm up. At minute 37:
    # ceil(7 * 5.71 / 50) = 1 instance, from minute 38.
    trace = cpu_trace((40, 5), (80, 3), (10, 40))
    warm = simulate(trace, POLICY, initial_capacity=4, observed_capacity=4, instance_warmup="30min")
    assert capacity(warm)[8] == 7 and warm.timeline["serving"].tolist()[7:9] == [4, 7]
    assert capacity(warm)[23:39] == [7] * 15 + [1]
    # With the policy's 300 s warmup instead, the same 15 low datapoints scale in at minute 22.
    short = simulate(trace, POLICY, initial_capacity=4, observed_capacity=4)
    assert capacity(short)[22:24] == [7, 1]


def test_disable_scale_in(cpu_trace):
    result = simulate(cpu_trace((20, 40)), POLICY, initial_capacity=6, observed_capacity=6, disable_scale_in=True)
    assert set(capacity(result)) == {6}


def test_scale_out_is_capped_at_max_and_counted_once(cpu_trace):
    # 100 % on 4 instances: ceil(4 * 100 / 50) = 8; after 3 datapoints, 8 it is, then 3.2 / 8 = 40 %.
    result = simulate(
        cpu_trace((80, 2), (100, 20)),
        cdb.AutoScalingConfig(min_capacity=1, max_capacity=6, target_cpu_utilization=50.0, cooldown_seconds=300),
        initial_capacity=4,
        observed_capacity=4,
    )
    assert max(capacity(result)) == 6 and result.summary.scaling_actions == 1


@pytest.mark.parametrize("warmup", [0, 60])
def test_without_warmup_new_instances_serve_the_next_minute(cpu_trace, warmup):
    result = simulate(cpu_trace((80, 6)), POLICY, initial_capacity=4, observed_capacity=4, instance_warmup=warmup)
    assert result.timeline["serving"].tolist() == [4, 4, 4, 7, 7, 7]
