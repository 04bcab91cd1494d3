"""Kubernetes HorizontalPodAutoscaler (autoscaling/v2) on CPU utilization.

Follows the controller's source, kubernetes/kubernetes
pkg/controller/podautoscaler: ``GetResourceReplicas`` in replica_calculator.go
(utilization is a whole percent of the requests; ratio r = utilization / target;
within the tolerance (0.1) the count is kept, else ceil(r * ready pods); when
scaling up with unready pods those count as 0 % and the direction may not flip)
and horizontal.go: ``normalizeDesiredReplicas`` without ``behavior`` (the highest
recommendation of the last 300 s, a scale-up limit of max(2 * current, 4)) and
``normalizeDesiredReplicasWithBehaviors`` with it (stabilization windows, then
rate policies over their periods); on its first sync the controller records the
current replica count as a recommendation (``recordInitialRecommendation``), so a
fleet does not scale in before a stabilization window has passed; at zero
replicas the HPA does nothing; with no metrics for a ready pod it does nothing
and records no recommendation.

Inferred (modelling choices, see ``KubernetesOptions``): CPU limits equal
requests, so utilization is at most 100 %; a pod is unready while it boots
(``boot_seconds``, serving nothing) and until ``initial_readiness_delay`` after
its creation; one sync per step;
the seed's ``cooldown_seconds`` is the controller's downscale stabilization
window (``--horizontal-pod-autoscaler-downscale-stabilization``, 300 s by
default, as the seed's cooldown is) when the HPA has no ``behavior``.

    >>> engine = HorizontalPodAutoscaler(AutoScalingConfig(target_cpu_utilization=50), KubernetesOptions())
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from ...models import AutoScalingConfig
from ..fleet import DEFAULT_BOOT_SECONDS, Launches, Policies, Run, compact_dtype, fleet_cpu, startup_steps, steps_within
from ..options import HpaScalingRules, KubernetesOptions

__all__ = ["HorizontalPodAutoscaler", "SCALE_UP_LIMIT_FACTOR", "SCALE_UP_LIMIT_MINIMUM", "simulate_many"]

SCALE_UP_LIMIT_FACTOR, SCALE_UP_LIMIT_MINIMUM = 2.0, 4.0


class HorizontalPodAutoscaler:
    """Reference engine: one HPA, one sync per call."""

    def __init__(self, policy: AutoScalingConfig, options: KubernetesOptions, step: int = 60) -> None:
        self.policy = policy
        self.options = options
        self.recommendations: deque[tuple[float, int]] = deque()
        self.scale_up_events: deque[tuple[float, int]] = deque()
        self.scale_down_events: deque[tuple[float, int]] = deque()
        self.started = False
        self.launches = Launches(float(options.initial_readiness_delay))

    def state(self) -> dict[str, Any]:
        return {
            "recommendations": [list(r) for r in self.recommendations],
            "scale_up_events": [list(e) for e in self.scale_up_events],
            "scale_down_events": [list(e) for e in self.scale_down_events],
            "launches": self.launches.recent,
            "started": self.started,
        }

    def restore(self, state: dict[str, Any]) -> None:
        for name in ("recommendations", "scale_up_events", "scale_down_events"):
            setattr(self, name, deque((float(t), int(v)) for t, v in state[name]))
        self.launches.recent = [list(x) for x in state.get("launches", [])]
        self.started = bool(state.get("started", True))

    def replicas_for_metrics(self, cpu: float, capacity: int, ready: int) -> int:
        """``GetResourceReplicas``: the count the metric asks for."""
        target, tolerance = self.policy.target_cpu_utilization, self.options.tolerance
        ratio = int(cpu) / target  # utilization is a whole percent of the requests
        unready = capacity - ready
        if not (unready > 0 and ratio > 1.0):
            if abs(1.0 - ratio) <= tolerance:
                return capacity
            return math.ceil(ratio * ready)
        new_ratio = int(cpu * ready / capacity) / target  # unready pods count as 0 % when scaling up
        if abs(1.0 - new_ratio) <= tolerance or new_ratio < 1.0:
            return capacity
        new = math.ceil(new_ratio * capacity)
        return capacity if new < capacity else new

    def decide(self, now: float, demand: float, capacity: int, serving: int) -> tuple[int, str]:
        if not self.started:  # recordInitialRecommendation
            self.recommendations.append((now, capacity))
            self.started = True
        ready = min(serving, max(capacity - self.launches.new(now), 0))
        cpu = fleet_cpu(demand, serving)
        if capacity == 0 or cpu is None or ready == 0:
            return capacity, ""
        proposed = self.replicas_for_metrics(cpu, capacity, ready)
        if self.options.behavior is None:
            desired = self._normalize(now, capacity, proposed)
        else:
            desired = self._normalize_with_behavior(now, capacity, proposed)
        if desired == capacity:
            return capacity, ""
        self.launches.resized(now, capacity, desired)
        if self.options.behavior is not None:
            events = self.scale_up_events if desired > capacity else self.scale_down_events
            events.append((now, abs(desired - capacity)))
            behavior = self.options.behavior
            longest = max(p.period_seconds for r in (behavior.scale_up, behavior.scale_down) for p in r.policies)
            for events in (self.scale_up_events, self.scale_down_events):
                while events and events[0][0] <= now - longest:
                    events.popleft()
        target = self.policy.target_cpu_utilization
        return desired, f"cpu {int(cpu)}% vs target {target:g}% ({ready} ready of {capacity}): proposed {proposed}"

    def _normalize(self, now: float, capacity: int, proposed: int) -> int:
        """``normalizeDesiredReplicas``: downscale stabilization, then min/max and the scale-up limit."""
        cutoff = now - self.policy.cooldown_seconds  # the downscale stabilization window
        stabilized = max([proposed, *(r for t, r in self.recommendations if t >= cutoff)])
        self.recommendations.append((now, proposed))
        while self.recommendations and self.recommendations[0][0] < cutoff:
            self.recommendations.popleft()
        maximum = min(self.policy.max_capacity, int(max(SCALE_UP_LIMIT_FACTOR * capacity, SCALE_UP_LIMIT_MINIMUM)))
        if stabilized < self.policy.min_capacity:
            return self.policy.min_capacity
        return min(stabilized, maximum)

    def _normalize_with_behavior(self, now: float, capacity: int, proposed: int) -> int:
        """``stabilizeRecommendationWithBehaviors`` then ``convertDesiredReplicasWithBehaviorRate``."""
        behavior = self.options.behavior
        assert behavior is not None
        up_cutoff = now - behavior.scale_up.stabilization_window_seconds
        down_cutoff = now - behavior.scale_down.stabilization_window_seconds
        up, down = proposed, proposed
        for t, r in self.recommendations:
            if t > up_cutoff:
                up = min(r, up)
            if t > down_cutoff:
                down = max(r, down)
        recommendation = min(max(capacity, up), down)
        self.recommendations.append((now, proposed))
        while self.recommendations and self.recommendations[0][0] <= min(up_cutoff, down_cutoff):
            self.recommendations.popleft()
        if recommendation > capacity:
            limit = max(self._limit(now, capacity, behavior.scale_up, +1), capacity)
            return min(recommendation, self.policy.max_capacity, limit)
        if recommendation < capacity:
            limit = min(self._limit(now, capacity, behavior.scale_down, -1), capacity)
            return max(recommendation, self.policy.min_capacity, limit)
        return recommendation

    def _limit(self, now: float, capacity: int, rules: HpaScalingRules, direction: int) -> int:
        """``calculateScaleUpLimitWithScalingRules`` (direction +1) / ``calculateScaleDownLimitWithBehaviors`` (-1)."""
        if rules.select_policy == "Disabled":
            return capacity
        proposals = []
        for policy in rules.policies:
            cutoff = now - policy.period_seconds
            added = sum(c for t, c in self.scale_up_events if t > cutoff)
            deleted = sum(c for t, c in self.scale_down_events if t > cutoff)
            start = capacity - added + deleted
            if policy.type == "Pods":
                proposals.append(start + direction * policy.value)
            elif direction > 0:
                proposals.append(math.ceil(start * (1 + policy.value / 100)))
            else:
                proposals.append(int(start * (1 - policy.value / 100)))
        widest = (rules.select_policy == "Max") == (direction > 0)
        return max(proposals) if widest else min(proposals)


def _rules(rules: HpaScalingRules | None, step: int, direction: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """A direction's rate policies as arrays for the kernel: kinds, values (Percent as the factor 1 +- v/100),
    syncs back each period reaches, and select (0 Max, 1 Min, 2 Disabled)."""
    policies = rules.policies if rules else []
    kinds = np.array([0 if p.type == "Pods" else 1 for p in policies], dtype=np.int64)
    values = np.array([float(p.value) if p.type == "Pods" else 1 + direction * p.value / 100 for p in policies])
    backs = np.array([steps_within(p.period_seconds, step) - 1 for p in policies], dtype=np.int64)
    select = ["Max", "Min", "Disabled"].index(rules.select_policy) if rules else 0
    return kinds, values, backs, select


def simulate_many(
    policies: Policies, options: KubernetesOptions, demand: np.ndarray, step: int, boot_seconds: float = DEFAULT_BOOT_SECONDS
) -> Run:
    """The reference engine's decisions for every policy (compiled: ``kernels.horizontal_pod_autoscaler``)."""
    from ..kernels import horizontal_pod_autoscaler

    n, count = len(demand), len(policies)
    behavior = options.behavior
    if behavior is None:  # earlier syncs that count, per policy: those at most cooldown_seconds old
        rec_back = np.array([steps_within(int(c), step, inclusive=True) - 1 for c in policies.cooldown], dtype=np.int64)
        up_back, up_seed, down_seed = 0, 0.0, 0.0
    else:
        down_window, up_window = behavior.scale_down.stabilization_window_seconds, behavior.scale_up.stabilization_window_seconds
        rec_back = np.full(count, max(steps_within(down_window, step) - 1, 0), dtype=np.int64)
        up_back, up_seed, down_seed = max(steps_within(up_window, step) - 1, 0), float(up_window), float(down_window)
    up = _rules(behavior.scale_up if behavior else None, step, +1)
    down = _rules(behavior.scale_down if behavior else None, step, -1)
    event_ring = int(max(up[2].max(initial=0), down[2].max(initial=0))) + 1
    dtype = compact_dtype(float(policies.max_capacity.max(initial=0)))
    capacity_at, serving_at = np.empty((count, n), dtype=dtype), np.empty((count, n), dtype=dtype)
    actions = np.zeros(count, dtype=np.int64)
    horizontal_pod_autoscaler(
        100.0 * np.asarray(demand, dtype=np.float64),
        policies.initial,
        policies.min_capacity,
        policies.max_capacity,
        policies.target,
        rec_back,
        policies.cooldown,
        max(steps_within(options.initial_readiness_delay, step) - 1, 0),
        startup_steps(boot_seconds, step),
        options.tolerance,
        behavior is not None,
        up_back,
        up_seed,
        down_seed,
        *up,
        *down,
        event_ring,
        step,
        capacity_at,
        serving_at,
        actions,
    )
    return Run(capacity_at.T, serving_at.T, actions)  # policy-major in memory, (steps, policies) to read
