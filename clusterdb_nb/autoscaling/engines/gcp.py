"""Google Compute Engine managed instance group autoscaler (CPU utilization).

What Google documents (``AutoscalingPolicy``, "Understanding autoscaler
decisions", "Scale-in controls"): ``utilizationTarget`` is the seed's target;
``coolDownPeriodSec`` (the initialization period; the seed's
``cooldown_seconds``) is how long metrics of new VMs are ignored; before scaling
in, the autoscaler keeps the highest recommendation of the last 10 minutes
(stabilization); scale-in controls cap how far below the peak recommendation of
their window the group may drop; ``mode`` ON, ONLY_SCALE_OUT or OFF.

Inferred:

* recommended size = ceil(N_serving * U / target), clamped to [min, max];
* a VM serves once its initialization period is over;
* with no serving VM there is no metric and the recommendation is the current size;
* a percent scale-in control is rounded down;
* predictive autoscaling is not modelled.

    >>> engine = GceAutoscaler(AutoScalingConfig(target_cpu_utilization=60), GcpOptions())
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from ...models import AutoScalingConfig
from ..fleet import EPS, Policies, Run, VectorFleet, fleet_cpu, sized_for, startup_steps, steps_within
from ..options import GcpOptions

STABILIZATION_SECONDS = 600


class GceAutoscaler:
    """Reference engine: one MIG autoscaler, one evaluation per call."""

    def __init__(self, policy: AutoScalingConfig, options: GcpOptions) -> None:
        self.policy = policy
        self.options = options
        period = options.initialization_period
        self.initialization = float(policy.cooldown_seconds if period is None else period)
        control = options.scale_in_control
        self.memory_seconds = max(STABILIZATION_SECONDS, control.time_window_seconds if control else 0)
        self.recommendations: deque[tuple[float, int]] = deque()

    @property
    def startup_seconds(self) -> float:
        return self.initialization

    def state(self) -> dict[str, Any]:
        return {"recommendations": [list(r) for r in self.recommendations]}

    def restore(self, state: dict[str, Any]) -> None:
        self.recommendations = deque((float(t), int(r)) for t, r in state["recommendations"])

    def _peak(self, now: float, window: float) -> int:
        return max(r for t, r in self.recommendations if t > now - window)

    def decide(self, now: float, demand: float, capacity: int, serving: int) -> tuple[int, str]:
        p, mode = self.policy, self.options.mode
        cpu = fleet_cpu(demand, serving)
        if cpu is None:
            recommended = capacity
        else:
            recommended = min(max(sized_for(serving, demand, p.target_cpu_utilization), p.min_capacity), p.max_capacity)
        self.recommendations.append((now, recommended))
        while self.recommendations[0][0] <= now - self.memory_seconds:
            self.recommendations.popleft()
        if mode == "OFF":
            return capacity, ""
        if recommended > capacity:
            return recommended, f"cpu {cpu:.1f}% over target {p.target_cpu_utilization:g}%: recommended size {recommended}"
        if mode != "ON":
            return capacity, ""
        stabilized = self._peak(now, STABILIZATION_SECONDS)
        if stabilized >= capacity:
            return capacity, ""
        new, why = stabilized, f"highest recommendation of the last 10 minutes is {stabilized}"
        control = self.options.scale_in_control
        if control is not None:
            peak = self._peak(now, control.time_window_seconds)
            floor = peak - control.allowed(peak)
            if floor > new:
                new, why = floor, f"scale-in control: at most {control.allowed(peak)} below the peak {peak}"
        if new >= capacity:
            return capacity, ""
        return new, why


def simulate_many(policies: Policies, options: GcpOptions, demand: np.ndarray, step: int) -> Run:
    """The reference engine's decisions for every policy at once (numpy across policies)."""
    n, count = len(demand), len(policies)
    period = options.initialization_period
    init = policies.cooldown if period is None else np.full(count, float(period))
    fleet = VectorFleet(policies.initial, np.array([startup_steps(s, step) for s in init]), n, float(policies.max_capacity.max()))
    control = options.scale_in_control
    stab_n = steps_within(STABILIZATION_SECONDS, step)
    ctrl_n = steps_within(control.time_window_seconds, step) if control else 0
    ring = max(stab_n, ctrl_n)
    history = np.full((ring, count), -1.0)  # recommendations, row t % ring; -1 = none yet
    target, lo, hi = policies.target, policies.min_capacity, policies.max_capacity
    demand100 = 100.0 * np.asarray(demand, dtype=np.float64)
    for t in range(n):
        fleet.begin(t)
        if options.mode == "OFF":
            continue
        serving, capacity = fleet.serving, fleet.capacity
        recommended = np.minimum(np.maximum(np.ceil(np.minimum(demand100[t], 100.0 * serving) / target - EPS), lo), hi)
        recommended = np.where(serving > 0, recommended, capacity)
        history[t % ring] = recommended
        grow = recommended > capacity
        if grow.any():
            idx = np.flatnonzero(grow)
            fleet.resize(t, idx, recommended[idx])
        if options.mode != "ON":
            continue
        idx = np.flatnonzero(~grow & (recommended < fleet.capacity))
        if not idx.size:
            continue
        rows = np.array([(t - j) % ring for j in range(min(stab_n, t + 1))])
        new = history[np.ix_(rows, idx)].max(axis=0)
        if control is not None:
            rows = np.array([(t - j) % ring for j in range(min(ctrl_n, t + 1))])
            peak = history[np.ix_(rows, idx)].max(axis=0)
            if control.max_scaled_in_replicas is not None:
                allowed = np.full(idx.size, float(control.max_scaled_in_replicas))
            else:
                allowed = (peak * int(control.max_scaled_in_percent or 0)) // 100
            new = np.maximum(new, peak - allowed)
        shrink = new < fleet.capacity[idx]
        if shrink.any():
            fleet.resize(t, idx[shrink], new[shrink])
    return fleet.run()
