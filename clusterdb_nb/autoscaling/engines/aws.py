"""AWS EC2 Auto Scaling target tracking on ASGAverageCPUUtilization.

What AWS documents ("Target tracking scaling policies", "Instance warmup",
"Scaling cooldowns"): scale-out acts fast and scale-in slowly; instances still
warming up are left out of the metric and of the capacity counted; no scale-in
while a scale-out is in progress or instances warm up; no data never scales in;
DisableScaleIn defaults to false; for target tracking the seed's
``cooldown_seconds`` is the instance warmup unless one is set.

Inferred (AWS does not publish them, so they are modelled so):

* desired capacity = ceil(C * M / T), C the counted (warmed-up) instances and M
  their average CPU, clamped to [min, max];
* the high alarm is M > T for 3 of 3 datapoints, the low alarm M < 0.9 T for 15
  of 15 (the alarms AWS creates); a datapoint is one metric period
  (``AwsOptions.metric_period``: 60 s with detailed monitoring, 300 s with basic
  monitoring), so at a one-minute step a five-minute metric needs 15 steps above
  the target, as CloudWatch evaluates it;
* while an alarm stays in ALARM the policy is re-evaluated every step;
* the warmup runs from launch; an instance past its warmup that does not serve
  yet (``boot_seconds`` longer than the warmup) reports 0 % CPU.

    >>> engine = AwsTargetTracking(AutoScalingConfig(target_cpu_utilization=70), AwsOptions(), step=60)
    >>> engine.decide(now=0.0, demand=2.7, capacity=3, serving=3)
    (3, '')
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ...models import AutoScalingConfig
from ..fleet import DEFAULT_BOOT_SECONDS, EPS, Launches, Policies, Run, VectorFleet, VectorLaunches, counted_load, startup_steps
from ..options import AwsOptions

HIGH_DATAPOINTS = 3
LOW_DATAPOINTS = 15
LOW_FRACTION = 0.9  # the low alarm's threshold, as a fraction of the target (inferred)


def datapoint_steps(datapoints: int, period: int, step: int) -> int:
    """Steps that ``datapoints`` metric periods of ``period`` seconds last at ``step`` seconds a step."""
    return max(1, math.ceil(datapoints * period / step))


@dataclass
class _Memory:
    high_run: int = 0  # consecutive steps above the target
    low_run: int = 0  # consecutive steps below the low threshold


class AwsTargetTracking:
    """Reference engine: one target tracking policy, one evaluation per ``step`` seconds."""

    def __init__(self, policy: AutoScalingConfig, options: AwsOptions, step: int = 60) -> None:
        self.policy = policy
        self.options = options
        self.warmup = float(policy.cooldown_seconds if options.instance_warmup is None else options.instance_warmup)
        period = options.metric_period or step
        self.high_steps = datapoint_steps(HIGH_DATAPOINTS, period, step)
        self.low_steps = datapoint_steps(LOW_DATAPOINTS, period, step)
        self.low_threshold = LOW_FRACTION * policy.target_cpu_utilization
        self.memory = _Memory()
        self.launches = Launches(self.warmup)

    def state(self) -> dict[str, Any]:
        return {**asdict(self.memory), "launches": self.launches.recent}

    def restore(self, state: dict[str, Any]) -> None:
        self.memory = _Memory(high_run=state["high_run"], low_run=state["low_run"])
        self.launches.recent = [list(x) for x in state.get("launches", [])]

    def decide(self, now: float, demand: float, capacity: int, serving: int) -> tuple[int, str]:
        m, p = self.memory, self.policy
        warming = self.launches.new(now)
        counted = max(capacity - warming, 0)
        load = counted_load(demand, serving, counted)
        if load is None:  # INSUFFICIENT_DATA: neither alarm counts, nothing scales
            m.high_run = m.low_run = 0
            return capacity, ""
        cpu = load / counted if serving < counted else min(100.0, 100.0 * demand / serving)  # M, the counted ones' average
        target = p.target_cpu_utilization
        m.high_run = m.high_run + 1 if cpu > target else 0
        m.low_run = m.low_run + 1 if cpu < self.low_threshold else 0
        desired = min(max(math.ceil(load / target - EPS), p.min_capacity), p.max_capacity)
        if m.high_run >= self.high_steps and desired > capacity:
            self.launches.resized(now, capacity, desired)
            return desired, f"cpu {cpu:.1f}% > target {target:g}% for {m.high_run} datapoints"
        steady = warming == 0 and serving == capacity
        if m.low_run >= self.low_steps and desired < capacity and steady and not self.options.disable_scale_in:
            self.launches.resized(now, capacity, desired)
            return desired, f"cpu {cpu:.1f}% < {self.low_threshold:g}% (90% of target {target:g}%) for {m.low_run} datapoints"
        return capacity, ""


def simulate_many(
    policies: Policies, options: AwsOptions, demand: np.ndarray, step: int, boot_seconds: float = DEFAULT_BOOT_SECONDS
) -> Run:
    """The reference engine's decisions for every policy at once (numpy across policies).

    Per step and for all policies at once: the counted instances (capacity less those launched
    within the warmup), the load C * M they report, the alarm runs, and z = C * M / T - EPS whose
    ceiling is the desired capacity (``desired > capacity`` is ``z > capacity``, capacity being a
    whole number). Only the policies that do change are then resized.
    """
    n, count = len(demand), len(policies)
    warmup = policies.cooldown.copy() if options.instance_warmup is None else np.full(count, float(options.instance_warmup))
    fleet = VectorFleet(policies.initial, startup_steps(boot_seconds, step), n, float(policies.max_capacity.max()))
    launches = VectorLaunches(warmup, step, count, n)
    period = options.metric_period or step
    high_steps, low_steps = datapoint_steps(HIGH_DATAPOINTS, period, step), datapoint_steps(LOW_DATAPOINTS, period, step)
    target, lo, hi = policies.target, policies.min_capacity, policies.max_capacity
    low = LOW_FRACTION * target
    demand100 = 100.0 * np.asarray(demand, dtype=np.float64)
    high_run, low_run = np.zeros(count), np.zeros(count)
    cpu, counted, load, metric, z = (np.empty(count) for _ in range(5))
    cond, trigger = np.empty(count, dtype=bool), np.empty(count, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for t in range(n):
            fleet.begin(t)
            launches.begin(t)
            capacity, serving = fleet.capacity, fleet.serving
            np.subtract(capacity, launches.recent, out=counted)
            np.maximum(counted, 0.0, out=counted)
            np.divide(demand100[t], serving, out=cpu)
            np.minimum(cpu, 100.0, out=cpu)
            np.minimum(serving, counted, out=load)
            np.multiply(load, cpu, out=load)
            load[serving <= 0] = 0.0  # counted instances that do not serve yet report 0 %
            np.less(serving, counted, out=cond)
            np.divide(load, counted, out=metric)
            np.copyto(metric, cpu, where=~cond)
            seen = counted > 0
            np.greater(metric, target, out=cond)
            cond &= seen
            high_run += 1
            high_run *= cond
            np.less(metric, low, out=cond)
            cond &= seen
            low_run += 1
            low_run *= cond
            np.divide(load, target, out=z)
            np.subtract(z, EPS, out=z)
            np.greater(z, capacity, out=trigger)
            trigger &= capacity < hi
            trigger &= high_run >= high_steps
            trigger &= seen
            idx = trigger.nonzero()[0]
            if idx.size:
                new = np.minimum(np.maximum(np.ceil(z[idx]), lo[idx]), hi[idx])
                launches.grew(t, idx, new - capacity[idx])
                fleet.grow(t, idx, new)
            if options.disable_scale_in:
                continue
            np.less_equal(z, capacity - 1.0, out=trigger)
            trigger &= capacity > lo
            trigger &= low_run >= low_steps
            trigger &= serving == capacity
            trigger &= launches.recent == 0
            trigger &= seen
            idx = trigger.nonzero()[0]
            if idx.size:
                new = np.minimum(np.maximum(np.ceil(z[idx]), lo[idx]), hi[idx])
                fleet.shrink(t, idx, new)
    return fleet.run()
