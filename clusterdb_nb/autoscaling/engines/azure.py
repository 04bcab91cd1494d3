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
from collections.abc import Callable
from typing import Any

import numpy as np

from ...models import AutoScalingConfig
from ..fleet import DEFAULT_BOOT_SECONDS, Policies, Run, VectorFleet, fleet_cpu, startup_steps, steps_within
from ..options import AzureOptions, AzureRule

TIME_GRAIN = 60  # seconds of one datapoint of "Percentage CPU" (PT1M)

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "GreaterThan": np.greater,
    "GreaterThanOrEqual": np.greater_equal,
    "LessThan": np.less,
    "LessThanOrEqual": np.less_equal,
}


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
        rules = options.profile(policy.target_cpu_utilization, policy.cooldown_seconds)
        self.scale_out = [r for r in rules if r.direction == "Increase"]
        self.scale_in = [r for r in rules if r.direction == "Decrease"]
        self.window = max(r.time_window for r in rules)
        default = policy.min_capacity if options.default_capacity is None else options.default_capacity
        self.default = self._bounded(default)
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
    """The reference engine's decisions for every policy at once (numpy across policies)."""
    n, count = len(demand), len(policies)
    fleet = VectorFleet(policies.initial, startup_steps(boot_seconds, step), n, float(policies.max_capacity.max()))
    profiles = [options.profile(float(t), int(c)) for t, c in zip(policies.target, policies.cooldown)]
    rules = profiles[0]  # the same rules for every policy; thresholds and cooldowns may differ
    threshold = np.array([[r.threshold for r in prof] for prof in profiles]).T  # (rule, policy)
    cooldown = np.array([[float(r.cooldown or 60) for r in prof] for prof in profiles]).T
    outs = [i for i, r in enumerate(rules) if r.direction == "Increase"]
    ins = [i for i, r in enumerate(rules) if r.direction == "Decrease"]
    kinds = sorted({(steps_within(r.time_window, step), r.time_aggregation) for r in rules})
    kind_of = [kinds.index((steps_within(r.time_window, step), r.time_aggregation)) for r in rules]
    ring = max(w for w, _ in kinds)
    window = _Window(ring, count)
    lo, hi = policies.min_capacity, policies.max_capacity
    default = lo if options.default_capacity is None else np.clip(float(options.default_capacity), lo, hi)
    last_action = np.full(count, -np.inf)
    demand100 = 100.0 * np.asarray(demand, dtype=np.float64)

    def apply(i: int, capacity: np.ndarray) -> np.ndarray:
        r = rules[i]
        if r.type == "ExactCount":
            wanted = np.full(count, float(r.value))
        else:
            change = float(r.value) if r.type == "ChangeCount" else -((-capacity * r.value) // 100)
            wanted = capacity + change if r.direction == "Increase" else capacity - change
        return np.minimum(np.maximum(wanted, lo), hi)

    with np.errstate(divide="ignore", invalid="ignore"):
        for t in range(n):
            fleet.begin(t)
            serving, capacity = fleet.serving, fleet.capacity.copy()
            now = float(t * step)
            window.add(t, np.minimum(demand100[t] / serving, 100.0), serving > 0)
            aggregated = [window.aggregate(t, w, how) for w, how in kinds]
            values = [aggregated[k] for k in kind_of]
            unreadable = np.zeros(count, dtype=bool)
            for v in aggregated:
                unreadable |= np.isnan(v)
            new = np.where(unreadable & (default > capacity), default, capacity)
            fired = np.zeros(count, dtype=bool)
            for i in outs:
                f = ~unreadable & _COMPARE[rules[i].operator](values[i], threshold[i])
                fired |= f
                candidate = apply(i, capacity)
                new = np.where(f & (now >= last_action + cooldown[i]) & (candidate > new), candidate, new)
            if ins:
                agree = ~unreadable & ~fired
                for i in ins:
                    agree &= _COMPARE[rules[i].operator](values[i], threshold[i]) & (now >= rules[i].time_window - TIME_GRAIN)
                if agree.any():
                    planned = np.full(count, -1.0)
                    in_cooldown = np.zeros(count)
                    for i in ins:
                        candidate = apply(i, capacity)
                        better = candidate > planned
                        planned = np.where(better, candidate, planned)
                        in_cooldown = np.where(better, cooldown[i], in_cooldown)
                    trying = agree & (planned < capacity) & (now >= last_action + in_cooldown)
                    chosen = np.full(count, np.nan)
                    for k in range(int((capacity - planned)[trying].max(initial=0))):  # the flapping guard
                        candidate = planned + k
                        flaps = np.zeros(count, dtype=bool)
                        for i in outs:
                            flaps |= _COMPARE[rules[i].operator](values[i] * capacity / candidate, threshold[i])
                        chosen = np.where(trying & np.isnan(chosen) & (candidate < capacity) & ~flaps, candidate, chosen)
                    take = ~np.isnan(chosen)
                    new = np.where(take, chosen, new)
            change = np.flatnonzero(new != capacity)
            if change.size:
                last_action[change] = now
                fleet.resize(t, change, new[change])
    return fleet.run()


class _Window:
    """The last ``ring`` CPU datapoints of every policy, aggregated the way the reference does."""

    def __init__(self, ring: int, count: int) -> None:
        self.ring = ring
        self.values = np.zeros((ring, count))  # CPU, 0 where no data
        self.seen = np.zeros((ring, count))  # 1 where there was data
        self.last = np.full(count, np.nan)  # the latest CPU with data, and when
        self.last_at = np.full(count, -np.inf)

    def add(self, t: int, cpu: np.ndarray, seen: np.ndarray) -> None:
        row = t % self.ring
        self.values[row] = np.where(seen, cpu, 0.0)
        self.seen[row] = seen
        self.last = np.where(seen, cpu, self.last)
        self.last_at = np.where(seen, t, self.last_at)

    def aggregate(self, t: int, n: int, how: str) -> np.ndarray:
        """``how`` over the datapoints of the last ``n`` steps; NaN where there are none."""
        rows = [(t - j) % self.ring for j in range(min(n, t + 1) - 1, -1, -1)]  # oldest first, as the reference adds
        count = self.seen[rows].sum(axis=0)
        if how == "Last":
            return np.where(self.last_at > t - n, self.last, np.nan)
        if how == "Average":
            total = self.values[rows[0]].copy()
            for row in rows[1:]:
                total += self.values[row]
            return np.where(count > 0, total / count, np.nan)
        picked = np.where(self.seen[rows] > 0, self.values[rows], np.inf if how == "Minimum" else -np.inf)
        best = picked.min(axis=0) if how == "Minimum" else picked.max(axis=0)
        return np.where(count > 0, best, np.nan)
