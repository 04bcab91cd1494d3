"""The seeded load model of a local fleet: demand in instance-units over time.

Demand follows a daily cycle with deterministic noise (or a trace the user
attaches); CPU % is demand spread over the running instances, capped at 100.
Every figure is a pure function of (seed, fleet, minute), so any time range
can be computed on demand, vectorized, with no stored samples::

    >>> model = LoadModel.daily(seed=7, fleet="web", base_units=2.5)
    >>> model.demand(np.array([0.0, 3600.0]))
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["LoadModel", "noise", "stable_key"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def noise(key: int, ticks: np.ndarray) -> np.ndarray:
    """Uniform noise in [-1, 1), a pure function of ``key`` and integer ``ticks`` (splitmix64)."""
    with np.errstate(over="ignore"):
        z = ticks.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(key)
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
    noise: np.ndarray = (z >> np.uint64(11)).astype(np.float64) / float(1 << 52) - 1.0
    return noise


def stable_key(*parts: object) -> int:
    """A 63-bit key from ``parts`` that is the same in every process."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


@dataclass(frozen=True)
class LoadModel:
    """``daily``: base·(1 + amplitude·sin(day phase))·(1 + jitter·noise); ``trace``: held samples."""

    kind: str
    key: int
    base_units: float = 1.0
    amplitude: float = 0.35
    jitter: float = 0.08
    peak_hour_utc: float = 15.0
    times: list[float] = field(default_factory=list)
    units: list[float] = field(default_factory=list)

    @classmethod
    def daily(cls, seed: int, fleet: str, base_units: float) -> LoadModel:
        return cls(kind="daily", key=stable_key(seed, fleet), base_units=base_units)

    @classmethod
    def trace(cls, seed: int, fleet: str, times: np.ndarray, units: np.ndarray) -> LoadModel:
        return cls(kind="trace", key=stable_key(seed, fleet), times=[float(t) for t in times], units=[float(u) for u in units])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def demand(self, t: np.ndarray) -> np.ndarray:
        """Fleet demand (instance-units) at epoch seconds ``t``."""
        t = np.asarray(t, dtype=np.float64)
        if self.kind == "trace":
            times = np.asarray(self.times)
            i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
            return np.asarray(self.units)[i]
        phase = 2 * np.pi * ((t / 3600.0 - self.peak_hour_utc) / 24.0 + 0.25)
        minute = np.floor(t / 60.0).astype(np.int64)
        shape = 1.0 + self.amplitude * np.sin(phase)
        return np.maximum(0.0, self.base_units * shape * (1.0 + self.jitter * noise(self.key, minute)))

    def instance_spread(self, instance_key: int, t: np.ndarray) -> np.ndarray:
        """Per-instance factor around 1 (±15 %), so instances of a fleet differ."""
        minute = np.floor(np.asarray(t, dtype=np.float64) / 60.0).astype(np.int64)
        return 1.0 + 0.15 * noise(self.key ^ instance_key, minute)
