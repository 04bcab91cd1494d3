"""AWS EC2 Auto Scaling target tracking on ASGAverageCPUUtilization.

What AWS documents ("Target tracking scaling policies", "Instance warmup"):
scale-out acts fast and scale-in slowly; instances still warming are left out
of the metric and of the capacity counted when scaling out; no scale-in while
instances warm up; no data never scales in; DisableScaleIn defaults to false;
for target tracking the seed's ``cooldown_seconds`` is the instance warmup
unless one is set.

Inferred (AWS does not publish them, so they are modelled so):

* desired capacity = ceil(C * M / T), C the serving (warmed) instances, clamped
  to [min, max];
* the high alarm is M > T for 3 of 3 one-minute datapoints, the low alarm is
  M < 0.9 T for 15 of 15 (the alarms AWS creates); with basic monitoring use
  ``step="5min"`` so that one datapoint is five minutes;
* while an alarm stays in ALARM the policy is re-evaluated every datapoint;
* an instance serves once its warmup is over.

    >>> engine = AwsTargetTracking(AutoScalingConfig(target_cpu_utilization=70), AwsOptions())
    >>> engine.decide(now=0.0, demand=2.7, capacity=3, serving=3)
    (3, '')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ...models import AutoScalingConfig
from ..fleet import EPS, Policies, Run, VectorFleet, fleet_cpu, sized_for, startup_steps
from ..options import AwsOptions

HIGH_DATAPOINTS = 3
LOW_DATAPOINTS = 15
LOW_FRACTION = 0.9  # the low alarm's threshold, as a fraction of the target (inferred)


@dataclass
class _Memory:
    high_run: int = 0  # consecutive datapoints above the target
    low_run: int = 0  # consecutive datapoints below the low threshold
    warm_until: float = float("-inf")  # the last launched instances finish warming then


class AwsTargetTracking:
    """Reference engine: one target tracking policy, one datapoint per call."""

    def __init__(self, policy: AutoScalingConfig, options: AwsOptions) -> None:
        self.policy = policy
        self.options = options
        self.warmup = float(policy.cooldown_seconds if options.instance_warmup is None else options.instance_warmup)
        self.low_threshold = LOW_FRACTION * policy.target_cpu_utilization
        self.memory = _Memory()

    @property
    def startup_seconds(self) -> float:
        return self.warmup

    def state(self) -> dict[str, Any]:
        return asdict(self.memory)

    def restore(self, state: dict[str, Any]) -> None:
        self.memory = _Memory(**state)

    def decide(self, now: float, demand: float, capacity: int, serving: int) -> tuple[int, str]:
        m, p = self.memory, self.policy
        cpu = fleet_cpu(demand, serving)
        if cpu is None:  # INSUFFICIENT_DATA: neither alarm counts, nothing scales
            m.high_run = m.low_run = 0
            return capacity, ""
        target = p.target_cpu_utilization
        m.high_run = m.high_run + 1 if cpu > target else 0
        m.low_run = m.low_run + 1 if cpu < self.low_threshold else 0
        desired = min(max(sized_for(serving, cpu, target), p.min_capacity), p.max_capacity)
        if m.high_run >= HIGH_DATAPOINTS and desired > capacity:
            m.warm_until = now + self.warmup
            return desired, f"cpu {cpu:.1f}% > target {target:g}% for {m.high_run} datapoints"
        if m.low_run >= LOW_DATAPOINTS and desired < capacity and now >= m.warm_until and not self.options.disable_scale_in:
            return desired, f"cpu {cpu:.1f}% < {self.low_threshold:g}% (90% of target {target:g}%) for {m.low_run} datapoints"
        return capacity, ""


def simulate_many(policies: Policies, options: AwsOptions, demand: np.ndarray, step: int) -> Run:
    """The reference engine's decisions for every policy at once (numpy across policies).

    The alarm counters are kept as "last step the condition was false", so each
    datapoint costs a handful of array operations; recommendations are computed
    only for the policies whose alarm is in ALARM.
    """
    n = len(demand)
    warmup = policies.cooldown.copy() if options.instance_warmup is None else np.full(len(policies), float(options.instance_warmup))
    fleet = VectorFleet(policies.initial, np.array([startup_steps(w, step) for w in warmup]), n)
    target, low = policies.target, LOW_FRACTION * policies.target
    lo, hi = policies.min_capacity, policies.max_capacity
    demand100 = 100.0 * np.asarray(demand, dtype=np.float64)
    last_not_high = np.full(len(policies), -1.0)  # high_run at step t = t - last_not_high
    last_not_low = np.full(len(policies), -1.0)
    warm_until = np.full(len(policies), -np.inf)
    cpu = np.empty(len(policies))
    cond = np.empty(len(policies), dtype=bool)
    scale_in = not options.disable_scale_in
    no_data = fleet.serving <= 0
    for t in range(n):
        if fleet.arrive(t):
            no_data = fleet.serving <= 0
        with np.errstate(divide="ignore", invalid="ignore"):
            np.divide(demand100[t], fleet.serving, out=cpu)
        np.minimum(cpu, 100.0, out=cpu)
        np.less_equal(cpu, target, out=cond)
        np.putmask(last_not_high, cond, t)
        np.greater_equal(cpu, low, out=cond)
        np.putmask(last_not_low, cond, t)
        if no_data.any():
            np.putmask(last_not_high, no_data, t)
            np.putmask(last_not_low, no_data, t)
        np.less_equal(last_not_high, t - HIGH_DATAPOINTS, out=cond)
        if cond.any():
            idx = np.flatnonzero(cond)
            desired = np.minimum(np.maximum(np.ceil(fleet.serving[idx] * cpu[idx] / target[idx] - EPS), lo[idx]), hi[idx])
            grow = desired > fleet.capacity[idx]
            if grow.any():
                warm_until[idx[grow]] = t * step + warmup[idx[grow]]
                fleet.resize(t, idx[grow], desired[grow])
                no_data = fleet.serving <= 0
        if scale_in:
            np.less_equal(last_not_low, t - LOW_DATAPOINTS, out=cond)
            if cond.any():
                idx = np.flatnonzero(cond)
                idx = idx[t * step >= warm_until[idx]]
                desired = np.minimum(np.maximum(np.ceil(fleet.serving[idx] * cpu[idx] / target[idx] - EPS), lo[idx]), hi[idx])
                shrink = desired < fleet.capacity[idx]
                if shrink.any():
                    fleet.resize(t, idx[shrink], desired[shrink])
                    no_data = fleet.serving <= 0
    return fleet.run()
