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
    """Per policy (rows of ``capacity`` and ``serving``, steps along a row): capacity-steps, steps above
    target, steps saturated and the 95th percentile of utilization (numpy's "linear" percentile:
    (n - 1) * 0.95 between two order statistics)."""
    count, n = serving.shape
    util = np.empty(n)
    counts = np.zeros(BINS, dtype=np.int64)
    virtual = (n - 1) * 0.95
    below = int(np.floor(virtual))
    above = min(below + 1, n - 1)
    gamma = virtual - below
    for p in range(count):
        total, hot, full = 0.0, 0, 0
        for t in range(n):
            s, d = serving[p, t], demand100[t]
            total += capacity[p, t]
            u = min(d / s, 100.0) if s > 0 else (100.0 if d > 0 else 0.0)
            util[t] = u
            hot += u > target[p]
            full += u >= 100.0
        a = _kth(util, below, counts)
        b = a if above == below else _kth(util, above, counts)
        diff = b - a
        out[0, p], out[1, p], out[2, p] = total, hot, full
        out[3, p] = b - diff * (1.0 - gamma) if gamma >= 0.5 else a + diff * gamma


@numba.njit(cache=True)
def aws_target_tracking(
    demand100: np.ndarray,
    initial: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    target: np.ndarray,
    warm_steps: np.ndarray,
    boot_steps: int,
    high_steps: int,
    low_steps: int,
    disable_scale_in: bool,
    eps: float,
    capacity_at: np.ndarray,
    serving_at: np.ndarray,
    actions: np.ndarray,
) -> None:
    """``engines.aws.AwsTargetTracking`` for each policy (row of the outputs), step by step, with the
    same float operations.

    ``warm_steps[p]``: later decisions at which a launch still warms up (ceil(warmup / step) - 1);
    ``boot_steps``: steps from a launch to serving.
    """
    count, n = capacity_at.shape
    boot_ring = boot_steps + 1
    for p in range(count):
        k = warm_steps[p]
        warm_ring = k + 2
        booting = np.zeros(boot_ring)
        warming = np.zeros(warm_ring)
        capacity = initial[p]
        serving = capacity
        recent = 0.0
        high = low = 0
        goal, low_goal = target[p], 0.9 * target[p]
        for t in range(n):
            row = t % boot_ring
            serving += booting[row]
            booting[row] = 0.0
            row = t % warm_ring
            recent -= warming[row]
            warming[row] = 0.0
            capacity_at[p, t] = capacity
            serving_at[p, t] = serving
            counted = max(capacity - recent, 0.0)
            if counted <= 0:
                high = low = 0
                continue
            cpu = min(100.0, demand100[t] / serving) if serving > 0 else 0.0
            load = cpu * min(serving, counted) if serving > 0 else 0.0
            metric = load / counted if serving < counted else cpu
            high = high + 1 if metric > goal else 0
            low = low + 1 if metric < low_goal else 0
            desired = min(max(np.ceil(load / goal - eps), lo[p]), hi[p])
            if high >= high_steps and desired > capacity:
                added = desired - capacity
                booting[(t + boot_steps) % boot_ring] += added
                if k > 0:
                    warming[(t + k + 1) % warm_ring] += added
                    recent += added
                capacity = desired
                actions[p] += 1
            elif low >= low_steps and desired < capacity and recent == 0 and serving == capacity and not disable_scale_in:
                serving -= capacity - desired
                capacity = desired
                actions[p] += 1
