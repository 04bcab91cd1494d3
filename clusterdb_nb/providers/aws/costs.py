"""EC2 compute costs: Cost Explorer where it answers, else an estimate from the catalog.

Billing (``source="billing"``): GetCostAndUsage for the service "Amazon
Elastic Compute Cloud - Compute" in the provider's region, grouped by the
AWS-generated cost allocation tag ``aws:autoscaling:groupName`` (the fleet)
and by instance type; one row per fleet and type (``resource`` is the fleet,
or ``"untagged"`` for instances outside any fleet). The tag must be activated
under Billing > Cost allocation tags; until it is, or where Cost Explorer is
not allowed, the costs are the kit's catalog estimate (``kit.cost_estimate``)::

    >>> request("us-east-1", pd.Timestamp("2026-03-01T00:00Z"), pd.Timestamp("2026-03-10T12:00Z"))["TimePeriod"]
    {'Start': '2026-03-01', 'End': '2026-03-11'}
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ... import frames
from .instances import GROUP_TAG

__all__ = ["billing_frame", "request", "SERVICE"]

SERVICE = "Amazon Elastic Compute Cloud - Compute"


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
    keys = sorted(totals, key=lambda k: (k[0] == "", k))  # untagged last
    return frames.costs(
        provider=provider,
        kind="instance",
        resource=[fleet or "untagged" for fleet, _ in keys],
        fleet=[fleet or None for fleet, _ in keys],
        instance_type=[itype for _, itype in keys],
        region=region,
        spot=[fleet in spot_fleets for fleet, _ in keys],
        running_seconds=[totals[k][1] * 3600.0 for k in keys],
        cost_usd=[round(totals[k][0], 9) for k in keys],
        source="billing",
    )
