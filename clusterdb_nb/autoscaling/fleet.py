"""The simulated fleet every engine drives, one policy at a time or many at once.

Each step of ``step`` seconds goes the same way for every cloud:

1. instances whose start-up delay has passed begin to serve;
2. the fleet serves the step's demand (instance-units) with its serving instances:
   CPU = min(100, 100 * demand / serving), the metric every engine reads;
3. the engine decides a new desired capacity from what it saw;
4. a scale-out launches instances that serve after the engine's start-up delay
   (at least one step); a scale-in removes still-starting instances first, newest
   first, then serving ones. Billing counts every instance in the capacity.

:func:`run_reference` does this for one reference engine in plain Python (the
specification); :class:`VectorFleet` does the same for many policies with numpy and
records capacity and serving per step as small unsigned counts (a :class:`Run`).

    >>> capacity, serving, activities = run_reference(engine, demand, step=60, initial=2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import ValidationError
from ..models import AutoScalingConfig

EPS = 1e-9  # a recommendation of 2.0000000001 instances is 2, not 3


def fleet_cpu(demand: float, serving: int) -> float | None:
    """CPU % of ``serving`` instances carrying ``demand`` instance-units; None when none serve (no data)."""
    if serving <= 0:
        return None
    return min(100.0, 100.0 * demand / serving)


def cpu_percent(demand: np.ndarray, serving: np.ndarray) -> np.ndarray:
    """:func:`fleet_cpu` over arrays: NaN where nothing serves."""
    demand = np.asarray(demand, dtype=np.float64)
    serving = np.asarray(serving, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(serving > 0, np.minimum(100.0, 100.0 * demand / serving), np.nan)


def sized_for(serving: int, demand: float, target: float) -> int:
    """Instances that bring the CPU of ``serving`` instances carrying ``demand`` to ``target`` %: ceil(C * M / T).

    C * M is computed as min(100 * demand, 100 * C) (M is capped at 100 %), the same number without a division.
    """
    return math.ceil(min(100.0 * demand, 100.0 * serving) / target - EPS)


def startup_steps(seconds: float, step: int) -> int:
    """Steps until an instance launched at a decision serves: ceil(seconds / step), at least one."""
    return max(1, -(-int(seconds) // step))


def steps_within(window: int, step: int, inclusive: bool = False) -> int:
    """How many samples ``j * step`` back from now (j = 0, 1, ...) are ``< window`` (``<= window``) seconds old."""
    return window // step + 1 if inclusive else -(-window // step)


class ReferenceEngine(Protocol):
    """A per-step engine: the readable specification of one cloud's autoscaler."""

    startup_seconds: float

    def decide(self, now: float, demand: float, capacity: int, serving: int) -> tuple[int, str]:
        """The desired capacity after seeing ``demand`` at ``now``, and why it changed ("" if it did not)."""
        ...


def run_reference(
    engine: ReferenceEngine, demand: np.ndarray, step: int, initial: int
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int, str]]]:
    """Capacity and serving instances per step, and each change as (step, from, to, reason)."""
    delay = startup_steps(engine.startup_seconds, step)
    n = len(demand)
    capacity_at = np.empty(n, dtype=np.int64)
    serving_at = np.empty(n, dtype=np.int64)
    activities: list[tuple[int, int, int, str]] = []
    capacity = serving = initial
    starting: list[list[int]] = []  # [arrival step, instances], oldest launch first
    for t in range(n):
        while starting and starting[0][0] == t:
            serving += starting.pop(0)[1]
        capacity_at[t], serving_at[t] = capacity, serving
        new, reason = engine.decide(float(t * step), float(demand[t]), capacity, serving)
        if new > capacity:
            starting.append([t + delay, new - capacity])
        elif new < capacity:
            remove = capacity - new
            while remove and starting:  # still-starting instances go first, newest first
                take = min(remove, starting[-1][1])
                starting[-1][1] -= take
                remove -= take
                if starting[-1][1] == 0:
                    starting.pop()
            serving -= remove
        if new != capacity:
            activities.append((t, capacity, new, reason))
        capacity = new
    return capacity_at, serving_at, activities


@dataclass(frozen=True)
class Policies:
    """The seed's policy fields for P policies, as float64 arrays (whole numbers where counts)."""

    min_capacity: np.ndarray
    max_capacity: np.ndarray
    target: np.ndarray
    cooldown: np.ndarray
    initial: np.ndarray

    @classmethod
    def of(cls, configs: Sequence[AutoScalingConfig], initial: Sequence[int] | int | None = None) -> Policies:
        """Policies from configs; ``initial`` capacity defaults to each one's ``min_capacity``."""
        lo = np.array([c.min_capacity for c in configs], dtype=np.float64)
        hi = np.array([c.max_capacity for c in configs], dtype=np.float64)
        try:
            start = lo.copy() if initial is None else np.broadcast_to(np.asarray(initial, dtype=np.float64), lo.shape).copy()
        except (TypeError, ValueError):
            start = np.full(lo.shape, np.nan)
        if not np.array_equal(start, np.floor(start)):
            raise ValidationError(
                f"initial_capacity: must be a whole number of instances (got {initial!r})",
                field="initial_capacity",
                rule="integer",
            )
        bad = np.flatnonzero((start < lo) | (start > hi))
        if bad.size:
            i = int(bad[0])
            raise ValidationError(
                f"initial_capacity: {int(start[i])} is outside the policy's bounds [{int(lo[i])}, {int(hi[i])}]",
                field="initial_capacity",
                rule="min_capacity <= initial_capacity <= max_capacity",
            )
        return cls(
            min_capacity=lo,
            max_capacity=hi,
            target=np.array([c.target_cpu_utilization for c in configs], dtype=np.float64),
            cooldown=np.array([c.cooldown_seconds for c in configs], dtype=np.float64),
            initial=start,
        )

    def __len__(self) -> int:
        return len(self.min_capacity)


@dataclass
class Run:
    """What a vectorized engine did: capacity and serving instances per step (rows) and policy
    (columns), as compact integers, and the number of scaling actions per policy."""

    capacity: np.ndarray
    serving: np.ndarray
    actions: np.ndarray


class VectorFleet:
    """P simulated fleets stepped together: the physics of :func:`run_reference`, vectorized.

    Each step: :meth:`begin` (arrivals, then the step's capacity and serving are recorded),
    then the engine's :meth:`grow` / :meth:`shrink` calls for the policies that change.
    """

    def __init__(self, initial: np.ndarray, delay: np.ndarray, n_steps: int, ceiling: float) -> None:
        count = len(initial)
        self.capacity = np.array(initial, dtype=np.float64)
        self.serving = self.capacity.copy()
        self.delay = np.asarray(delay, dtype=np.int64)
        self._ring = int(self.delay.max(initial=1)) + 1
        self._starting = np.zeros((self._ring, count))  # instances arriving at step s, in row s % ring
        self._due = np.zeros(n_steps + self._ring, dtype=bool)
        dtype = next(d for d in (np.uint8, np.uint16, np.uint32, np.int64) if ceiling <= np.iinfo(d).max)
        self._capacity_at = np.empty((n_steps, count), dtype=dtype)
        self._serving_at = np.empty((n_steps, count), dtype=dtype)
        self._actions = np.zeros(count, dtype=np.int64)

    def begin(self, t: int) -> np.ndarray | None:
        """Start step ``t``: instances whose start-up ends now serve; record the step. The policies that got some."""
        arrived = None
        if self._due[t]:
            row = self._starting[t % self._ring]
            arrived = row.nonzero()[0]
            self.serving[arrived] += row[arrived]
            row[arrived] = 0.0
        self._capacity_at[t] = self.capacity
        self._serving_at[t] = self.serving
        return arrived

    def grow(self, t: int, idx: np.ndarray, new: np.ndarray) -> None:
        """Policies ``idx`` (distinct) launch instances at step ``t`` to reach ``new`` (> capacity)."""
        arrival = t + self.delay[idx]
        self._starting[arrival % self._ring, idx] += new - self.capacity[idx]
        self._due[arrival] = True
        self.capacity[idx] = new
        self._actions[idx] += 1

    def shrink(self, t: int, idx: np.ndarray, new: np.ndarray) -> None:
        """Policies ``idx`` (distinct) remove instances at step ``t`` down to ``new`` (< capacity):
        still-starting ones first, newest first, then serving ones."""
        remove = self.capacity[idx] - new
        if (self.serving[idx] < self.capacity[idx]).any():
            for ahead in range(self._ring - 1, 0, -1):
                row = (t + ahead) % self._ring
                take = np.minimum(remove, self._starting[row, idx])
                self._starting[row, idx] -= take
                remove = remove - take
        self.serving[idx] -= remove
        self.capacity[idx] = new
        self._actions[idx] += 1

    def resize(self, t: int, idx: np.ndarray, new: np.ndarray) -> None:
        """Policies ``idx`` (distinct) decided at step ``t`` to hold ``new`` instances (each differs from its capacity)."""
        up = new > self.capacity[idx]
        if up.any():
            self.grow(t, idx[up], new[up])
        if not up.all():
            self.shrink(t, idx[~up], new[~up])

    def run(self) -> Run:
        return Run(self._capacity_at, self._serving_at, self._actions)
