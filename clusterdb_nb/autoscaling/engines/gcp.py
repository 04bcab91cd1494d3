"""Google Compute Engine managed instance group autoscaler (CPU utilization).

What Google documents (``AutoscalingPolicy``, "Understanding autoscaler
decisions", "Scale-in controls"): ``utilizationTarget`` is the seed's target;
``coolDownPeriodSec`` (the initialization period; the seed's
``cooldown_seconds``) is how long metrics of new VMs are ignored; before scaling
in, the autoscaler keeps the highest recommendation of the last 10 minutes
(stabilization), and a group starts with its current size as that history, so
it holds its initial size for 10 minutes; scale-in controls cap how far below the peak recommendation of
their window the group may drop; ``mode`` ON, ONLY_SCALE_OUT or OFF.

Inferred:

* recommended size = ceil(N * U / target), N the VMs past their initialization
  period (from creation) and U their average CPU, clamped to [min, max]; a VM
  past it that does not serve yet (``boot_seconds``) reports 0 %;
* with no such VM there is no metric and the recommendation is the current size;
* a percent scale-in control is rounded down;
* predictive autoscaling (``predictive=True``) uses the forecast of
  ``clusterdb_nb.autoscaling.forecast``, an approximation of Google's model.

    >>> engine = GceAutoscaler(AutoScalingConfig(target_cpu_utilization=60), GcpOptions())
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from ...models import AutoScalingConfig
from ..fleet import DEFAULT_BOOT_SECONDS, EPS, Launches, Policies, Run, compact_dtype, counted_load, startup_steps, steps_within
from ..forecast import lead_floor
from ..options import GcpOptions

__all__ = ["GceAutoscaler", "simulate_many", "STABILIZATION_SECONDS"]

STABILIZATION_SECONDS = 600


class GceAutoscaler:
    """Reference engine: one MIG autoscaler, one evaluation per call."""

    def __init__(
        self, policy: AutoScalingConfig, options: GcpOptions, step: int = 60, forecast: np.ndarray | None = None
    ) -> None:
        self.policy = policy
        self.options = options
        period = options.initialization_period
        self.initialization = float(policy.cooldown_seconds if period is None else period)
        self.step = step
        self.forecast = forecast if options.predictive else None
        self.lead = math.ceil(self.initialization / step)
        control = options.scale_in_control
        self.memory_seconds = max(STABILIZATION_SECONDS, control.time_window_seconds if control else 0)
        self.recommendations: deque[tuple[float, int]] = deque()
        self.started = False
        self.launches = Launches(self.initialization)

    def state(self) -> dict[str, Any]:
        return {
            "recommendations": [list(r) for r in self.recommendations],
            "launches": self.launches.recent,
            "started": self.started,
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.recommendations = deque((float(t), int(r)) for t, r in state["recommendations"])
        self.launches.recent = [list(x) for x in state.get("launches", [])]
        self.started = bool(state.get("started", True))

    def _peak(self, now: float, window: float) -> int:
        return max(r for t, r in self.recommendations if t > now - window)

    def decide(self, now: float, demand: float, capacity: int, serving: int) -> tuple[int, str]:
        p, mode = self.policy, self.options.mode
        if not self.started:  # the group's size so far is its history: stabilization holds it
            self.recommendations.append((now, capacity))
            self.started = True
        counted = max(capacity - self.launches.new(now), 0)
        load = counted_load(demand, serving, counted)
        if load is None:
            recommended = capacity
        else:
            recommended = min(max(math.ceil(load / p.target_cpu_utilization - EPS), p.min_capacity), p.max_capacity)
        floor = lead_floor(self.forecast, round(now / self.step), self.lead, p.target_cpu_utilization, EPS)
        if floor > 0:  # predictive: at least what the forecast needs one initialization period from now
            recommended = max(recommended, int(min(max(floor, p.min_capacity), p.max_capacity)))
        self.recommendations.append((now, recommended))
        while self.recommendations[0][0] <= now - self.memory_seconds:
            self.recommendations.popleft()
        if mode == "OFF":
            return capacity, ""
        if recommended > capacity:
            self.launches.resized(now, capacity, recommended)
            cpu = (load or 0.0) / counted if counted else 0.0
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
        self.launches.resized(now, capacity, new)
        return new, why


def simulate_many(
    policies: Policies,
    options: GcpOptions,
    demand: np.ndarray,
    step: int,
    boot_seconds: float = DEFAULT_BOOT_SECONDS,
    forecast: np.ndarray | None = None,
) -> Run:
    """The reference engine's decisions for every policy (compiled: ``kernels.gce_autoscaler``)."""
    from ..kernels import gce_autoscaler

    n, count = len(demand), len(policies)
    period = options.initialization_period
    init = policies.cooldown if period is None else np.full(count, float(period))
    control = options.scale_in_control
    replicas = -1.0 if control is None or control.max_scaled_in_replicas is None else float(control.max_scaled_in_replicas)
    dtype = compact_dtype(float(policies.max_capacity.max(initial=0)))
    capacity_at, serving_at = np.empty((count, n), dtype=dtype), np.empty((count, n), dtype=dtype)
    actions = np.zeros(count, dtype=np.int64)
    gce_autoscaler(
        100.0 * np.asarray(demand, dtype=np.float64),
        policies.initial,
        policies.min_capacity,
        policies.max_capacity,
        policies.target,
        np.array([max(steps_within(int(s), step) - 1, 0) for s in init], dtype=np.int64),
        startup_steps(boot_seconds, step),
        ["ON", "ONLY_SCALE_OUT", "OFF"].index(options.mode),
        steps_within(STABILIZATION_SECONDS, step),
        steps_within(control.time_window_seconds, step) if control else 0,
        replicas,
        float(control.max_scaled_in_percent or 0) if control else 0.0,
        np.full(n, np.nan) if forecast is None or not options.predictive else np.asarray(forecast, dtype=np.float64),
        np.array([-(-int(s) // step) for s in init], dtype=np.int64),
        EPS,
        capacity_at,
        serving_at,
        actions,
    )
    return Run(capacity_at.T, serving_at.T, actions)  # policy-major in memory, (steps, policies) to read
