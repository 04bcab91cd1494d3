"""VM costs from Cost Management's query API, by resource, or the catalog estimate where not allowed.

The query asks for the actual cost and usage hours of the resource group's resources, grouped by
resource id (and meter subcategory, the VM size). A scale set's VMs are named after it
(``clusterdb-<fleet>_<suffix>``), so each row is attributed to its fleet by name, which holds for
VMs deleted since (whose tags could no longer be read)::

    >>> fleet_of_vm("clusterdb-web_1a2b3c4d"), fleet_of_vm("jumpbox")
    ('web', None)
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ... import frames
from ..kit.naming import fleet_of

__all__ = ["billing_frame", "fleet_of_vm", "query"]


def fleet_of_vm(name: str) -> str | None:
    """The fleet of a VM named ``clusterdb-<fleet>_<suffix>``, else None."""
    prefix, sep, _ = name.rpartition("_")
    return fleet_of(prefix) if sep else None


def query(lo: pd.Timestamp, hi: pd.Timestamp) -> dict[str, Any]:
    """The Cost Management query for the window: actual cost and usage quantity by resource."""
    return {
        "type": "ActualCost",
        "timeframe": "Custom",
        "timePeriod": {"from": lo.isoformat(), "to": hi.isoformat()},
        "dataset": {
            "granularity": "None",
            "aggregation": {
                "totalCost": {"name": "Cost", "function": "Sum"},
                "totalUsage": {"name": "UsageQuantity", "function": "Sum"},
            },
            "grouping": [{"type": "Dimension", "name": "ResourceId"}, {"type": "Dimension", "name": "MeterSubCategory"}],
            "filter": {"dimensions": {"name": "ResourceType", "operator": "In", "values": ["microsoft.compute/virtualmachines"]}},
        },
    }


def billing_frame(result: Any, provider: str, region: str, spot_fleets: set[str]) -> pd.DataFrame | None:
    """``frames.COSTS`` rows (``source="billing"``) from a query result; None when it holds no VM costs."""
    columns = [c["name"] for c in result["properties"]["columns"]]
    rows = [dict(zip(columns, row)) for row in result["properties"]["rows"]]
    if not rows:
        return None
    names = [str(r["ResourceId"]).rsplit("/", 1)[-1] for r in rows]
    fleets = [fleet_of_vm(n) for n in names]
    return frames.costs(
        provider=provider,
        kind="instance",
        resource=names,
        fleet=fleets,
        instance_type=[str(r.get("MeterSubCategory", "")) for r in rows],
        region=region,
        spot=[f in spot_fleets for f in fleets],
        running_seconds=[float(r["UsageQuantity"]) * 3600.0 for r in rows],
        cost_usd=[round(float(r["Cost"]), 9) for r in rows],
        source="billing",
    )
