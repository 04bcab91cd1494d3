"""Compiled loops (numba) behind the tuner: one pass per policy, no steps x policies temporaries.

Imported on first use (``import clusterdb_nb`` does not load numba); compiled once and cached
on disk next to this file.
"""

from __future__ import annotations

import numba
import numpy as np

BINS = 4096  # histogram bins over 0-100 % that find the 95th percentile without sorting


@numba.njit(cache=True)
def _kth(values: np.ndarray, k: int, counts: np.ndarray) -> float:
    """The k-th smallest (0-based) of ``values`` (all in [0, 100]): a histogram, then the one bin sorted."""
    counts[:] = 0
    scale = (BINS - 1) / 100.0
    for v in values:
        counts[int(v * scale)] += 1
    seen, b = 0, 0
    while seen + counts[b] <= k:
        seen += counts[b]
        b += 1
    inside = np.empty(counts[b])
    j = 0
    for v in values:
        if int(v * scale) == b:
            inside[j] = v
            j += 1
    inside.sort()
    return inside[k - seen]


@numba.njit(cache=True)
def summaries(
    capacity: np.ndarray,
    serving: np.ndarray,
    demand100: np.ndarray,
    target: np.ndarray,
    out: np.ndarray,
) -> None:
    """Per policy: capacity-steps, steps above target, steps saturated and the 95th percentile of
    utilization (numpy's "linear" percentile: (n - 1) * 0.95 between two order statistics)."""
    n, count = serving.shape
    util = np.empty(n)
    counts = np.zeros(BINS, dtype=np.int64)
    virtual = (n - 1) * 0.95
    below = int(np.floor(virtual))
    above = min(below + 1, n - 1)
    gamma = virtual - below
    for p in range(count):
        total, hot, full = 0.0, 0, 0
        for t in range(n):
            s, d = serving[t, p], demand100[t]
            total += capacity[t, p]
            u = min(d / s, 100.0) if s > 0 else (100.0 if d > 0 else 0.0)
            util[t] = u
            hot += u > target[p]
            full += u >= 100.0
        a = _kth(util, below, counts)
        b = a if above == below else _kth(util, above, counts)
        diff = b - a
        out[0, p], out[1, p], out[2, p] = total, hot, full
        out[3, p] = b - diff * (1.0 - gamma) if gamma >= 0.5 else a + diff * gamma
