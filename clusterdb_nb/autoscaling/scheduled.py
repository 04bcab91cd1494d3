"""Capacity schedules in a simulation: an engine wrapper that fires them on the trace's timeline.

From the first step at or after a firing, the fleet's capacity is the schedule's and the
policy's bounds are the schedule's (unset ones: the given policy's, widened to hold the capacity,
as ``s.schedule_capacity`` resolves them from the fleet when it creates them), as a scheduled
action sets an Auto Scaling group's DesiredCapacity, MinSize and MaxSize; the cloud's engine
then starts afresh within those bounds, as the local cloud's does::

    >>> night = CapacitySchedule(fleet="web", cron="0 19 * * MON-FRI", capacity=0, timezone="Europe/Berlin")
    >>> simulate(trace, policy, schedules=[night])   # runs through ScheduledEngine
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ValidationError
from ..models import AutoScalingConfig, CapacitySchedule

__all__ = ["as_schedules", "ScheduledEngine"]


def as_schedules(schedules: Any) -> list[CapacitySchedule]:
    """``schedules`` as a list of ``CapacitySchedule`` (dicts of their fields are accepted; the fleet may be left out)."""
    if schedules is None:
        return []
    if isinstance(schedules, (CapacitySchedule, dict)) or not isinstance(schedules, Sequence):
        raise ValidationError(
            f"schedules: expected a list of CapacitySchedule (got {type(schedules).__name__})",
            field="schedules",
            rule="list of CapacitySchedule",
            solution="schedules=[cdb.CapacitySchedule(fleet='web', cron='0 19 * * MON-FRI', capacity=0)]",
        )
    return [s if isinstance(s, CapacitySchedule) else CapacitySchedule(**{"fleet": "simulated", **s}) for s in schedules]


class ScheduledEngine:
    """Wraps a cloud's reference engine; ``make(policy)`` builds a fresh one for new bounds."""

    def __init__(
        self,
        make: Callable[[AutoScalingConfig], Any],
        policy: AutoScalingConfig,
        schedules: list[CapacitySchedule],
        start: pd.Timestamp,
        end: pd.Timestamp,
        step: int,
    ) -> None:
        self.make = make
        self.policy = policy
        self.engine = make(policy)
        self.origin = start.timestamp() + step  # a decision at a step takes effect at the next one
        resolved = [s.with_bounds(*s.bounds_after(policy.min_capacity, policy.max_capacity)) for s in schedules]
        # every firing in the trace's span, in time order: (epoch seconds, schedule)
        fired = [(t.timestamp(), s) for s in resolved for t in s.runs(start - pd.Timedelta(seconds=1), end)]
        fired.sort(key=lambda f: f[0])
        self.times = np.array([f[0] for f in fired])
        self.firings = [f[1] for f in fired]
        self.done = 0

    def decide(self, now: float, demand: float, capacity: int, serving: int) -> tuple[int, str]:
        """The last schedule due by ``now`` sets capacity and bounds; else the engine decides."""
        due = int(np.searchsorted(self.times, self.origin + now, side="right"))
        if due > self.done:
            reasons = []
            for s in self.firings[self.done : due]:
                lo, hi = s.bounds_after(self.policy.min_capacity, self.policy.max_capacity)  # its own, resolved
                self.policy = self.policy._replace(min_capacity=lo, max_capacity=hi)
                capacity = s.capacity
                reasons.append(f"schedule {s.name}: capacity {s.capacity} (bounds [{lo}, {hi}])")
            self.done = due
            self.engine = self.make(self.policy)
            return capacity, "; ".join(reasons)
        return self.engine.decide(now, demand, capacity, serving)  # type: ignore[no-any-return]
