"""Cloud Monitoring series (REST ``projects.timeSeries.list``) as the kit's utilization frames.

CPU is ``compute.googleapis.com/instance/cpu/utilization`` (a 0..1 gauge per instance, selected by the
fleet's label); a group's size is ``compute.googleapis.com/instance_group/size``, which also gives
the scaling activities (each change of size)::

    >>> query(CPU, 'metadata.user_labels."clusterdb-fleet" = "web"', lo, hi, 300)["aggregation.alignmentPeriod"]
    '300s'
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ... import durations, frames
from ...errors import ValidationError
from ..kit.utilization import fleet_frame, instance_frame

__all__ = ["activities", "period_seconds", "query", "series", "utilization"]

CPU = "compute.googleapis.com/instance/cpu/utilization"
SIZE = "compute.googleapis.com/instance_group/size"


def period_seconds(period: str) -> int:
    """A pandas frequency as an alignment period: whole minutes (Compute Engine samples every 60 s)."""
    seconds = durations.period_length(period, fixed=True).total_seconds()
    if seconds < 60 or seconds % 60:
        raise ValidationError(
            f"period: Cloud Monitoring alignment periods here are whole minutes such as '1min' or '5min' (got {period!r})",
            field="period",
            rule="multiple of 60 seconds",
        )
    return int(seconds)


def query(metric: str, selector: str, lo: pd.Timestamp, hi: pd.Timestamp, period: int) -> dict[str, str]:
    """The query string of one ``timeSeries.list`` call, aligned to the mean of each period."""
    return {
        "filter": f'metric.type = "{metric}" AND {selector}',
        "interval.startTime": lo.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "interval.endTime": hi.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aggregation.alignmentPeriod": f"{period}s",
        "aggregation.perSeriesAligner": "ALIGN_MEAN",
    }


def series(item: dict[str, Any]) -> pd.Series:
    """One TimeSeries' points as floats on their end times (UTC), oldest first."""
    points = item.get("points", [])
    values = [float(next(iter(p["value"].values()))) for p in points]
    index = pd.to_datetime([p["interval"]["endTime"] for p in points], utc=True)
    return pd.Series(values, index=index, dtype=float).sort_index()


def utilization(cpu: list[dict[str, Any]], size: list[dict[str, Any]], fleet: str, provider: str, by: str) -> pd.DataFrame:
    """The fleet's (mean over instances) or each instance's CPU %, with the group's size as running and desired."""
    per_instance = {i["metric"]["labels"]["instance_name"]: series(i) * 100.0 for i in cpu}
    if by == "instance":
        return instance_frame(per_instance, fleet, provider)
    if not per_instance:
        return frames.frame(frames.UTILIZATION, [])
    mean = pd.concat(per_instance.values(), axis=1).mean(axis=1)
    sizes = series(size[0]) if size else pd.Series(dtype=float)
    return fleet_frame(mean, sizes, sizes, fleet, provider)


def activities(size: list[dict[str, Any]], fleet: str, provider: str, reason: str, since: pd.Timestamp | None) -> pd.DataFrame:
    """``frames.SCALING_ACTIVITIES``: one row per change of the group's size; ``reason`` from ``since`` (the
    autoscaler's creation) on, ``"resize"`` before it."""
    s = series(size[0]) if size else pd.Series(dtype=float)
    changed = s[s.diff().fillna(0) != 0]
    before = s.shift(1)[changed.index]
    return frames.frame(
        frames.SCALING_ACTIVITIES,
        {
            "time": changed.index,
            "fleet": [fleet] * len(changed),
            "provider": [provider] * len(changed),
            "from_capacity": before.astype("int64").to_numpy(),
            "to_capacity": changed.astype("int64").to_numpy(),
            "reason": [reason if since is not None and t >= since else "resize" for t in changed.index],
        },
    )
