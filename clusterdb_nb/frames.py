"""DataFrame schemas: stable columns and dtypes, the same when empty.

>>> frame(INSTANCES, []).columns.tolist()[:3]
['id', 'fleet', 'provider']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import catalog, durations
from .errors import ValidationError

__all__ = [
    "check_periods",
    "concat",
    "COSTS",
    "costs",
    "ERRORS",
    "FLEETS",
    "frame",
    "FUNCTIONS",
    "INSTANCE_UTILIZATION",
    "instance_utilization",
    "INSTANCES",
    "INVOCATIONS",
    "MAX_PERIODS",
    "SCALING_ACTIVITIES",
    "SCHEDULES",
    "Schema",
    "SIMULATION",
    "TUNING",
    "utc",
    "UTILIZATION",
    "with_price_dates",
]

# dtype "utc" means: epoch seconds (float) or datetimes in, tz-aware UTC out;
# "str" is pandas' default string dtype (``str`` from pandas 3, ``object`` before).
Schema = dict[str, str]
_STRING: Any = "str" if int(pd.__version__.split(".")[0]) >= 3 else "object"

FLEETS: Schema = {
    "id": "str",
    "name": "str",
    "provider": "str",
    "region": "str",
    "instance_type": "str",
    "capacity": "int64",
    "running": "int64",
    "min_capacity": "int64",
    "max_capacity": "int64",
    "spot": "bool",
    "hourly_cost_usd": "float64",
    "target_cpu": "float64",
    "created_at": "utc",
    "description": "str",
    "tags": "object",
}
INSTANCES: Schema = {
    "id": "str",
    "fleet": "str",
    "provider": "str",
    "region": "str",
    "instance_type": "str",
    "state": "str",
    "spot": "bool",
    "hourly_cost_usd": "float64",
    "launched_at": "utc",
    "state_since": "utc",
    "private_ip": "str",
    "tags": "object",
}
FUNCTIONS: Schema = {
    "id": "str",
    "name": "str",
    "provider": "str",
    "runtime": "str",
    "handler": "str",
    "memory_mb": "int64",
    "timeout_sec": "int64",
    "version": "int64",
    "code_sha256": "str",
    "updated_at": "utc",
}
# One row per function invocation; billed_ms and cost_usd follow the provider's billing rule.
INVOCATIONS: Schema = {
    "request_id": "str",
    "function": "str",
    "version": "int64",
    "provider": "str",
    "started_at": "utc",
    "status": "str",
    "error_type": "str",
    "error_message": "str",
    "cold_start": "bool",
    "duration_ms": "float64",
    "init_ms": "float64",
    "billed_ms": "int64",
    "memory_mb": "int64",
    "memory_used_mb": "int64",
    "request_bytes": "int64",
    "response_bytes": "int64",
    "cost_usd": "float64",
    "logs": "str",
}
# One row per billed resource: kind "instance" (resource = instance id) or "function"
# (resource = function name; running_seconds = billed duration, requests = invocations).
COSTS: Schema = {
    "provider": "str",
    "kind": "str",
    "resource": "str",
    "fleet": "str",
    "instance_type": "str",
    "region": "str",
    "spot": "bool",
    "running_seconds": "float64",
    "requests": "int64",
    "cost_usd": "float64",
    "source": "str",
}
UTILIZATION: Schema = {
    "time": "utc",
    "fleet": "str",
    "provider": "str",
    "cpu_percent": "float64",
    "running": "int64",
    "desired_capacity": "int64",
}
INSTANCE_UTILIZATION: Schema = {
    "time": "utc",
    "fleet": "str",
    "provider": "str",
    "instance_id": "str",
    "cpu_percent": "float64",
}
SCALING_ACTIVITIES: Schema = {
    "time": "utc",
    "fleet": "str",
    "provider": "str",
    "from_capacity": "int64",
    "to_capacity": "int64",
    "reason": "str",
}
# Capacity schedules: bounds are nullable ("Int64") where a cloud does not state them; next_run in UTC.
SCHEDULES: Schema = {
    "fleet": "str",
    "name": "str",
    "provider": "str",
    "cron": "str",
    "timezone": "str",
    "capacity": "int64",
    "min_capacity": "Int64",
    "max_capacity": "Int64",
    "next_run": "utc",
}
# What-if autoscaling (clusterdb_nb.autoscaling): one row per simulated step, and one per tuned policy.
SIMULATION: Schema = {
    "time": "utc",
    "demand": "float64",
    "capacity": "int64",
    "serving": "int64",
    "utilization": "float64",
    "saturated": "bool",
}
TUNING: Schema = {
    "target_cpu_utilization": "float64",
    "cooldown_seconds": "int64",
    "min_capacity": "int64",
    "max_capacity": "int64",
    "instance_hours": "float64",
    "cost_usd": "float64",
    "minutes_above_target": "float64",
    "minutes_saturated": "float64",
    "scaling_actions": "int64",
    "p95_utilization": "float64",
    "meets_slo": "bool",
    "pareto": "bool",
    "recommended": "bool",
}
ERRORS: Schema = {
    "time": "utc",
    "provider": "str",
    "operation": "str",
    "error": "str",
    "message": "str",
    "cause": "str",
    "solution": "str",
}


# The most rows a time-bucketed query may produce, so a typo in ``period`` cannot exhaust memory.
MAX_PERIODS = 100_000
_COARSER = ("1min", "5min", "15min", "1h", "6h", "1D", "7D", "30D", "365D")


def check_periods(start: pd.Timestamp, end: pd.Timestamp, period: str, limit: int = MAX_PERIODS) -> int:
    """How many ``period`` buckets span ``start``..``end``; more than ``limit`` is a ValidationError naming a coarser one."""
    length = durations.period_length(period)
    count = int((end - start) / length) + 1
    if count > limit:
        coarser = next((p for p in _COARSER if (end - start) / pd.Timedelta(p) < limit), _COARSER[-1])
        raise ValidationError(
            f"period: {period!r} over {end - start} makes {count:,} periods, more than {limit:,}",
            field="period",
            rule=f"at most {limit:,} periods",
            solution=f"Use a coarser period such as {coarser!r}, or a shorter start..end window",
        )
    return count


def utc(values: Any) -> pd.DatetimeIndex:
    """Epoch seconds or datetimes as a tz-aware UTC index."""
    arr = np.asarray(values)
    index: pd.DatetimeIndex
    if arr.dtype.kind in "fiu":
        index = pd.to_datetime(arr.astype("float64"), unit="s", utc=True)
    else:
        index = pd.DatetimeIndex(pd.to_datetime(arr, utc=True))
    in_ns: pd.DatetimeIndex = index.as_unit("ns")
    return in_ns


def frame(schema: Schema, rows: Iterable[Sequence[Any]] | dict[str, Any]) -> pd.DataFrame:
    """Build a DataFrame in ``schema``'s column order and dtypes from rows or columns."""
    if isinstance(rows, dict):
        columns = rows
    else:
        rows = list(rows)
        columns = dict(zip(schema, zip(*rows))) if rows else {name: [] for name in schema}
    data: dict[str, Any] = {}
    for name, dtype in schema.items():
        col = columns[name]
        if dtype == "utc":
            data[name] = utc(np.asarray(col, dtype="float64") if _all_numbers(col) else list(col))
        elif dtype == "str":
            data[name] = pd.array(np.asarray(col, dtype=object) if len(col) else np.empty(0, dtype=object), dtype=_STRING)
        elif dtype == "Int64":
            data[name] = pd.array(list(col), dtype="Int64")
        elif dtype == "object":
            data[name] = np.asarray(col, dtype=object) if len(col) else np.empty(0, dtype=object)
        else:
            data[name] = np.asarray(col, dtype=dtype)
    out: pd.DataFrame = pd.DataFrame(data, columns=list(schema))
    return out


def _all_numbers(col: Any) -> bool:
    if isinstance(col, np.ndarray):
        return col.dtype.kind in "fiu"
    return all(v is None or isinstance(v, (int, float)) for v in col)


def instance_utilization(parts: list[pd.DataFrame], fleet: str, provider: str) -> pd.DataFrame:
    """``INSTANCE_UTILIZATION`` from per-instance pieces with columns time, instance_id, cpu_percent."""
    if not parts:
        return frame(INSTANCE_UTILIZATION, [])
    df = pd.concat(parts, ignore_index=True)
    n = len(df)
    return frame(
        INSTANCE_UTILIZATION,
        {
            "time": df["time"],
            "fleet": [fleet] * n,
            "provider": [provider] * n,
            "instance_id": df["instance_id"].to_numpy(),
            "cpu_percent": df["cpu_percent"].to_numpy(),
        },
    )


def costs(
    *,
    provider: Any,
    kind: Any,
    resource: Any,
    region: Any,
    running_seconds: Any,
    cost_usd: Any,
    source: Any,
    fleet: Any = None,
    instance_type: Any = None,
    spot: Any = False,
    requests: Any = 0,
) -> pd.DataFrame:
    """``COSTS`` from columns; each argument is one value for every row or a sequence of one per ``resource``.

    >>> costs(provider="local", kind="function", resource=["echo"], region="local", running_seconds=[0.25],
    ...       requests=[3], cost_usd=[4.2e-06], source="exact")[["resource", "fleet", "requests", "cost_usd"]]
      resource fleet  requests  cost_usd
    0     echo   NaN         3  0.000004
    """
    n = len(resource)
    given = {
        "provider": provider,
        "kind": kind,
        "resource": resource,
        "fleet": fleet,
        "instance_type": instance_type,
        "region": region,
        "spot": spot,
        "running_seconds": running_seconds,
        "requests": requests,
        "cost_usd": cost_usd,
        "source": source,
    }
    return with_price_dates(frame(COSTS, {k: [v] * n if v is None or np.isscalar(v) else v for k, v in given.items()}))


def with_price_dates(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with ``df.attrs["price_date"]``: each cloud's catalog price date (ISO), so a cost shows how old its prices are.

    >>> with_price_dates(frame(COSTS, [])).attrs["price_date"]
    {'aws': '2026-11-01', 'gcp': '2026-11-01', 'azure': '2026-11-01'}
    """
    df.attrs["price_date"] = catalog.price_dates()
    return df


def concat(schema: Schema, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate provider frames, keeping the schema when there are none."""
    filled = [f for f in frames if len(f)]
    joined: pd.DataFrame
    if len(filled) > 1:
        joined = pd.concat(filled, ignore_index=True)[list(schema)]
    elif filled or frames:
        joined = (filled or frames)[0].reset_index(drop=True)
    else:
        joined = frame(schema, [])
    return joined
