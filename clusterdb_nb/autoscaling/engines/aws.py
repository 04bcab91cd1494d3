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
        desired = min(max(sized_for(serving, demand, target), p.min_capacity), p.max_capacity)
        if m.high_run >= HIGH_DATAPOINTS and desired > capacity:
            m.warm_until = now + self.warmup
            return desired, f"cpu {cpu:.1f}% > target {target:g}% for {m.high_run} datapoints"
        if m.low_run >= LOW_DATAPOINTS and desired < capacity and now >= m.warm_until and not self.options.disable_scale_in:
            return desired, f"cpu {cpu:.1f}% < {self.low_threshold:g}% (90% of target {target:g}%) for {m.low_run} datapoints"
        return capacity, ""


def simulate_many(policies: Policies, options: AwsOptions, demand: np.ndarray, step: int) -> Run:
    """The reference engine's decisions for every policy at once (numpy across policies).

    Per datapoint and for all policies at once:

    * r = 100 * demand / serving against the alarms' thresholds: r <= T breaks a high run,
      r >= 0.9 T a low run; each run is kept as the last step it broke, and is in ALARM once
      that is 3 (15) datapoints back;
    * z = C * M / T - EPS, whose ceiling is the desired capacity: ``desired > capacity`` is
      ``z > capacity`` (capacity is a whole number) and ``desired < capacity`` is
      ``z <= capacity - 1``.

    Only the policies that do change are then looked at one by one. The reference's "no
    scale-in while warming" is "serving == capacity" here: a scale-out's instances arrive
    exactly when their warmup ends, and a scale-in never meets a warming instance.
    """
    n, count = len(demand), len(policies)
    warmup = policies.cooldown.copy() if options.instance_warmup is None else np.full(count, float(options.instance_warmup))
    fleet = VectorFleet(
        policies.initial, np.array([startup_steps(w, step) for w in warmup]), n, float(policies.max_capacity.max())
    )
    target, lo, hi = policies.target, policies.min_capacity, policies.max_capacity
    high = np.where(target < 100.0, target, np.inf)  # min(100, r) > T  <=>  r > high
    low = LOW_FRACTION * target  # min(100, r) < 0.9 T  <=>  r < low, as 0.9 T < 100
    demand100 = 100.0 * np.asarray(demand, dtype=np.float64)
    last_not_high = np.full(count, -1.0)  # the last step the high run broke (before the trace: -1)
    last_not_low = np.full(count, -1.0)
    serving100, below = np.empty(count), np.empty(count)  # 100 * serving, capacity - 1
    can_grow, can_shrink = np.empty(count, dtype=bool), np.empty(count, dtype=bool)
    r, z = np.empty(count), np.empty(count)
    cond, trigger = np.empty(count, dtype=bool), np.empty(count, dtype=bool)

    def arrived(idx: np.ndarray | slice) -> None:
        capacity, serving = fleet.capacity[idx], fleet.serving[idx]
        serving100[idx] = 100.0 * serving
        can_grow[idx] = (capacity < hi[idx]) & (serving > 0)
        can_shrink[idx] = (capacity > lo[idx]) & (serving == capacity) & (not options.disable_scale_in)

    def resized(idx: np.ndarray, capacity: np.ndarray, grew: bool) -> None:
        below[idx] = capacity - 1.0
        can_grow[idx] = capacity < hi[idx]
        if grew:  # the new instances warm up: no scale-in until they serve
            can_shrink[idx] = False
        else:  # a scale-in meets no warming instance: serving == capacity
            serving100[idx] = 100.0 * capacity
            can_shrink[idx] = capacity > lo[idx]
            can_grow[idx] &= capacity > 0

    arrived(slice(None))
    below[:] = fleet.capacity - 1.0
    no_data = np.flatnonzero(fleet.serving <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        for t in range(n):
            came = fleet.begin(t)
            if came is not None:
                arrived(came)
            np.divide(demand100[t], fleet.serving, out=r)
            np.less_equal(r, high, out=cond)
            np.putmask(last_not_high, cond, t)
            np.greater_equal(r, low, out=cond)
            np.putmask(last_not_low, cond, t)
            if no_data.size:  # INSUFFICIENT_DATA: both runs break
                last_not_high[no_data] = last_not_low[no_data] = t
            np.minimum(demand100[t], serving100, out=z)
            np.divide(z, target, out=z)
            np.subtract(z, EPS, out=z)
            np.greater(z, fleet.capacity, out=trigger)
            trigger &= can_grow
            np.less_equal(last_not_high, t - HIGH_DATAPOINTS, out=cond)
            trigger &= cond
            idx = trigger.nonzero()[0]
            if idx.size:
                new = np.minimum(np.ceil(z[idx]), hi[idx])
                fleet.grow(t, idx, new)
                resized(idx, new, grew=True)
            np.less_equal(z, below, out=trigger)
            trigger &= can_shrink
            np.less_equal(last_not_low, t - LOW_DATAPOINTS, out=cond)
            trigger &= cond
            idx = trigger.nonzero()[0]
            if idx.size:
                new = np.maximum(np.ceil(z[idx]), lo[idx])
                fleet.shrink(t, idx, new)
                resized(idx, new, grew=False)
                if not new.all():
                    no_data = np.flatnonzero(fleet.serving <= 0)
    return fleet.run()
