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
from ..fleet import DEFAULT_BOOT_SECONDS, EPS, Launches, Policies, Run, compact_dtype, counted_load, startup_steps, steps_within
from ..forecast import lead_floor
from ..options import AwsOptions

__all__ = ["AwsTargetTracking", "datapoint_steps", "HIGH_DATAPOINTS", "LOW_DATAPOINTS", "LOW_FRACTION", "simulate_many"]

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

    def __init__(
        self, policy: AutoScalingConfig, options: AwsOptions, step: int = 60, forecast: np.ndarray | None = None
    ) -> None:
        self.policy = policy
        self.options = options
        self.step = step
        self.forecast = forecast if options.predictive == "forecast_and_scale" else None
        self.lead = math.ceil(options.scheduling_buffer / step)
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
        # predictive scaling raises the group's minimum to the forecast capacity
        floor = lead_floor(self.forecast, round(now / self.step), self.lead, p.target_cpu_utilization, EPS)
        lo = int(max(p.min_capacity, min(floor, p.max_capacity)))
        warming = self.launches.new(now)
        counted = max(capacity - warming, 0)
        load = counted_load(demand, serving, counted)
        if load is None:  # INSUFFICIENT_DATA: neither alarm counts, nothing scales but the minimum
            m.high_run = m.low_run = 0
            return self._predicted(now, capacity, lo)
        cpu = load / counted if serving < counted else min(100.0, 100.0 * demand / serving)  # M, the counted ones' average
        target = p.target_cpu_utilization
        m.high_run = m.high_run + 1 if cpu > target else 0
        m.low_run = m.low_run + 1 if cpu < self.low_threshold else 0
        desired = min(max(math.ceil(load / target - EPS), lo), p.max_capacity)
        if m.high_run >= self.high_steps and desired > capacity:
            self.launches.resized(now, capacity, desired)
            return desired, f"cpu {cpu:.1f}% > target {target:g}% for {m.high_run} datapoints"
        if capacity < lo:
            return self._predicted(now, capacity, lo)
        steady = warming == 0 and serving == capacity
        if m.low_run >= self.low_steps and desired < capacity and steady and not self.options.disable_scale_in:
            self.launches.resized(now, capacity, desired)
            return desired, f"cpu {cpu:.1f}% < {self.low_threshold:g}% (90% of target {target:g}%) for {m.low_run} datapoints"
        return capacity, ""

    def _predicted(self, now: float, capacity: int, lo: int) -> tuple[int, str]:
        """The group's minimum, raised by predictive scaling above the capacity, is enforced at once."""
        if capacity >= lo:
            return capacity, ""
        self.launches.resized(now, capacity, lo)
        return lo, f"predictive scaling: forecast capacity {lo} in {self.options.scheduling_buffer} s"


def _forecast(forecast: np.ndarray | None, n: int) -> np.ndarray:
    """The forecast for the kernel: NaN (no forecast) where there is none."""
    return np.full(n, np.nan) if forecast is None else np.asarray(forecast, dtype=np.float64)


def simulate_many(
    policies: Policies,
    options: AwsOptions,
    demand: np.ndarray,
    step: int,
    boot_seconds: float = DEFAULT_BOOT_SECONDS,
    forecast: np.ndarray | None = None,
) -> Run:
    """The reference engine's decisions for every policy (compiled: ``kernels.aws_target_tracking``)."""
    from ..kernels import aws_target_tracking

    n, count = len(demand), len(policies)
    warmup = policies.cooldown if options.instance_warmup is None else np.full(count, float(options.instance_warmup))
    warm_steps = np.array([max(steps_within(int(w), step) - 1, 0) for w in warmup], dtype=np.int64)
    period = options.metric_period or step
    dtype = compact_dtype(float(policies.max_capacity.max(initial=0)))
    capacity_at, serving_at = np.empty((count, n), dtype=dtype), np.empty((count, n), dtype=dtype)
    actions = np.zeros(count, dtype=np.int64)
    aws_target_tracking(
        100.0 * np.asarray(demand, dtype=np.float64),
        policies.initial,
        policies.min_capacity,
        policies.max_capacity,
        policies.target,
        warm_steps,
        startup_steps(boot_seconds, step),
        datapoint_steps(HIGH_DATAPOINTS, period, step),
        datapoint_steps(LOW_DATAPOINTS, period, step),
        options.disable_scale_in,
        _forecast(forecast if options.predictive == "forecast_and_scale" else None, n),
        math.ceil(options.scheduling_buffer / step),
        EPS,
        capacity_at,
        serving_at,
        actions,
    )
    return Run(capacity_at.T, serving_at.T, actions)  # policy-major in memory, (steps, policies) to read
