"""Azure VMs <-> our Instance rows.

A member of a Flexible scale set is an ordinary VM whose ``virtualMachineScaleSet.id`` names the
set; its state is the ``PowerState/...`` status of its instance view. Stopping deallocates (compute
billing stops); a VM that is only powered off (``PowerState/stopped``) keeps being billed::

    >>> POWER_STATES["deallocating"], POWER_STATES["stopped"]
    (<InstanceState.STOPPING: 'stopping'>, <InstanceState.STOPPED: 'stopped'>)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from ...models import Instance, InstanceState
from ..kit.instance_rows import InstanceRows
from ..kit.naming import OWNER_TAG, TagRules, fleet_of
from ..kit.pricing import Price

__all__ = ["primary_nic_id", "private_ips", "scale_set_name", "state_of", "to_frame", "to_instance"]

# Azure tags: names up to 512 characters without < > % & \ ? /, values up to 256; Azure reserves
# the prefixes microsoft, azure and windows; ``clusterdb:`` is ours (owner tag, fleet bounds).
TAGS = TagRules(
    owner_key=OWNER_TAG,
    max_key=512,
    max_value=256,
    key_pattern=r"[^<>%&\\?/]+",
    reserved_prefixes=("microsoft", "azure", "windows", "clusterdb:"),
    rule="names of 1-512 characters without < > % & \\ ? /, values of up to 256, "
    "names not starting with 'microsoft', 'azure', 'windows' or 'clusterdb:'",
)
POWER_STATES = {
    "starting": InstanceState.PENDING,
    "running": InstanceState.RUNNING,
    "stopping": InstanceState.STOPPING,
    "deallocating": InstanceState.STOPPING,
    "stopped": InstanceState.STOPPED,
    "deallocated": InstanceState.STOPPED,
}
POWER_STATE_PREFIX = "PowerState/"


def _get(obj: Mapping[str, Any] | None, *path: str) -> Any:
    for key in path:
        if obj is None:
            return None
        obj = obj.get(key)
    return obj


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    when: datetime = value.astimezone(timezone.utc)
    return when


def _state(codes: list[str], provisioning: Any) -> InstanceState:
    if "ProvisioningState/deleting" in codes or provisioning == "Deleting":
        return InstanceState.TERMINATING
    for code in codes:
        if code.startswith(POWER_STATE_PREFIX):
            return POWER_STATES.get(code.removeprefix(POWER_STATE_PREFIX), InstanceState.PENDING)
    return InstanceState.PENDING


def state_of(vm: Mapping[str, Any]) -> InstanceState:
    """Our state of a VM (REST JSON or SDK model) from its instance view's statuses.

    No power state yet (being created) is ``pending``; a VM being deleted is ``terminating``.
    """
    props = vm.get("properties") or {}
    statuses = (props.get("instanceView") or {}).get("statuses") or ()
    return _state([str(st.get("code", "")) for st in statuses], props.get("provisioningState"))


def scale_set_name(vm: Mapping[str, Any]) -> str | None:
    """The name of the scale set a VM belongs to, or None for a standalone VM."""
    set_id = _get(vm, "properties", "virtualMachineScaleSet", "id")
    return str(set_id).rsplit("/", 1)[-1] if set_id else None


def private_ips(nics: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """``{vm id (lower case): private IP}`` from network interfaces (REST JSON or SDK models).

    A VM's address is its primary NIC's primary IP configuration's ``privateIPAddress``; a NIC
    attached to no VM is skipped::

        >>> private_ips([{"properties": {"primary": True, "virtualMachine": {"id": "/s/VM1"},
        ...     "ipConfigurations": [{"properties": {"primary": True, "privateIPAddress": "10.0.0.4"}}]}}])
        {'/s/vm1': '10.0.0.4'}
    """
    out: dict[str, str] = {}
    for nic in nics:
        props = nic.get("properties") or {}
        vm = props.get("virtualMachine")
        if vm is None:
            continue
        key = str(vm.get("id")).lower()
        if key in out and not props.get("primary"):
            continue
        configs = props.get("ipConfigurations") or ()
        for config in configs:
            ip = (config.get("properties") or {}).get("privateIPAddress")
            if ip and ((config.get("properties") or {}).get("primary") or len(configs) == 1):
                out[key] = str(ip)
                break
    return out


def primary_nic_id(vm: Mapping[str, Any]) -> str | None:
    """The resource id of a VM's primary network interface (its only one when none is marked)."""
    refs = _get(vm, "properties", "networkProfile", "networkInterfaces") or ()
    for ref in refs:
        if (ref.get("properties") or {}).get("primary") or len(refs) == 1:
            return str(ref["id"])
    return None


def _row(vm: Mapping[str, Any]) -> dict[str, Any]:
    """Everything a row needs, each field read once (SDK models pay for every read)."""
    props = vm.get("properties") or {}
    statuses = (props.get("instanceView") or {}).get("statuses") or ()
    codes, since = [], None
    for st in statuses:
        code = str(st.get("code", ""))
        codes.append(code)
        if since is None and code.startswith("ProvisioningState/"):
            since = _time(st.get("time"))
    state = _state(codes, props.get("provisioningState"))
    created = _time(props.get("timeCreated")) or datetime.now(timezone.utc)
    since = since or created
    tags = vm.get("tags") or {}
    fleet = tags.get(OWNER_TAG)
    if fleet is None:
        set_id = (props.get("virtualMachineScaleSet") or {}).get("id")
        fleet = fleet_of(str(set_id).rsplit("/", 1)[-1]) if set_id else None
    return {
        "instance_id": str(vm["name"]),
        "fleet": fleet,
        "instance_type": str((props.get("hardwareProfile") or {}).get("vmSize")),
        "state": state,
        "spot": props.get("priority") == "Spot",
        "launched_at": since if state is InstanceState.RUNNING else created,  # a restart is a relaunch
        "state_since": since,
        "tags": TAGS.user_tags(tags) if tags else {},
    }


def to_instance(vm: Mapping[str, Any], provider: str, region: str, private_ip: str | None = None) -> Instance:
    """An Instance from one VM (fetched with ``expand="instanceView"``) and its primary NIC's private IP."""
    row = _row(vm)
    return Instance(
        id=row["instance_id"],
        provider=provider,
        region=region,
        instance_type=row["instance_type"],
        state=row["state"],
        fleet=row["fleet"],
        spot=row["spot"],
        launched_at=row["launched_at"],
        state_since=row["state_since"],
        private_ip=private_ip,
        tags=row["tags"],
    )


def to_frame(
    vms: list[Mapping[str, Any]], provider: str, region: str, hourly_price: Price, ips: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """VMs as a ``frames.INSTANCES`` DataFrame (one pass, column-wise); ``ips`` from :func:`private_ips`."""
    rows = InstanceRows(provider, region, hourly_price)
    ips = ips or {}
    for vm in vms:
        r = _row(vm)
        rows.add(
            r["instance_id"],
            r["fleet"],
            r["instance_type"],
            r["state"],
            spot=r["spot"],
            launched_at=r["launched_at"].timestamp(),
            state_since=r["state_since"].timestamp(),
            private_ip=ips.get(str(vm["id"]).lower()),
            tags=r["tags"],
        )
    return rows.frame()
