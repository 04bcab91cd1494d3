"""The simulated fleet every engine drives, one policy at a time or many at once.

Each step of ``step`` seconds goes the same way for every cloud:

1. instances whose boot time (``boot_seconds``, the same for every cloud) has passed begin to serve;
2. the fleet serves the step's demand (instance-units) with its serving instances:
   CPU = min(100, 100 * demand / serving), the metric every engine reads;
3. the engine decides a new desired capacity from what it saw;
4. a scale-out launches instances that serve after ``boot_seconds`` (at least one
   step); a scale-in removes still-booting instances first, newest first, then
   serving ones. Billing counts every instance in the capacity.

Boot time is a property of the instance type and image, not of the autoscaler:
:data:`DEFAULT_BOOT_SECONDS` unless ``simulate(boot_seconds=...)`` says otherwise.
Each cloud's own knob about new instances (AWS instance warmup, GCE initialization
period, the HPA's initial readiness delay) is the time, from launch, during which
the *autoscaler* leaves a new instance out of its metric and its count
(:class:`Launches`); an instance past that time but still booting reports 0 % CPU.

:func:`run_reference` does this for one reference engine in plain Python (the
specification); each engine's ``simulate_many`` does the same for many policies in a
compiled loop (``clusterdb_nb.autoscaling.kernels``) and records capacity and serving
per step as small unsigned counts (a :class:`Run`).

    >>> capacity, serving, activities = run_reference(engine, demand, step=60, initial=2, boot_seconds=60)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..errors import ValidationError
from ..models import AutoScalingConfig

__all__ = [
    "compact_dtype",
    "counted_load",
    "cpu_percent",
    "DEFAULT_BOOT_SECONDS",
    "EPS",
    "fleet_cpu",
    "Launches",
    "Policies",
    "ReferenceEngine",
    "Run",
    "run_reference",
    "startup_steps",
    "steps_within",
]

EPS = 1e-9  # a recommendation of 2.0000000001 instances is 2, not 3
DEFAULT_BOOT_SECONDS = 60  # launch to serving of a typical Linux VM image (inferred; clouds quote 30-90 s)


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


def startup_steps(seconds: float, step: int) -> int:
    """Steps until an instance launched at a decision serves: ceil(seconds / step), at least one."""
    return max(1, -(-int(seconds) // step))


def steps_within(window: int, step: int, inclusive: bool = False) -> int:
    """How many samples ``j * step`` back from now (j = 0, 1, ...) are ``< window`` (``<= window``) seconds old."""
    return window // step + 1 if inclusive else -(-window // step)


def counted_load(demand: float, serving: int, counted: int) -> float | None:
    """C * M: the CPU % the autoscaler sums over the ``counted`` instances it sees (None: it sees none).

    The fleet's CPU is spread over its ``serving`` instances; a counted instance that does not serve
    yet reports 0 %; the counted ones that serve are the oldest, min(serving, counted) of them.
    """
    if counted <= 0:
        return None
    cpu = fleet_cpu(demand, serving)
    return 0.0 if cpu is None else cpu * min(serving, counted)


class Launches:
    """A reference engine's own record of the instances it launched, to leave out those launched less than
    ``seconds`` ago (AWS instance warmup, GCE initialization period, HPA initial readiness delay)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.recent: list[list[float]] = []  # [launch time, instances], oldest first

    def new(self, now: float) -> int:
        """Instances launched less than ``seconds`` before ``now``."""
        while self.recent and self.recent[0][0] <= now - self.seconds:
            self.recent.pop(0)
        return int(sum(c for _, c in self.recent))

    def resized(self, now: float, capacity: int, new: int) -> None:
        """Record a decision: a launch, or a scale-in (which removes the newest instances first)."""
        if new > capacity and self.seconds > 0:
            self.recent.append([now, new - capacity])
        remove = float(capacity - new)
        while remove > 0 and self.recent:
            take = min(remove, self.recent[-1][1])
            self.recent[-1][1] -= take
            remove -= take
            if self.recent[-1][1] == 0:
                self.recent.pop()


class ReferenceEngine(Protocol):
    """A per-step engine: the readable specification of one cloud's autoscaler."""

    def decide(self, now: float, demand: float, capacity: int, serving: int) -> tuple[int, str]:
        """The desired capacity after seeing ``demand`` at ``now``, and why it changed ("" if it did not)."""
        ...


def run_reference(
    engine: ReferenceEngine, demand: np.ndarray, step: int, initial: int, boot_seconds: float = DEFAULT_BOOT_SECONDS
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int, str]]]:
    """Capacity and serving instances per step, and each change as (step, from, to, reason)."""
    delay = startup_steps(boot_seconds, step)
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
    """What a compiled engine did: capacity and serving instances per step (rows) and policy
    (columns), as compact integers, and the number of scaling actions per policy."""

    capacity: np.ndarray
    serving: np.ndarray
    actions: np.ndarray


def compact_dtype(ceiling: float) -> type[np.integer]:
    """The smallest unsigned integer type that holds counts up to ``ceiling``."""
    return next(d for d in (np.uint8, np.uint16, np.uint32, np.int64) if ceiling <= np.iinfo(d).max)
