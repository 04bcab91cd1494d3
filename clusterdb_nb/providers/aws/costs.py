"""EC2 compute costs: Cost Explorer where it answers, else an estimate from the catalog.

Billing (``source="billing"``): GetCostAndUsage for the service "Amazon
Elastic Compute Cloud - Compute" in the provider's region, grouped by the
AWS-generated cost allocation tag ``aws:autoscaling:groupName`` (the fleet)
and by instance type; one row per fleet and type (``resource`` is the fleet,
or ``"untagged"`` for instances outside any fleet). The tag must be activated
under Billing > Cost allocation tags; until it is, or where Cost Explorer is
not allowed, the costs are estimated (``source="estimate"``): one row per
running instance, its hours since its last (re)launch within the window times
the catalog's hourly price::

    >>> window(None, pd.Timestamp("2026-03-10T12:00Z"))
    (Timestamp('2026-03-01 00:00:00+0000', tz='UTC'), Timestamp('2026-03-10 12:00:00+0000', tz='UTC'))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ... import frames
from ...errors import ValidationError
from .instances import GROUP_TAG

SERVICE = "Amazon Elastic Compute Cloud - Compute"


def window(
    start: pd.Timestamp | None, end: pd.Timestamp | None, now: pd.Timestamp | None = None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The cost window: ``start`` defaults to the first day of ``end``'s month, ``end`` to now (UTC)."""
    now = now or pd.Timestamp.now(tz="UTC")
    hi = min(end, now) if end is not None else now
    lo = start if start is not None else hi.normalize().replace(day=1)
    if lo >= hi:
        raise ValidationError(f"start ({lo}) is not before end ({hi})", field="start", rule="start < end")
    return lo, hi


def request(region: str, lo: pd.Timestamp, hi: pd.Timestamp) -> dict[str, Any]:
    """GetCostAndUsage parameters for the window (Cost Explorer's days: Start inclusive, End exclusive)."""
    end_day = hi.normalize() if hi == hi.normalize() else hi.normalize() + pd.Timedelta(days=1)
    return {
        "TimePeriod": {"Start": lo.strftime("%Y-%m-%d"), "End": end_day.strftime("%Y-%m-%d")},
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost", "UsageQuantity"],
        "Filter": {
            "And": [
                {"Dimensions": {"Key": "SERVICE", "Values": [SERVICE]}},
                {"Dimensions": {"Key": "REGION", "Values": [region]}},
            ]
        },
        "GroupBy": [{"Type": "TAG", "Key": GROUP_TAG}, {"Type": "DIMENSION", "Key": "INSTANCE_TYPE"}],
    }


def billing_frame(results: list[dict[str, Any]], provider: str, region: str, spot_fleets: set[str]) -> pd.DataFrame | None:
    """Rows from GetCostAndUsage's ``ResultsByTime``; None when no cost is attributed to any fleet."""
    totals: dict[tuple[str, str], list[float]] = {}
    for period in results:
        for group in period.get("Groups", []):
            tag, itype = group["Keys"]
            metrics = group["Metrics"]
            acc = totals.setdefault((tag.partition("$")[2], itype), [0.0, 0.0])
            acc[0] += float(metrics["UnblendedCost"]["Amount"])
            acc[1] += float(metrics["UsageQuantity"]["Amount"])
    if not any(fleet for fleet, _ in totals):
        return None
    rows = [
        (
            provider,
            "instance",
            fleet or "untagged",
            fleet or None,
            itype,
            region,
            fleet in spot_fleets,
            hours * 3600.0,
            0,
            round(cost, 9),
            "billing",
        )
        for (fleet, itype), (cost, hours) in sorted(totals.items(), key=lambda kv: (kv[0][0] == "", kv[0]))  # untagged last
    ]
    return frames.frame(frames.COSTS, rows)


def estimate_frame(instances: pd.DataFrame, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    """Rows for running instances (``frames.INSTANCES``): hours within the window times their hourly price."""
    df = instances[instances["state"] == "running"]
    seconds = (hi - df["launched_at"].clip(lower=lo)).dt.total_seconds().clip(lower=0.0)  # running since launch, until now >= hi
    df = df.assign(running_seconds=seconds)[seconds > 0].sort_values(["fleet", "id"], na_position="last")
    n = len(df)
    return frames.frame(
        frames.COSTS,
        {
            "provider": df["provider"].to_numpy(),
            "kind": ["instance"] * n,
            "resource": df["id"].to_numpy(),
            "fleet": df["fleet"].to_numpy(),
            "instance_type": df["instance_type"].to_numpy(),
            "region": df["region"].to_numpy(),
            "spot": df["spot"].to_numpy(dtype=bool),
            "running_seconds": df["running_seconds"].to_numpy(dtype=float),
            "requests": np.zeros(n, dtype=np.int64),
            "cost_usd": (df["running_seconds"] / 3600.0 * df["hourly_cost_usd"]).round(9).to_numpy(dtype=float),
            "source": ["estimate"] * n,
        },
    )
