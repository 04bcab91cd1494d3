"""Azure VMs <-> our Instance rows.

A member of a Flexible scale set is an ordinary VM whose ``virtualMachineScaleSet.id`` names the
set; its state is the ``PowerState/...`` status of its instance view. Stopping deallocates (compute
billing stops); a VM that is only powered off (``PowerState/stopped``) keeps being billed::

    >>> POWER_STATES["deallocating"], POWER_STATES["stopped"]
    (<InstanceState.STOPPING: 'stopping'>, <InstanceState.STOPPED: 'stopped'>)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from ...models import Instance, InstanceState
from ..kit.instance_rows import InstanceRows
from ..kit.naming import OWNER_TAG, TagRules, fleet_of
from ..kit.pricing import Price

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
    return value.astimezone(timezone.utc)


def state_of(vm: Mapping[str, Any]) -> InstanceState:
    """Our state of a VM (REST JSON or SDK model) from its instance view's statuses.

    No power state yet (being created) is ``pending``; a VM being deleted is ``terminating``.
    """
    statuses = _get(vm, "properties", "instanceView", "statuses") or ()
    codes = [str(s.get("code", "")) for s in statuses]
    if "ProvisioningState/deleting" in codes or _get(vm, "properties", "provisioningState") == "Deleting":
        return InstanceState.TERMINATING
    for code in codes:
        if code.startswith(POWER_STATE_PREFIX):
            return POWER_STATES.get(code.removeprefix(POWER_STATE_PREFIX), InstanceState.PENDING)
    return InstanceState.PENDING


def scale_set_name(vm: Mapping[str, Any]) -> str | None:
    """The name of the scale set a VM belongs to, or None for a standalone VM."""
    set_id = _get(vm, "properties", "virtualMachineScaleSet", "id")
    return str(set_id).rsplit("/", 1)[-1] if set_id else None


def fleet_name(vm: Mapping[str, Any]) -> str | None:
    """The fleet of a VM: its owner tag, else its scale set named ``clusterdb-<fleet>``."""
    tags = vm.get("tags") or {}
    if OWNER_TAG in tags:
        return str(tags[OWNER_TAG])
    name = scale_set_name(vm)
    return fleet_of(name) if name else None


def times(vm: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """(launched_at, state_since): creation (or, when running, its last start) and the last operation's end."""
    created = _time(_get(vm, "properties", "timeCreated")) or datetime.now(timezone.utc)
    statuses = _get(vm, "properties", "instanceView", "statuses") or ()
    since = next((_time(s.get("time")) for s in statuses if str(s.get("code", "")).startswith("ProvisioningState/")), None)
    since = since or created
    return (since if state_of(vm) is InstanceState.RUNNING else created), since


def _row(vm: Mapping[str, Any]) -> dict[str, Any]:
    launched, since = times(vm)
    return {
        "instance_id": str(vm["name"]),
        "fleet": fleet_name(vm),
        "instance_type": str(_get(vm, "properties", "hardwareProfile", "vmSize")),
        "state": state_of(vm),
        "spot": _get(vm, "properties", "priority") == "Spot",
        "launched_at": launched,
        "state_since": since,
        "tags": TAGS.user_tags(vm.get("tags") or {}),
    }


def to_instance(vm: Mapping[str, Any], provider: str, region: str) -> Instance:
    """An Instance from one VM (fetched with ``expand="instanceView"``)."""
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
        private_ip=None,
        tags=row["tags"],
    )


def to_frame(vms: list[Mapping[str, Any]], provider: str, region: str, hourly_price: Price) -> pd.DataFrame:
    """VMs as a ``frames.INSTANCES`` DataFrame (one pass, column-wise)."""
    rows = InstanceRows(provider, region, hourly_price)
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
            private_ip=None,
            tags=r["tags"],
        )
    return rows.frame()
