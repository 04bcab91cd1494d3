"""Tune a whole estate: every fleet on its own history, one table, optionally on a cluster.

    >>> table = tune_many({"web": web_trace, "api": {"trace": api_trace, "instance_type": "m5.large"}},
    ...                   targets=[50, 60, 70], cooldowns=[60, 300], max_capacity=20, provider="aws")
    >>> from distributed import Client
    >>> table = tune_many(traces, ..., executor=Client("tcp://scheduler:8786").get_executor())

A fleet's entry is its trace, or a dict of its trace and its own arguments of
:func:`~clusterdb_nb.autoscaling.tune` (``provider``, ``instance_type``,
``observed_capacity``, ...) plus ``current``, its policy today, against which the
savings are reckoned. Any ``concurrent.futures.Executor`` runs the fleets in
parallel: a ``ProcessPoolExecutor`` on one machine, a Dask cluster
(``distributed.Client(...).get_executor()``) or Ray's executor beyond it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import Executor, as_completed
from typing import Any

import pandas as pd

from .. import frames
from ..errors import ComputeError, ValidationError
from ..models import AutoScalingConfig
from .simulate import as_policy, simulate
from .tune import tune

__all__ = ["ENGINE_OF", "ESTATE", "FIGURES", "session_entries", "tune_fleet", "tune_fleets", "tune_many"]

ESTATE: frames.Schema = {
    "fleet": "str",
    "provider": "str",
    "target_cpu_utilization": "float64",
    "cooldown_seconds": "int64",
    "min_capacity": "int64",
    "max_capacity": "int64",
    "instance_hours": "float64",
    "cost_usd": "float64",
    "minutes_saturated": "float64",
    "minutes_above_target": "float64",
    "p95_utilization": "float64",
    "scaling_actions": "int64",
    "meets_slo": "bool",
    "binding": "str",
    "current_instance_hours": "float64",
    "current_cost_usd": "float64",
    "current_meets_slo": "bool",
    "savings_usd": "float64",
    "savings_percent": "float64",
    "reason": "str",
    "notes": "str",
    "error": "str",
}
FIGURES = ("instance_hours", "cost_usd", "minutes_saturated", "minutes_above_target", "p95_utilization", "scaling_actions")


def tune_fleet(fleet: str, entry: Any, common: dict[str, Any]) -> tuple[Any, ...]:
    """One row of :data:`ESTATE` for ``fleet`` (a plain function, so that any executor can ship it)."""
    given = dict(entry) if isinstance(entry, Mapping) else {"trace": entry}
    args = {**common, **given}
    trace, current = args.pop("trace", None), args.pop("current", None)
    provider = str(args.get("provider", "aws"))
    try:
        if trace is None:
            raise ValidationError(f"traces.{fleet}: a fleet's dict needs its 'trace'", field=f"traces.{fleet}", rule="trace")
        result = tune(trace, progress=False, **args)
        row = result.table[result.table["recommended"]].iloc[0]
        figures = [row[c] for c in FIGURES]
        policy = [row["target_cpu_utilization"], row["cooldown_seconds"], row["min_capacity"], row["max_capacity"]]
        now_hours = now_cost = savings = percent = math.nan
        now_ok = False
        if current is not None:
            keep = {k: v for k, v in args.items() if k not in ("targets", "cooldowns", "min_capacity", "max_capacity", "slo")}
            today = simulate(trace, as_policy(current), **keep).summary
            now_hours, now_cost = today.instance_hours, today.cost_usd
            now_ok = all(getattr(today, column) <= limit + 1e-9 for column, limit in result.limits.items())
            savings = now_cost - row["cost_usd"]
            base, new = (now_cost, row["cost_usd"]) if not math.isnan(now_cost) else (now_hours, row["instance_hours"])
            percent = 100.0 * (base - new) / base if base else math.nan
        binding, reason, notes = ", ".join(result.binding), result.reason, "; ".join(result.notes)
        return (fleet, provider, *policy, *figures, bool(row["meets_slo"]), binding, now_hours, now_cost, now_ok, savings,
                percent, reason, notes, "")  # fmt: skip
    except ComputeError as exc:
        return (fleet, provider, math.nan, 0, 0, 0, *[math.nan] * 5, 0, False, "", math.nan, math.nan, False, math.nan,
                math.nan, "", "", str(exc))  # fmt: skip


def tune_fleets(
    session: Any, start: Any = None, end: Any = None, period: str = "5min", executor: Executor | None = None, **common: Any
) -> pd.DataFrame:
    """``s.tune_fleets()``: :func:`tune_many` over a session's fleets, each on its own utilization."""
    return tune_many(session_entries(session, start, end, period, common), executor=executor, **common)


def tune_many(
    traces: Mapping[str, Any],
    current: Mapping[str, AutoScalingConfig] | AutoScalingConfig | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
    **common: Any,
) -> pd.DataFrame:
    """Tune every fleet of ``traces`` ({fleet: trace or dict(trace=..., **its own arguments)}) on its own
    history; one row per fleet: the recommended policy, its cost and SLO figures, and the savings
    against ``current`` (the fleet's policy today: one for all, or {fleet: policy}); negative savings
    mean today's policy is cheaper, and ``current_meets_slo`` says whether it meets the SLO.

    ``common`` are :func:`~clusterdb_nb.autoscaling.tune`'s arguments for every fleet. ``executor``: any
    ``concurrent.futures.Executor`` (None: one after the other, here). A fleet that cannot be tuned
    gets its row with the error, and the others still come back.
    """
    from tqdm.auto import tqdm

    if not isinstance(traces, Mapping) or not traces:
        raise ValidationError("traces: give a non-empty dict {fleet name: trace}", field="traces", rule="non-empty mapping")
    entries = {}
    for fleet, entry in traces.items():
        today = current.get(fleet) if isinstance(current, Mapping) else current
        if today is not None and not (isinstance(entry, Mapping) and "current" in entry):
            entry = {**(entry if isinstance(entry, Mapping) else {"trace": entry}), "current": today}
        entries[str(fleet)] = entry
    show = len(entries) > 1 if progress is None else progress
    bar = tqdm(total=len(entries), desc=f"tuning {len(entries)} fleets", unit="fleet", disable=not show)
    rows: dict[str, tuple[Any, ...]] = {}
    if executor is None:
        for fleet, entry in entries.items():
            rows[fleet] = tune_fleet(fleet, entry, common)
            bar.update()
    else:
        futures = {executor.submit(tune_fleet, fleet, entry, common): fleet for fleet, entry in entries.items()}
        for future in as_completed(futures):
            rows[futures[future]] = future.result()
            bar.update()
    bar.close()
    return frames.frame(ESTATE, [rows[fleet] for fleet in entries])


ENGINE_OF = {"aws": "aws", "gcp": "gcp", "azure": "azure"}  # a provider kind and the autoscaler it runs


def session_entries(session: Any, start: Any, end: Any, period: str, common: dict[str, Any]) -> dict[str, Any]:
    """{fleet: entry} for :func:`tune_many` from a session's fleets: each one's utilization, autoscaler
    (its cloud's; a local fleet's is the local cloud's ``autoscaler``), instance type, bounds and policy
    today (a fleet without one is its fixed capacity)."""
    entries: dict[str, Any] = {}
    for row in session.fleets().itertuples():
        fleet = session.fleet(row.name)
        provider = session.manager.provider(row.provider)
        engine = provider.config.autoscaler if provider.kind == "local" else ENGINE_OF.get(provider.kind, provider.kind)
        today = fleet.auto_scaling
        if today is None and fleet.capacity > 0:
            today = AutoScalingConfig(min_capacity=fleet.capacity, max_capacity=fleet.capacity)
        entry: dict[str, Any] = {
            "trace": session.utilization(row.name, start=start, end=end, period=period),
            "provider": engine,
            "min_capacity": fleet.min_capacity,
            "max_capacity": fleet.max_capacity,
            "current": today,
        }
        if "price_per_hour" not in common:
            entry["instance_type"] = fleet.instance_type
        entries[row.name] = {k: v for k, v in entry.items() if k not in common}
    return entries
