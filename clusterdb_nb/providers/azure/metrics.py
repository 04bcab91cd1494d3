"""Azure Monitor's "Percentage CPU" of a scale set and of its VMs, as pandas series.

Azure Monitor aggregates metrics over fixed intervals (time grains) only, so a period must be one
of them::

    >>> interval("5min"), timespan(pd.Timestamp("2026-01-05T00:00Z"), pd.Timestamp("2026-01-05T01:00Z"))
    ('PT5M', '2026-01-05T00:00:00Z/2026-01-05T01:00:00Z')
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ... import durations
from ...errors import ValidationError

__all__ = ["interval", "series", "timespan"]

METRIC = "Percentage CPU"
INTERVALS = {60: "PT1M", 300: "PT5M", 900: "PT15M", 1800: "PT30M", 3600: "PT1H", 21600: "PT6H", 43200: "PT12H", 86400: "P1D"}


def interval(period: str) -> str:
    """The ISO-8601 time grain of a pandas period such as ``"5min"``; ValidationError for one Azure lacks."""
    seconds = int(durations.period_length(period, fixed=True).total_seconds())
    if seconds not in INTERVALS:
        raise ValidationError(
            f"period: Azure Monitor aggregates over 1min, 5min, 15min, 30min, 1h, 6h, 12h or 1D only (got {period!r})",
            field="period",
            rule="an Azure Monitor time grain",
        )
    return INTERVALS[seconds]


def timespan(lo: pd.Timestamp, hi: pd.Timestamp) -> str:
    """Azure Monitor's ``timespan``: ``start/end`` in UTC."""
    return f"{lo.strftime('%Y-%m-%dT%H:%M:%SZ')}/{hi.strftime('%Y-%m-%dT%H:%M:%SZ')}"


def series(response: Any) -> pd.Series:
    """The averages of a metrics response's first time series, on a UTC index (periods without data left out)."""
    points = [
        (p.time_stamp, p.average)
        for metric in response.value
        for ts in metric.timeseries or []
        for p in ts.data or []
        if p.average is not None
    ]
    if not points:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC"))
    times, values = zip(*points)
    series: pd.Series[Any] = pd.Series(values, index=pd.DatetimeIndex(pd.to_datetime(list(times), utc=True)), dtype=float)
    return series
