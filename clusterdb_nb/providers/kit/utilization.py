"""Utilization frames from a cloud's metric series (CloudWatch, Cloud Monitoring, Azure Monitor).

An adapter reads its cloud's metrics into ``pandas.Series`` on a UTC index,
one per metric (fleet) or per instance, and these build the frames every
cloud returns. Capacity metrics are sparse (a point when they change, or
gaps), so they are carried forward between points::

    >>> t = pd.date_range("2026-03-01", periods=3, freq="5min", tz="UTC")
    >>> cpu, running = pd.Series([40.0, 55.0, 60.0], t), pd.Series([2.0], t[:1])
    >>> fleet_frame(cpu, running, pd.Series(dtype=float), "web", "gcp")["running"].tolist()
    [2, 2, 2]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ... import frames

__all__ = ["fleet_frame", "instance_frame"]


def fleet_frame(cpu: pd.Series, running: pd.Series, desired: pd.Series, fleet: str, provider: str) -> pd.DataFrame:
    """``frames.UTILIZATION`` from a fleet's CPU %, running-instance and desired-capacity series.

    Capacities are carried forward between datapoints; periods before the
    first running datapoint are left out; without desired-capacity
    datapoints the desired capacity is taken to be the running count.
    """
    df = pd.DataFrame({"cpu": cpu, "running": running, "desired": desired}).sort_index()
    df[["running", "desired"]] = df[["running", "desired"]].ffill()
    df = df.dropna(subset=["running"])
    n = len(df)
    return frames.frame(
        frames.UTILIZATION,
        {
            "time": df.index,
            "fleet": [fleet] * n,
            "provider": [provider] * n,
            "cpu_percent": df["cpu"].round(3).to_numpy(),
            "running": np.rint(df["running"].to_numpy()).astype("int64"),
            "desired_capacity": np.rint(df["desired"].fillna(df["running"]).to_numpy()).astype("int64"),
        },
    )


def instance_frame(cpu: Mapping[str, pd.Series], fleet: str, provider: str) -> pd.DataFrame:
    """``frames.INSTANCE_UTILIZATION`` from each instance's CPU % series, by instance id then time."""
    parts = []
    for iid, series in sorted(cpu.items()):
        s = series.sort_index()
        if len(s):
            parts.append(pd.DataFrame({"time": s.index, "instance_id": iid, "cpu_percent": s.round(3).to_numpy()}))
    return frames.instance_utilization(parts, fleet, provider)
