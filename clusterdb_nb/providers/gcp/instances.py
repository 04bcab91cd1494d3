"""Compute Engine instances <-> our Instance rows, and GCE's label rules.

GCE's ``TERMINATED`` is a *stopped* VM (its disk kept, no CPU billed), not a deleted one; a deleted
instance is gone from the API, so the adapter reports it ``terminated``::

    >>> STATES["TERMINATED"], STATES["STAGING"], STATES["SUSPENDED"]
    (<InstanceState.STOPPED: 'stopped'>, <InstanceState.PENDING: 'pending'>, <InstanceState.STOPPED: 'stopped'>)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from ...models import Instance, InstanceState
from ..kit.instance_rows import InstanceRows
from ..kit.naming import TagRules
from ..kit.pricing import Price

__all__ = ["region_of", "to_frame", "to_instance"]

# GCE labels: lowercase keys starting with a letter, keys and values of up to 63 of [a-z0-9_-], no ':'
LABELS = TagRules(
    owner_key="clusterdb-fleet",
    max_key=63,
    max_value=63,
    key_pattern=r"[a-z][a-z0-9_-]*",
    value_pattern=r"[a-z0-9_-]*",
    reserved_prefixes=("goog",),
    rule="GCE labels: lowercase letters, digits, '_' and '-', keys starting with a letter, at most 63 characters",
)
TAGS_METADATA = "clusterdb-tags"  # tags that break the label rules ride in the template's metadata, as JSON
STATES = {
    "PROVISIONING": InstanceState.PENDING,
    "STAGING": InstanceState.PENDING,
    "REPAIRING": InstanceState.PENDING,
    "RUNNING": InstanceState.RUNNING,
    "STOPPING": InstanceState.STOPPING,
    "SUSPENDING": InstanceState.STOPPING,
    "SUSPENDED": InstanceState.STOPPED,
    "TERMINATED": InstanceState.STOPPED,
}


def _time(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _since(inst: Any) -> float:
    stamps = [s for s in (inst.last_start_timestamp, inst.last_stop_timestamp, inst.last_suspended_timestamp) if s]
    return max(_time(s) for s in stamps) if stamps else _time(inst.creation_timestamp)


def _type(inst: Any) -> str:
    return str(inst.machine_type).rsplit("/", 1)[-1]


def _spot(inst: Any) -> bool:
    return bool(inst.scheduling and inst.scheduling.provisioning_model == "SPOT")


def _ip(inst: Any) -> str | None:
    return inst.network_interfaces[0].network_i_p if inst.network_interfaces else None


def region_of(inst: Any) -> str:
    return str(inst.zone).rsplit("/", 1)[-1].rsplit("-", 1)[0]


def to_instance(inst: Any, provider: str, region: str) -> Instance:
    """An Instance from a ``compute_v1.Instance``."""
    labels = dict(inst.labels)
    return Instance(
        id=inst.name,
        provider=provider,
        region=region,
        instance_type=_type(inst),
        state=STATES[inst.status],
        fleet=labels.get(LABELS.owner_key),
        spot=_spot(inst),
        launched_at=datetime.fromisoformat(inst.creation_timestamp),
        state_since=datetime.fromtimestamp(_since(inst)).astimezone(),
        private_ip=_ip(inst),
        tags=LABELS.user_tags(labels),
    )


def to_frame(
    items: list[Any], provider: str, region: str, hourly_price: Price, states: set[InstanceState] | None
) -> pd.DataFrame:
    """``compute_v1.Instance`` items as a ``frames.INSTANCES`` DataFrame (read through their raw protobufs, fast)."""
    rows = InstanceRows(provider, region, hourly_price)
    for item in items:
        inst = type(item).pb(item)
        state = STATES[inst.status]
        if states and state not in states:
            continue
        labels = dict(inst.labels)
        rows.add(
            inst.name,
            labels.get(LABELS.owner_key),
            inst.machine_type.rsplit("/", 1)[-1],
            state,
            spot=inst.scheduling.provisioning_model == "SPOT",
            launched_at=_time(inst.creation_timestamp),
            state_since=_since(inst),
            private_ip=inst.network_interfaces[0].network_i_p if inst.network_interfaces else None,
            tags=LABELS.user_tags(labels),
        )
    return rows.frame()
