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
specification); :class:`VectorFleet` does the same for many policies with numpy,
recording only the changes (a :class:`Run`), so 30 days x 1,000 policies stay small.

    >>> capacity, serving, activities = run_reference(engine, demand, step=60, initial=2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
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


def sized_for(serving: int, cpu: float, target: float) -> int:
    """Instances that bring ``cpu`` % on ``serving`` instances to ``target`` %: ceil(serving * cpu / target)."""
    return math.ceil(serving * cpu / target - EPS)


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
        start = lo.copy() if initial is None else np.broadcast_to(np.asarray(initial, dtype=np.float64), lo.shape).copy()
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

    def config(self, i: int) -> AutoScalingConfig:
        return AutoScalingConfig(
            min_capacity=int(self.min_capacity[i]),
            max_capacity=int(self.max_capacity[i]),
            target_cpu_utilization=float(self.target[i]),
            cooldown_seconds=int(self.cooldown[i]),
        )


@dataclass
class Run:
    """What a vectorized engine did: initial sizes and every change (step, policy, Δcapacity, Δserving).

    A Δcapacity row is one scaling action; it takes effect the step after the decision.
    """

    n_steps: int
    initial: np.ndarray
    step: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    policy: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    d_capacity: np.ndarray = field(default_factory=lambda: np.empty(0))
    d_serving: np.ndarray = field(default_factory=lambda: np.empty(0))

    def timelines(self, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Capacity and serving per step (rows) for the policies ``which`` (columns)."""
        which = np.asarray(which, dtype=np.int64)
        column = np.full(len(self.initial), -1, dtype=np.int64)
        column[which] = np.arange(len(which))
        keep = (column[self.policy] >= 0) & (self.step < self.n_steps)
        rows, cols = self.step[keep], column[self.policy[keep]]
        out = []
        for delta in (self.d_capacity[keep], self.d_serving[keep]):
            grid = np.zeros((self.n_steps, len(which)))
            np.add.at(grid, (rows, cols), delta)
            grid[0] += self.initial[which]
            out.append(np.cumsum(grid, axis=0))
        return out[0], out[1]

    def actions(self) -> np.ndarray:
        """Scaling actions per policy."""
        return np.bincount(self.policy[self.d_capacity != 0], minlength=len(self.initial))


class VectorFleet:
    """P simulated fleets stepped together: the physics of :func:`run_reference`, vectorized."""

    def __init__(self, initial: np.ndarray, delay: np.ndarray, n_steps: int) -> None:
        self.capacity = np.array(initial, dtype=np.float64)
        self.serving = self.capacity.copy()
        self.delay = np.asarray(delay, dtype=np.int64)
        self.n_steps = n_steps
        self._ring = int(self.delay.max(initial=1)) + 1
        self._starting = np.zeros((self._ring, len(self.capacity)))  # instances arriving at step s, in row s % ring
        self._due: set[int] = set()
        self._initial = self.capacity.copy()
        self._log: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def arrive(self, t: int) -> bool:
        """Start-up done at step ``t``: those instances serve from now. True if any did."""
        if t not in self._due:
            return False
        self._due.discard(t)
        row = self._starting[t % self._ring]
        idx = np.flatnonzero(row)
        if not idx.size:
            return False
        self.serving[idx] += row[idx]
        self._log.append((np.full(idx.size, t), idx, np.zeros(idx.size), row[idx].copy()))
        row[idx] = 0.0
        return True

    def resize(self, t: int, idx: np.ndarray, new: np.ndarray) -> None:
        """Policies ``idx`` decided at step ``t`` to hold ``new`` instances (each differs from its capacity)."""
        old = self.capacity[idx]
        up = new > old
        grow, add = idx[up], new[up] - old[up]
        if grow.size:
            arrival = t + self.delay[grow]
            np.add.at(self._starting, (arrival % self._ring, grow), add)
            self._due.update(np.unique(arrival).tolist())
        shrink, remove = idx[~up], old[~up] - new[~up]
        if shrink.size:
            remove = remove.copy()
            for ahead in range(self._ring - 1, 0, -1):  # newest still-starting instances first
                row = (t + ahead) % self._ring
                take = np.minimum(remove, self._starting[row, shrink])
                self._starting[row, shrink] -= take
                remove -= take
            self.serving[shrink] -= remove
        d_serving = np.zeros(idx.size)
        d_serving[~up] = -remove if shrink.size else 0.0
        self._log.append((np.full(idx.size, t + 1), idx.copy(), new - old, d_serving))
        self.capacity[idx] = new

    def run(self) -> Run:
        """The recorded changes."""
        if not self._log:
            return Run(self.n_steps, self._initial)
        steps, idx, d_cap, d_serv = (np.concatenate(parts) for parts in zip(*self._log))
        return Run(self.n_steps, self._initial, steps.astype(np.int64), idx.astype(np.int64), d_cap, d_serv)
