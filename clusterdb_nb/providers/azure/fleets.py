"""Fleets as Flexible virtual machine scale sets named ``clusterdb-<fleet>``.

The set carries the fleet's tags, its owner tag and its bounds (``clusterdb:min-capacity``,
``clusterdb:max-capacity``: a scale set has no bounds of its own until an autoscale setting gives
it some). A spot fleet's VMs are ``priority: Spot`` with ``evictionPolicy: Deallocate`` and
``billingProfile.maxPrice: -1`` (pay up to the on-demand price, never evicted for price)::

    >>> body(config, subnet_id, "Canonical:ubuntu-24_04-lts:server:latest", "eastus", "azureuser", key)["sku"]
    {'name': 'Standard_B2s', 'tier': 'Standard', 'capacity': 3}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...models import Fleet, FleetConfig
from ..kit.naming import resource_name
from .instances import TAGS

__all__ = ["body", "image_reference", "is_spot", "os_profile", "tags", "to_fleet"]

MIN_TAG = "clusterdb:min-capacity"
MAX_TAG = "clusterdb:max-capacity"
DESCRIPTION_TAG = "clusterdb:description"
NETWORK_API_VERSION = "2020-11-01"  # lets a Flexible set create its VMs' NICs itself


def image_reference(image: str) -> dict[str, str]:
    """``publisher:offer:sku:version`` (an image URN) or a resource id as an ``imageReference``."""
    if image.startswith("/"):
        return {"id": image}
    publisher, offer, sku, version = image.split(":")
    return {"publisher": publisher, "offer": offer, "sku": sku, "version": version}


def tags(config: FleetConfig, lo: int, hi: int) -> dict[str, str]:
    """The scale set's tags: the user's, the owner tag, the bounds and the description."""
    return {
        **config.tags,
        **TAGS.owner(config.name),
        MIN_TAG: str(lo),
        MAX_TAG: str(hi),
        DESCRIPTION_TAG: config.description[:256],
    }


def os_profile(prefix: str, admin_username: str, ssh_public_key: str) -> dict[str, Any]:
    """A Linux ``osProfile`` that allows SSH with the key only (ARM refuses password-less without a key)."""
    return {
        "computerNamePrefix": prefix,
        "adminUsername": admin_username,
        "linuxConfiguration": {
            "disablePasswordAuthentication": True,
            "provisionVMAgent": True,
            "ssh": {"publicKeys": [{"path": f"/home/{admin_username}/.ssh/authorized_keys", "keyData": ssh_public_key}]},
        },
    }


def body(
    config: FleetConfig, subnet_id: str, image: str, location: str, admin_username: str, ssh_public_key: str
) -> dict[str, Any]:
    """The PUT body of a Flexible scale set for ``config`` (capacity, type and bounds filled in)."""
    assert config.instance_type is not None and config.capacity is not None
    assert config.min_capacity is not None and config.max_capacity is not None
    name = resource_name(config.name)
    profile: dict[str, Any] = {
        "osProfile": os_profile(config.name[:9], admin_username, ssh_public_key),
        "storageProfile": {
            "imageReference": image_reference(image),
            "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "Standard_LRS"}},
        },
        "networkProfile": {
            "networkApiVersion": NETWORK_API_VERSION,
            "networkInterfaceConfigurations": [
                {
                    "name": f"{name}-nic",
                    "properties": {
                        "primary": True,
                        "deleteOption": "Delete",  # a deleted VM's NIC (and its private IP) goes with it
                        "ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": subnet_id}}}],
                    },
                }
            ],
        },
    }
    if config.spot:
        profile.update(priority="Spot", evictionPolicy="Deallocate", billingProfile={"maxPrice": -1})
    return {
        "location": location,
        "tags": tags(config, config.min_capacity, config.max_capacity),
        "sku": {"name": config.instance_type, "tier": "Standard", "capacity": config.capacity},
        "properties": {
            "orchestrationMode": "Flexible",
            "platformFaultDomainCount": 1,
            "singlePlacementGroup": False,
            "virtualMachineProfile": profile,
        },
    }


def is_spot(vmss: Mapping[str, Any]) -> bool:
    return bool((vmss.get("properties") or {}).get("virtualMachineProfile", {}).get("priority") == "Spot")


def to_fleet(vmss: Mapping[str, Any], running: int, provider: str, region: str, hourly_price: float) -> Fleet:
    """A Fleet from a scale set (REST JSON or SDK model) and its count of running VMs."""
    t = dict(vmss.get("tags") or {})
    sku = vmss["sku"]
    capacity = int(sku.get("capacity") or 0)
    lo, hi = int(t.get(MIN_TAG, capacity)), int(t.get(MAX_TAG, capacity))
    created = (vmss.get("properties") or {}).get("timeCreated")
    return Fleet(
        id=t[TAGS.owner_key],
        name=t[TAGS.owner_key],
        provider=provider,
        region=region,
        instance_type=str(sku["name"]),
        capacity=capacity,
        min_capacity=min(lo, capacity),
        max_capacity=max(hi, capacity),
        running=running,
        description=t.get(DESCRIPTION_TAG, ""),
        spot=is_spot(vmss),
        tags=TAGS.user_tags(t),
        created_at=created,
        hourly_cost_usd=round(hourly_price * running, 6) if hourly_price == hourly_price else 0.0,
    )
