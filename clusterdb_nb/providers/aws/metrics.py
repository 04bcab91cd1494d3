"""Utilization from CloudWatch GetMetricData, in the local cloud's DataFrame shape.

Per fleet: ``AWS/EC2 CPUUtilization`` averaged over the group
(``AutoScalingGroupName``), beside the group metrics
``GroupInServiceInstances`` (our ``running``) and ``GroupDesiredCapacity``
(which the provider enables on every group it creates)::

    >>> queries = fleet_queries("web", period_seconds("5min"))
    >>> [q["Id"] for q in queries]
    ['cpu', 'running', 'desired']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ... import durations
from ...errors import ValidationError
from ..kit import utilization

__all__ = ["fleet_frame", "fleet_queries", "instance_frame", "instance_queries", "MAX_QUERIES", "period_seconds"]

MAX_QUERIES = 500  # GetMetricData's limit per request


def period_seconds(period: str) -> int:
    """A pandas frequency as a CloudWatch period: whole minutes (CloudWatch's standard resolution)."""
    seconds = durations.period_length(period, fixed=True).total_seconds()
    if seconds < 60 or seconds % 60:
        raise ValidationError(
            f"period: CloudWatch periods are whole minutes such as '1min' or '5min' (got {period!r})",
            field="period",
            rule="multiple of 60 seconds",
        )
    return int(seconds)


def _query(qid: str, namespace: str, metric: str, dimension: tuple[str, str], period: int) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}],
            },
            "Period": period,
            "Stat": "Average",
        },
    }


def fleet_queries(fleet: str, period: int) -> list[dict[str, Any]]:
    """CPU, in-service and desired-capacity queries for the group ``fleet``."""
    group = ("AutoScalingGroupName", fleet)
    return [
        _query("cpu", "AWS/EC2", "CPUUtilization", group, period),
        _query("running", "AWS/AutoScaling", "GroupInServiceInstances", group, period),
        _query("desired", "AWS/AutoScaling", "GroupDesiredCapacity", group, period),
    ]


def instance_queries(instance_ids: list[str], period: int) -> list[dict[str, Any]]:
    """One CPU query per instance, with ids ``i0``, ``i1`` ... in the order given."""
    return [_query(f"i{n}", "AWS/EC2", "CPUUtilization", ("InstanceId", iid), period) for n, iid in enumerate(instance_ids)]


def _series(results: list[dict[str, Any]]) -> dict[str, pd.Series]:
    """Query id -> its values on a UTC index, pages merged."""
    parts: dict[str, list[pd.Series]] = {}
    for r in results:
        index = pd.DatetimeIndex(pd.to_datetime(list(r["Timestamps"]), utc=True))
        parts.setdefault(r["Id"], []).append(pd.Series(np.asarray(r["Values"], dtype=float), index=index))
    return {qid: pd.concat(s).sort_index() for qid, s in parts.items()}


def fleet_frame(results: list[dict[str, Any]], fleet: str, provider: str) -> pd.DataFrame:
    """``frames.UTILIZATION`` from fleet_queries' results (capacities carried forward, see ``kit.utilization``)."""
    series = _series(results)
    empty = pd.Series(dtype=float)
    return utilization.fleet_frame(
        series.get("cpu", empty), series.get("running", empty), series.get("desired", empty), fleet, provider
    )


def instance_frame(results: list[dict[str, Any]], instance_ids: list[str], fleet: str, provider: str) -> pd.DataFrame:
    """``frames.INSTANCE_UTILIZATION`` from instance_queries' results, by instance then time."""
    series = _series(results)
    return utilization.instance_frame(
        {iid: series[f"i{n}"] for n, iid in enumerate(instance_ids) if f"i{n}" in series}, fleet, provider
    )
