"""VM costs from Cost Management's query API, by resource, or the catalog estimate where not allowed.

The query asks for the actual cost and usage hours of the resource group's VMs, grouped by resource
id and by the fleet tag (a query takes at most two groupings). Cost Management names each
aggregated column after what it sums (``Cost``; ``PreTaxCost`` on some agreements), and a tag
grouping adds the columns ``TagKey`` and ``TagValue``; resource ids come in lower case. A row's
fleet is its ``clusterdb:fleet`` tag value when the VM carries one, else its scale set's (a Flexible
set's VMs are named ``clusterdb-<fleet>_<suffix>``, which holds for VMs deleted since); its size and
priority are the VM's, or its fleet's scale set's for a VM deleted since. Meter dimensions such as
``MeterSubCategory`` ("Dsv5 Series") name a VM family, not a size, so none is read::

    >>> fleet_of_vm("clusterdb-web_1a2b3c4d"), fleet_of_vm("jumpbox")
    ('web', None)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ... import frames
from ..kit.naming import OWNER_TAG, fleet_of
from .fleets import is_spot
from .instances import scale_set_name

__all__ = ["COST_COLUMNS", "billing_frame", "fleet_of_vm", "query", "rows_of"]

COST_COLUMNS = ("Cost", "PreTaxCost")
"""The summed cost column, by the name Cost Management gives it (ours asks for ``Cost``)."""


def fleet_of_vm(name: str) -> str | None:
    """The fleet of a VM named ``clusterdb-<fleet>_<suffix>``, else None."""
    prefix, sep, _ = name.rpartition("_")
    return fleet_of(prefix) if sep else None


def query(lo: pd.Timestamp, hi: pd.Timestamp) -> dict[str, Any]:
    """The Cost Management query for the window: actual cost and usage hours by VM and fleet tag."""
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
            "grouping": [{"type": "Dimension", "name": "ResourceId"}, {"type": "TagKey", "name": OWNER_TAG}],
            "filter": {"dimensions": {"name": "ResourceType", "operator": "In", "values": ["microsoft.compute/virtualmachines"]}},
        },
    }


def rows_of(pages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows of query result pages as dicts keyed by column name."""
    out: list[dict[str, Any]] = []
    for page in pages:
        props = page["properties"]
        columns = [c["name"] for c in props["columns"]]
        out += [dict(zip(columns, row)) for row in props["rows"]]
    return out


def billing_frame(
    rows: list[dict[str, Any]], provider: str, region: str, vms: Iterable[Any], sets: Iterable[Any]
) -> pd.DataFrame | None:
    """``frames.COSTS`` rows (``source="billing"``) of the query's ``rows``; None when it holds no VM costs.

    ``vms`` (the VMs there are now) and ``sets`` (the fleets' scale sets) give names, sizes and priorities.
    """
    if not rows:
        return None
    live = {str(vm["id"]).lower(): vm for vm in vms}
    by_fleet = {s["tags"][OWNER_TAG]: s for s in sets if OWNER_TAG in (s.get("tags") or {})}
    names, fleets, sizes, spots = [], [], [], []
    for r in rows:
        rid = str(r["ResourceId"])
        vm = live.get(rid.lower())
        name = str(vm["name"]) if vm is not None else rid.rsplit("/", 1)[-1]
        tagged = r.get("TagValue") if r.get("TagKey") == OWNER_TAG else None
        set_name = scale_set_name(vm) if vm is not None else None
        fleet = tagged or (fleet_of(set_name) if set_name else None) or fleet_of_vm(name)
        vmss = by_fleet.get(fleet) if fleet else None
        if vm is not None:
            props = vm["properties"]
            sizes.append(str(props["hardwareProfile"]["vmSize"]))
            spots.append(props.get("priority") == "Spot")
        else:
            sizes.append(str(vmss["sku"]["name"]) if vmss is not None else "")
            spots.append(vmss is not None and is_spot(vmss))
        names.append(name)
        fleets.append(fleet)
    cost = next(c for c in COST_COLUMNS if c in rows[0])
    return frames.costs(
        provider=provider,
        kind="instance",
        resource=names,
        fleet=fleets,
        instance_type=sizes,
        region=region,
        spot=spots,
        running_seconds=[float(r["UsageQuantity"]) * 3600.0 for r in rows],
        cost_usd=[round(float(r[cost]), 9) for r in rows],
        source="billing",
    )
