"""The local cloud's metrics maths: running intervals from the transition log, utilization and instance costs.

Pure functions over what the provider read in one transaction::

    >>> intervals = running_intervals(db, "web", now)        # instance_id, start, end (epoch seconds)
    >>> fleet_utilization("local", "web", model, intervals, events, lo, hi, "5min", "fleet")
"""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np
import pandas as pd

from ... import frames
from ...autoscaling.fleet import cpu_percent
from .load import LoadModel, stable_key

__all__ = ["fleet_utilization", "instance_costs", "per_instance", "running_intervals", "window"]


def running_intervals(db: sqlite3.Connection, fleet: str | None, now: float) -> pd.DataFrame:
    """One row per stretch an instance spent running: instance_id, start, end."""
    sql = "SELECT instance_id, at, state FROM transitions"
    args: tuple[Any, ...] = ()
    if fleet is not None:
        sql += " WHERE fleet = ?"
        args = (fleet,)
    df = pd.DataFrame(
        db.execute(sql + " ORDER BY instance_id, at, seq", args).fetchall(), columns=["instance_id", "start", "state"]
    )
    nxt = df.groupby("instance_id", sort=False)["start"].shift(-1)
    df["end"] = nxt.fillna(now).to_numpy(dtype=float)
    out: pd.DataFrame = df.loc[df["state"] == "running", ["instance_id", "start", "end"]].reset_index(drop=True)
    return out


def window(start: pd.Timestamp | None, end: pd.Timestamp | None, first: float, now: float) -> tuple[float, float]:
    """The asked window within [first, now]; empty (lo == hi) when it lies outside (the manager checks start <= end)."""
    lo = first if start is None else max(pd.Timestamp(start).timestamp(), first)
    hi = now if end is None else min(pd.Timestamp(end).timestamp(), now)
    return min(lo, hi), hi


def fleet_utilization(
    provider: str,
    fleet: str,
    model: LoadModel,
    intervals: pd.DataFrame,
    events: list[tuple[float, int]],
    lo: float,
    hi: float,
    period: str,
    by: str,
) -> pd.DataFrame:
    """``frames.UTILIZATION`` (or per instance, ``by="instance"``) of ``fleet`` from ``lo`` to ``hi``, per ``period``:
    the load model's demand over the running instances, sampled each minute."""
    frames.check_periods(frames.utc([lo])[0], frames.utc([hi])[0], period)
    t = np.arange(np.ceil(lo / 60.0) * 60.0, hi, 60.0)
    starts, ends = np.sort(intervals["start"].to_numpy()), np.sort(intervals["end"].to_numpy())
    running = np.searchsorted(starts, t, side="right") - np.searchsorted(ends, t, side="right")
    ev_at = np.array([e[0] for e in events])
    ev_cap = np.array([e[1] for e in events])
    desired = ev_cap[np.clip(np.searchsorted(ev_at, t, side="right") - 1, 0, None)] if len(events) else np.zeros_like(t)
    cpu = cpu_percent(model.demand(t), running)
    if by == "instance":
        return per_instance(provider, fleet, model, intervals, t, cpu, period)
    df = pd.DataFrame({"cpu_percent": cpu, "running": running, "desired_capacity": desired}, index=frames.utc(t))
    out = (
        df.resample(period).agg({"cpu_percent": "mean", "running": "last", "desired_capacity": "last"}).dropna(subset=["running"])
    )
    return frames.frame(
        frames.UTILIZATION,
        {
            "time": out.index,
            "fleet": [fleet] * len(out),
            "provider": [provider] * len(out),
            "cpu_percent": out["cpu_percent"].round(3).to_numpy(),
            "running": out["running"].to_numpy(),
            "desired_capacity": out["desired_capacity"].to_numpy(),
        },
    )


def per_instance(
    provider: str, fleet: str, model: LoadModel, intervals: pd.DataFrame, t: np.ndarray, cpu: np.ndarray, period: str
) -> pd.DataFrame:
    """Per-instance CPU % (``frames.instance_utilization``): the fleet's ``cpu`` spread over its running members."""
    parts = []
    for iid, spans in intervals.groupby("instance_id", sort=True):
        mask = np.zeros(len(t), dtype=bool)
        for s, e in zip(spans["start"], spans["end"]):
            mask |= (t >= s) & (t < e)
        if not mask.any():
            continue
        values = np.clip(cpu[mask] * model.instance_spread(stable_key(iid), t[mask]), 0.0, 100.0)
        series = pd.Series(values, index=frames.utc(t[mask])).resample(period).mean().dropna()
        parts.append(pd.DataFrame({"time": series.index, "instance_id": iid, "cpu_percent": series.round(3).to_numpy()}))
    return frames.instance_utilization(parts, fleet, provider)


def instance_costs(provider: str, region: str, intervals: pd.DataFrame, info: pd.DataFrame, lo: float, hi: float) -> pd.DataFrame:
    """``frames.COSTS`` rows, one per instance that ran between ``lo`` and ``hi``: its running time at its price."""
    seconds = (intervals["end"].clip(upper=hi) - intervals["start"].clip(lower=lo)).clip(lower=0)
    per = seconds.groupby(intervals["instance_id"]).sum().rename("running_seconds").reset_index()
    df = info.merge(per[per["running_seconds"] > 0], on="instance_id").sort_values(["fleet", "instance_id"], na_position="last")
    n = len(df)
    return frames.frame(
        frames.COSTS,
        {
            "provider": [provider] * n,
            "kind": ["instance"] * n,
            "resource": df["instance_id"].to_numpy(),
            "fleet": df["fleet"].to_numpy(),
            "instance_type": df["instance_type"].to_numpy(),
            "region": [region] * n,
            "spot": df["spot"].astype(bool).to_numpy(),
            "running_seconds": df["running_seconds"].to_numpy(),
            "requests": np.zeros(n, dtype=np.int64),
            "cost_usd": (df["running_seconds"] / 3600.0 * df["price_usd"]).round(9).to_numpy(),
            "source": ["exact"] * n,
        },
    )
