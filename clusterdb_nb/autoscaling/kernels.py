"""Compiled loops (numba) behind the tuner: one pass per policy, no steps x policies temporaries.

Imported on first use (``import clusterdb_nb`` does not load numba); compiled once and cached
on disk next to this file.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["aws_target_tracking", "azure_autoscale", "BINS", "gce_autoscaler", "horizontal_pod_autoscaler", "summaries"]

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
    return float(inside[k - seen])


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
    forecast: np.ndarray,
    lead: int,
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
            floor = 0.0
            if t + lead < n and not np.isnan(forecast[t + lead]):
                floor = np.ceil(100.0 * forecast[t + lead] / goal - eps)
            least = max(lo[p], min(floor, hi[p]))
            counted = max(capacity - recent, 0.0)
            desired = least
            grow = capacity < least
            if counted <= 0:
                high = low = 0
            else:
                cpu = min(100.0, demand100[t] / serving) if serving > 0 else 0.0
                load = cpu * min(serving, counted) if serving > 0 else 0.0
                metric = load / counted if serving < counted else cpu
                high = high + 1 if metric > goal else 0
                low = low + 1 if metric < low_goal else 0
                desired = min(max(np.ceil(load / goal - eps), least), hi[p])
                grow = (high >= high_steps and desired > capacity) or capacity < least
                if not (high >= high_steps and desired > capacity) and capacity < least:
                    desired = least
            if grow:
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


@numba.njit(cache=True)
def _take_newest(ring: np.ndarray, t: int, remove: float) -> float:
    """Take up to ``remove`` instances pending in ``ring`` (row = arrival step % size), newest first; the rest."""
    size = len(ring)
    for ahead in range(size - 1, 0, -1):
        row = (t + ahead) % size
        take = min(remove, ring[row])
        ring[row] -= take
        remove -= take
    return remove


@numba.njit(cache=True)
def _peak(history: np.ndarray, t: int, within: int, seed: float) -> float:
    """The highest recommendation of the last ``within`` steps (the initial size too, while it is that recent)."""
    size = len(history)
    best = seed if t < within else -1.0
    for j in range(min(within, t + 1)):
        best = max(best, history[(t - j) % size])
    return best


@numba.njit(cache=True)
def gce_autoscaler(
    demand100: np.ndarray,
    initial: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    target: np.ndarray,
    init_steps: np.ndarray,
    boot_steps: int,
    mode: int,
    stab_n: int,
    ctrl_n: int,
    ctrl_replicas: float,
    ctrl_percent: float,
    forecast: np.ndarray,
    lead: np.ndarray,
    eps: float,
    capacity_at: np.ndarray,
    serving_at: np.ndarray,
    actions: np.ndarray,
) -> None:
    """``engines.gcp.GceAutoscaler`` for each policy (row of the outputs). ``mode``: 0 ON, 1 ONLY_SCALE_OUT,
    2 OFF; ``ctrl_n`` 0: no scale-in control, else at most ``ctrl_replicas`` (or, if negative,
    ``ctrl_percent`` % of the peak) below the peak of the last ``ctrl_n`` steps."""
    count, n = capacity_at.shape
    ring = max(stab_n, ctrl_n)
    for p in range(count):
        k = init_steps[p]
        booting = np.zeros(boot_steps + 1)
        warming = np.zeros(k + 2)
        history = np.full(ring, -1.0)
        capacity = initial[p]
        serving = capacity
        seed = capacity
        recent = 0.0
        goal = target[p]
        for t in range(n):
            row = t % (boot_steps + 1)
            serving += booting[row]
            booting[row] = 0.0
            row = t % (k + 2)
            recent -= warming[row]
            warming[row] = 0.0
            capacity_at[p, t] = capacity
            serving_at[p, t] = serving
            if mode == 2:
                continue
            counted = max(capacity - recent, 0.0)
            if counted > 0:
                load = min(demand100[t] / serving, 100.0) * min(serving, counted) if serving > 0 else 0.0
                recommended = min(max(np.ceil(load / goal - eps), lo[p]), hi[p])
            else:
                recommended = capacity
            if t + lead[p] < n and not np.isnan(forecast[t + lead[p]]):
                floor = np.ceil(100.0 * forecast[t + lead[p]] / goal - eps)
                if floor > 0:
                    recommended = max(recommended, min(max(floor, lo[p]), hi[p]))
            history[t % ring] = recommended
            if recommended > capacity:
                added = recommended - capacity
                booting[(t + boot_steps) % (boot_steps + 1)] += added
                if k > 0:
                    warming[(t + k + 1) % (k + 2)] += added
                    recent += added
                capacity = recommended
                actions[p] += 1
            elif mode == 0 and recommended < capacity:
                new = _peak(history, t, stab_n, seed)
                if ctrl_n > 0:
                    top = _peak(history, t, ctrl_n, seed)
                    allowed = ctrl_replicas if ctrl_replicas >= 0 else (top * ctrl_percent) // 100
                    new = max(new, top - allowed)
                if new < capacity:
                    remove = capacity - new
                    serving -= _take_newest(booting, t, remove)
                    recent -= remove - _take_newest(warming, t, remove)
                    capacity = new
                    actions[p] += 1


@numba.njit(cache=True)
def _rate_limit(
    ups: np.ndarray,
    downs: np.ndarray,
    t: int,
    capacity: float,
    kinds: np.ndarray,
    values: np.ndarray,
    backs: np.ndarray,
    select: int,
    direction: int,
) -> float:
    """``calculateScaleUpLimitWithScalingRules`` (+1) / ``calculateScaleDownLimitWithBehaviors`` (-1)."""
    if select == 2:  # Disabled
        return capacity
    size = len(ups)
    widest = (select == 0) == (direction > 0)
    best = 0.0
    for i in range(len(kinds)):
        start = capacity
        for j in range(1, min(backs[i], t) + 1):
            start = start - ups[(t - j) % size] + downs[(t - j) % size]
        if kinds[i] == 0:
            proposal = start + direction * values[i]
        elif direction > 0:
            proposal = np.ceil(start * values[i])
        else:
            proposal = np.trunc(start * values[i])
        if i == 0 or (widest and proposal > best) or (not widest and proposal < best):
            best = proposal
    return best


@numba.njit(cache=True)
def horizontal_pod_autoscaler(
    demand100: np.ndarray,
    initial: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    target: np.ndarray,
    rec_back: np.ndarray,
    seed_seconds: np.ndarray,
    ready_steps: int,
    boot_steps: int,
    tolerance: float,
    behaved: bool,
    up_back: int,
    up_seed_seconds: float,
    down_seed_seconds: float,
    up_kinds: np.ndarray,
    up_values: np.ndarray,
    up_backs: np.ndarray,
    up_select: int,
    down_kinds: np.ndarray,
    down_values: np.ndarray,
    down_backs: np.ndarray,
    down_select: int,
    event_ring: int,
    step: int,
    capacity_at: np.ndarray,
    serving_at: np.ndarray,
    actions: np.ndarray,
) -> None:
    """``engines.kubernetes.HorizontalPodAutoscaler`` for each policy (row of the outputs).

    Without ``behaved``: the downscale window is ``rec_back[p]`` syncs back and the initial
    recommendation counts while now <= ``seed_seconds[p]``. With it: ``rec_back[p]`` / ``up_back``
    are the scale-down / scale-up windows, the initial recommendation counts while now is below
    ``down_seed_seconds`` / ``up_seed_seconds``, and the rate policies are the ``up_*`` / ``down_*``
    arrays (kind 0 Pods, 1 Percent, whose value is the factor 1 +- v/100; select 0 Max, 1 Min, 2 Disabled).
    """
    count, n = capacity_at.shape
    k = ready_steps
    for p in range(count):
        ring = max(rec_back[p], up_back) + 1
        recs = np.full(ring, np.nan)
        ups = np.zeros(event_ring)
        downs = np.zeros(event_ring)
        booting = np.zeros(boot_steps + 1)
        warming = np.zeros(k + 2)
        capacity = initial[p]
        serving = capacity
        seed = capacity
        recent = 0.0
        goal = target[p]
        for t in range(n):
            now = float(t * step)
            row = t % (boot_steps + 1)
            serving += booting[row]
            booting[row] = 0.0
            row = t % (k + 2)
            recent -= warming[row]
            warming[row] = 0.0
            capacity_at[p, t] = capacity
            serving_at[p, t] = serving
            ready = min(serving, max(capacity - recent, 0.0))
            valid = capacity > 0 and ready > 0 and serving > 0
            proposed = capacity
            desired = capacity
            if valid:
                cpu = min(demand100[t] / serving, 100.0)
                ratio = np.floor(cpu) / goal
                if capacity - ready > 0 and ratio > 1.0:
                    new_ratio = np.floor(cpu * ready / capacity) / goal
                    grown = np.ceil(new_ratio * capacity)
                    if not (abs(1.0 - new_ratio) <= tolerance or new_ratio < 1.0 or grown < capacity):
                        proposed = grown
                elif not abs(1.0 - ratio) <= tolerance:
                    proposed = np.ceil(ratio * ready)
                if not behaved:
                    highest = proposed
                    for j in range(1, min(rec_back[p], t) + 1):
                        r = recs[(t - j) % ring]
                        if not np.isnan(r):
                            highest = max(highest, r)
                    if now <= seed_seconds[p]:
                        highest = max(highest, seed)
                    maximum = min(hi[p], np.trunc(max(2.0 * capacity, 4.0)))
                    desired = lo[p] if highest < lo[p] else min(highest, maximum)
                else:
                    up = proposed
                    down = proposed
                    for j in range(1, min(ring - 1, t) + 1):
                        r = recs[(t - j) % ring]
                        if not np.isnan(r):
                            if j <= up_back:
                                up = min(up, r)
                            if j <= rec_back[p]:
                                down = max(down, r)
                    if now < up_seed_seconds:
                        up = min(up, seed)
                    if now < down_seed_seconds:
                        down = max(down, seed)
                    desired = min(max(capacity, up), down)
                    if desired > capacity:
                        cap_up = max(_rate_limit(ups, downs, t, capacity, up_kinds, up_values, up_backs, up_select, 1), capacity)
                        desired = min(min(desired, hi[p]), cap_up)
                    elif desired < capacity:
                        cap_down = min(
                            _rate_limit(ups, downs, t, capacity, down_kinds, down_values, down_backs, down_select, -1),
                            capacity,
                        )
                        desired = max(max(desired, lo[p]), cap_down)
            recs[t % ring] = proposed if valid else np.nan
            change = valid and desired != capacity
            ups[t % event_ring] = desired - capacity if change and desired > capacity else 0.0
            downs[t % event_ring] = capacity - desired if change and desired < capacity else 0.0
            if change:
                if desired > capacity:
                    added = desired - capacity
                    booting[(t + boot_steps) % (boot_steps + 1)] += added
                    if k > 0:
                        warming[(t + k + 1) % (k + 2)] += added
                        recent += added
                else:
                    remove = capacity - desired
                    serving -= _take_newest(booting, t, remove)
                    recent -= remove - _take_newest(warming, t, remove)
                capacity = desired
                actions[p] += 1


@numba.njit(cache=True, inline="always")
def _compare(op: int, value: float, threshold: float) -> bool:
    """0 GreaterThan, 1 GreaterThanOrEqual, 2 LessThan, 3 LessThanOrEqual (NaN never compares)."""
    if op == 0:
        return value > threshold
    if op == 1:
        return value >= threshold
    if op == 2:
        return value < threshold
    return value <= threshold


@numba.njit(cache=True, inline="always")
def _aggregate(values: np.ndarray, seen: np.ndarray, t: int, steps: int, how: int, last: float, last_at: float) -> float:
    """0 Average, 1 Minimum, 2 Maximum, 3 Last of the datapoints of the last ``steps`` steps (NaN: none)."""
    if how == 3:
        return last if last_at > t - steps else np.nan
    size, span = len(values), min(steps, t + 1)
    total, found = 0.0, 0
    best = np.inf if how == 1 else -np.inf
    row = (t - span + 1) % size
    for _ in range(span):  # oldest first, as the reference adds
        if seen[row]:
            found += 1
            v = values[row]
            if how == 0:
                total += v
            elif how == 1:
                if v < best:
                    best = v
            elif v > best:
                best = v
        row += 1
        if row == size:
            row = 0
    if found == 0:
        return np.nan
    return total / found if how == 0 else best


@numba.njit(cache=True, inline="always")
def _apply(kind: int, increase: bool, value: float, capacity: float, lo: float, hi: float) -> float:
    """``AzureRule.apply`` within the profile's bounds: 0 ChangeCount, 1 PercentChangeCount, 2 ExactCount."""
    if kind == 2:
        wanted = value
    else:
        change = value if kind == 0 else -((-capacity * value) // 100)
        wanted = capacity + change if increase else capacity - change
    return min(max(wanted, lo), hi)


@numba.njit(cache=True, error_model="numpy")
def azure_autoscale(
    demand100: np.ndarray,
    initial: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    default: np.ndarray,
    increase: np.ndarray,
    ops: np.ndarray,
    kind_of: np.ndarray,
    kind_steps: np.ndarray,
    kind_how: np.ndarray,
    full_after: np.ndarray,
    kinds: np.ndarray,
    values: np.ndarray,
    threshold: np.ndarray,
    cooldown: np.ndarray,
    boot_steps: int,
    step: int,
    capacity_at: np.ndarray,
    serving_at: np.ndarray,
    actions: np.ndarray,
) -> None:
    """``engines.azure.AzureAutoscale`` for each policy (row of the outputs). Rules are indexed along
    the first axis of ``threshold`` / ``cooldown`` (rule, policy); rule i reads the aggregate
    ``kind_of[i]`` (a window length in steps and an aggregation, computed once for the rules that
    share it); a scale-in rule's window is full once now >= ``full_after`` seconds."""
    count, n = capacity_at.shape
    rules = len(ops)
    ring = int(kind_steps.max())
    by_kind = np.empty(len(kind_steps))
    aggregated = np.empty(rules)
    for p in range(count):
        booting = np.zeros(boot_steps + 1)
        cpu_ring = np.zeros(ring)
        seen = np.zeros(ring, dtype=np.bool_)
        last, last_at = np.nan, -np.inf
        last_action = -np.inf
        capacity = initial[p]
        serving = capacity
        thr, wait = threshold[:, p].copy(), cooldown[:, p].copy()
        least, most, fallback = lo[p], hi[p], default[p]
        shortest = wait.min()  # no action of any rule comes sooner after the last one
        boot_row = row = -1
        for t in range(n):
            now = float(t * step)
            boot_row = 0 if boot_row == boot_steps else boot_row + 1
            serving += booting[boot_row]
            booting[boot_row] = 0.0
            capacity_at[p, t] = capacity
            serving_at[p, t] = serving
            row = 0 if row == ring - 1 else row + 1
            if serving > 0:
                cpu = min(demand100[t] / serving, 100.0)
                cpu_ring[row], seen[row] = cpu, True
                last, last_at = cpu, float(t)
            else:
                cpu_ring[row], seen[row] = 0.0, False
            if now < last_action + shortest and fallback <= capacity:
                continue  # every action waits its cooldown and the default needs no raising: nothing can happen
            unreadable = False
            for k in range(len(kind_steps)):
                by_kind[k] = _aggregate(cpu_ring, seen, t, kind_steps[k], kind_how[k], last, last_at)
                unreadable |= np.isnan(by_kind[k])
            for i in range(rules):
                aggregated[i] = by_kind[kind_of[i]]
            new = fallback if unreadable and fallback > capacity else capacity
            fired = False
            if not unreadable:
                for i in range(rules):
                    if increase[i] and _compare(ops[i], aggregated[i], thr[i]):
                        fired = True
                        candidate = _apply(kinds[i], True, values[i], capacity, least, most)
                        if now >= last_action + wait[i] and candidate > new:
                            new = candidate
            if not unreadable and not fired:
                agree, some = True, False
                for i in range(rules):
                    if not increase[i]:
                        some = True
                        agree = agree and _compare(ops[i], aggregated[i], thr[i]) and now >= full_after[i]
                planned, in_cooldown = -1.0, 0.0
                if some and agree:
                    for i in range(rules):
                        if not increase[i]:
                            candidate = _apply(kinds[i], False, values[i], capacity, least, most)
                            if candidate > planned:
                                planned, in_cooldown = candidate, wait[i]
                if some and agree and planned < capacity and now >= last_action + in_cooldown:
                    for k in range(int(capacity - planned)):  # the flapping guard
                        candidate = planned + k
                        flaps = False
                        for i in range(rules):
                            if increase[i]:
                                flaps |= _compare(ops[i], aggregated[i] * capacity / candidate, thr[i])
                        if candidate < capacity and not flaps:
                            new = candidate
                            break
            if new != capacity:
                last_action = now
                if new > capacity:
                    booting[(t + boot_steps) % (boot_steps + 1)] += new - capacity
                else:
                    serving -= _take_newest(booting, t, capacity - new)
                capacity = new
                actions[p] += 1
