"""Azure Monitor autoscale on a VM scale set ("Percentage CPU" rules).

What Microsoft documents ("Understand autoscale settings", "Autoscale
flapping", REST ``MetricTrigger`` / ``ScaleAction``): a profile has capacity
{minimum, maximum, default} and up to 10 rules; a rule aggregates the metric
over its time window (>= 5 min) and compares it with a threshold; if any
scale-out rule fires, the highest resulting capacity wins; scale-in happens
only when every scale-in rule fires; each action waits its own rule's cooldown
(``ScaleAction.Cooldown``) since the last scaling action, whichever rule took it;
before scaling in, the metric is projected onto the new
count (M * N / N_new) and if that would trigger a scale-out rule a smaller step
is tried, else none; if metrics cannot be read the count goes to ``default``
and never in.

Inferred:

* evaluation once per step (Azure evaluates every 30-60 s), time grain PT1M;
* at the start (of a trace, or of a live policy) a window holds what history
  there is: a scale-out rule acts on it, a scale-in rule waits until its window
  is full (``time_window`` less one time grain of history), as scale-in never
  acts without data;
* when several scale-in rules fire, the one leaving the most instances wins;
  ties go to the first rule, whose cooldown then applies;
* scaling to ``default`` for want of metrics is an action (later ones wait their
  cooldown after it) that waits for no cooldown itself;
* the default rules without ``rules`` (see ``AzureOptions``) and the
  PercentChangeCount rounding (``AzureRule.apply``).

    >>> engine = AzureAutoscale(AutoScalingConfig(target_cpu_utilization=70), AzureOptions())
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from ...models import AutoScalingConfig
from ..fleet import DEFAULT_BOOT_SECONDS, Policies, Run, compact_dtype, fleet_cpu, startup_steps, steps_within
from ..options import AzureOptions, AzureRule

__all__ = ["AGGREGATIONS", "AzureAutoscale", "OPERATORS", "TIME_GRAIN", "autoscale_rules", "default_capacity", "simulate_many"]

TIME_GRAIN = 60  # seconds of one datapoint of "Percentage CPU" (PT1M)

AGGREGATIONS = ("Average", "Minimum", "Maximum", "Last")  # in the kernel's order
OPERATORS = ("GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual")  # in the kernel's order


def autoscale_rules(policy: AutoScalingConfig, options: AzureOptions | None = None) -> list[AzureRule]:
    """The rules of the autoscale profile for ``policy``: what this engine simulates and the Azure adapter deploys.

    >>> [(r.direction, r.operator, r.threshold) for r in autoscale_rules(AutoScalingConfig(target_cpu_utilization=70))]
    [('Increase', 'GreaterThan', 70.0), ('Decrease', 'LessThan', 30.0)]
    """
    return (options or AzureOptions()).profile(policy.target_cpu_utilization, policy.cooldown_seconds)


def default_capacity(policy: AutoScalingConfig, options: AzureOptions | None = None) -> int:
    """The profile's ``default`` capacity (used when metrics cannot be read): the options', else the minimum, bounded."""
    options = options or AzureOptions()
    default = policy.min_capacity if options.default_capacity is None else options.default_capacity
    return min(max(default, policy.min_capacity), policy.max_capacity)


def _projected(value: float, capacity: int, candidate: int) -> float:
    """The metric ``value`` on ``capacity`` instances spread over ``candidate`` instances."""
    if candidate == 0:
        return math.inf if value * capacity > 0 else math.nan
    return value * capacity / candidate


class AzureAutoscale:
    """Reference engine: one autoscale profile, one evaluation per call."""

    def __init__(self, policy: AutoScalingConfig, options: AzureOptions, step: int = 60) -> None:
        self.policy = policy
        self.options = options
        rules = autoscale_rules(policy, options)
        self.scale_out = [r for r in rules if r.direction == "Increase"]
        self.scale_in = [r for r in rules if r.direction == "Decrease"]
        self.window = max(r.time_window for r in rules)
        self.default = default_capacity(policy, options)
        self.history: deque[tuple[float, float | None]] = deque()
        self.last_action = -math.inf
        self.started: float | None = None

    def state(self) -> dict[str, Any]:
        return {"history": [list(h) for h in self.history], "last_action": self.last_action, "started": self.started}

    def restore(self, state: dict[str, Any]) -> None:
        self.history = deque((float(t), v) for t, v in state["history"])
        self.last_action = float(state.get("last_action", -math.inf))
        self.started = state.get("started")

    def _cooled(self, rule: AzureRule, now: float) -> bool:
        """Whether ``rule``'s cooldown since the last scaling action is over."""
        return now >= self.last_action + float(rule.cooldown or 60)

    def _full(self, rule: AzureRule, now: float) -> bool:
        """Whether ``rule``'s window holds a full time window of history (one-minute time grain)."""
        return self.started is not None and now - self.started >= rule.time_window - TIME_GRAIN

    def _bounded(self, capacity: int) -> int:
        return min(max(capacity, self.policy.min_capacity), self.policy.max_capacity)

    def _aggregate(self, rule: AzureRule, now: float) -> float | None:
        values = [v for t, v in self.history if t > now - rule.time_window and v is not None]
        if not values:
            return None
        if rule.time_aggregation == "Average":
            total = 0.0
            for v in values:
                total += v
            return total / len(values)
        if rule.time_aggregation == "Minimum":
            return min(values)
        if rule.time_aggregation == "Maximum":
            return max(values)
        return values[-1]

    def decide(self, now: float, demand: float, capacity: int, serving: int) -> tuple[int, str]:
        if self.started is None:
            self.started = now
        self.history.append((now, fleet_cpu(demand, serving)))
        while self.history[0][0] <= now - self.window:
            self.history.popleft()
        out_values = [self._aggregate(r, now) for r in self.scale_out]
        in_values = [self._aggregate(r, now) for r in self.scale_in]
        if any(v is None for v in out_values + in_values):
            if self.default > capacity:
                self.last_action = now
                return self.default, f"metrics unavailable: scale to the default capacity {self.default}"
            return capacity, ""
        out = [(r, v) for r, v in zip(self.scale_out, out_values) if v is not None and r.fires(v)]
        if out:
            best, rule, value = capacity, None, 0.0
            for r, v in out:
                if self._cooled(r, now) and self._bounded(r.apply(capacity)) > best:
                    best, rule, value = self._bounded(r.apply(capacity)), r, v
            if rule is None:
                return capacity, ""
            self.last_action = now
            condition = f"{rule.time_window // 60} min {rule.operator} {rule.threshold:g}%"
            return best, f"cpu {rule.time_aggregation.lower()} {value:.1f}% over {condition}"
        agree = all(v is not None and r.fires(v) and self._full(r, now) for r, v in zip(self.scale_in, in_values))
        if not self.scale_in or not agree:
            return capacity, ""
        planned, rule = -1, self.scale_in[0]
        for r in self.scale_in:
            if self._bounded(r.apply(capacity)) > planned:
                planned, rule = self._bounded(r.apply(capacity)), r
        if not self._cooled(rule, now):
            return capacity, ""
        for candidate in range(planned, capacity):  # the flapping guard: a smaller step if the planned one would flap
            if not any(r.fires(_projected(v, capacity, candidate)) for r, v in zip(self.scale_out, out_values) if v is not None):
                self.last_action = now
                guard = f" (flapping guard: {candidate} instead of {planned})" if candidate != planned else ""
                return candidate, f"all {len(self.scale_in)} scale-in rule(s) met{guard}"
        return capacity, ""


def simulate_many(
    policies: Policies, options: AzureOptions, demand: np.ndarray, step: int, boot_seconds: float = DEFAULT_BOOT_SECONDS
) -> Run:
    """The reference engine's decisions for every policy (compiled: ``kernels.azure_autoscale``)."""
    from ..kernels import azure_autoscale

    n, count = len(demand), len(policies)
    profiles = [options.profile(float(t), int(c)) for t, c in zip(policies.target, policies.cooldown)]
    rules = profiles[0]  # the same rules for every policy; thresholds and cooldowns may differ
    lo, hi = policies.min_capacity, policies.max_capacity
    default = lo if options.default_capacity is None else np.clip(float(options.default_capacity), lo, hi)
    kinds = sorted({(steps_within(r.time_window, step), AGGREGATIONS.index(r.time_aggregation)) for r in rules})
    kind_of = [kinds.index((steps_within(r.time_window, step), AGGREGATIONS.index(r.time_aggregation))) for r in rules]
    dtype = compact_dtype(float(hi.max(initial=0)))
    capacity_at, serving_at = np.empty((count, n), dtype=dtype), np.empty((count, n), dtype=dtype)
    actions = np.zeros(count, dtype=np.int64)
    azure_autoscale(
        100.0 * np.asarray(demand, dtype=np.float64),
        policies.initial,
        lo,
        hi,
        np.asarray(default, dtype=np.float64),
        np.array([r.direction == "Increase" for r in rules]),
        np.array([OPERATORS.index(r.operator) for r in rules], dtype=np.int64),
        np.array(kind_of, dtype=np.int64),
        np.array([w for w, _ in kinds], dtype=np.int64),
        np.array([how for _, how in kinds], dtype=np.int64),
        np.array([float(r.time_window - TIME_GRAIN) for r in rules]),
        np.array([["ChangeCount", "PercentChangeCount", "ExactCount"].index(r.type) for r in rules], dtype=np.int64),
        np.array([float(r.value) for r in rules]),
        np.array([[r.threshold for r in prof] for prof in profiles]).T.copy(),
        np.array([[float(r.cooldown or 60) for r in prof] for prof in profiles]).T.copy(),
        startup_steps(boot_seconds, step),
        step,
        capacity_at,
        serving_at,
        actions,
    )
    return Run(capacity_at.T, serving_at.T, actions)  # policy-major in memory, (steps, policies) to read
