"""Catalog questions the rules ask: a type's family, and the types of the same family or category priced where a fleet runs.

>>> family("m5.xlarge"), family("e2-standard-4"), family("Standard_D4s_v3")
('m5', 'e2-standard', 'Standard_Ds_v3')
"""

from __future__ import annotations

import re

from .. import catalog
from ..catalog import InstanceType

__all__ = ["catalog_region", "family", "priced", "same_family_or_category"]


def family(name: str) -> str:
    """The family of an instance type: AWS ``m5`` of ``m5.xlarge``, GCP ``e2-standard`` of ``e2-standard-4``
    (``e2`` of ``e2-medium``), Azure ``Standard_Ds_v3`` of ``Standard_D4s_v3``."""
    if "." in name:
        return name.split(".", 1)[0]
    if name.startswith("Standard_"):
        return re.sub(r"^(Standard_[A-Za-z]+?)\d+", r"\1", name)
    head, _, tail = name.rpartition("-")
    return head if tail.isdigit() else name.split("-", 1)[0]


def catalog_region(instance_type: str, region: str) -> str:
    """``region`` when the catalog prices the type's cloud there, else that cloud's reference region (the local cloud)."""
    cloud = catalog.provider_of(instance_type)
    return region if region in catalog.regions(cloud) else catalog.REFERENCE_REGION[cloud]


def priced(instance_type: str, region: str) -> InstanceType:
    """The catalog row of ``instance_type`` where a fleet in ``region`` is priced."""
    return catalog.lookup(instance_type, region=catalog_region(instance_type, region))


def same_family_or_category(current: InstanceType) -> list[InstanceType]:
    """Every other type of ``current``'s cloud and region with its arch and GPU count, of the same family or the same
    category (general, compute, memory, burstable, gpu); the same family first, then by price."""
    rows = catalog.types(current.provider, current.region)
    same = rows[(rows["arch"] == current.arch) & (rows["gpu"] == current.gpu) & (rows["instance_type"] != current.name)]
    kin = same["instance_type"].map(family) == family(current.name)
    pool = same[kin | (same["category"] == current.category)]
    found = [catalog.lookup(name, region=current.region) for name in pool["instance_type"]]
    return sorted(found, key=lambda it: (family(it.name) != family(current.name), it.on_demand_usd, it.name))
