"""EC2 instances <-> our Instance rows.

A fleet member carries the tag ``aws:autoscaling:groupName``; a standalone
instance has none. EC2 states map one to one, except ``shutting-down``,
which is our ``terminating``::

    >>> STATES["shutting-down"]
    <InstanceState.TERMINATING: 'terminating'>
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from ...models import Instance, InstanceState
from ..kit.instance_rows import InstanceRows
from ..kit.naming import OWNER_TAG, TagRules
from ..kit.pricing import Price

__all__ = ["EC2_STATES", "GROUP_TAG", "state_filters", "state_since", "STATES", "TAGS", "to_frame", "to_instance"]

GROUP_TAG = "aws:autoscaling:groupName"
# EC2 and Auto Scaling tags: keys of 1-128 and values of up to 256 characters; "aws:" is AWS's own
TAGS = TagRules(
    owner_key=OWNER_TAG,
    max_key=128,
    max_value=256,
    reserved_prefixes=("aws:",),
    rule="keys of 1-128 characters, values of up to 256, keys not starting with 'aws:'",
)
STATES = {
    "pending": InstanceState.PENDING,
    "running": InstanceState.RUNNING,
    "stopping": InstanceState.STOPPING,
    "stopped": InstanceState.STOPPED,
    "shutting-down": InstanceState.TERMINATING,
    "terminated": InstanceState.TERMINATED,
}
EC2_STATES = {ours: theirs for theirs, ours in STATES.items()}
# "User initiated (2024-05-01 12:00:00 GMT)" -- when EC2 last stopped or terminated the instance
_TRANSITION = re.compile(r"\((\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (?:GMT|UTC)\)")


def state_filters(fleet: str | None, states: set[InstanceState] | None) -> list[dict[str, Any]]:
    """DescribeInstances filters for a fleet and a set of our states."""
    filters = []
    if fleet is not None:
        filters.append({"Name": f"tag:{GROUP_TAG}", "Values": [fleet]})
    if states:
        filters.append({"Name": "instance-state-name", "Values": sorted(EC2_STATES[s] for s in states)})
    return filters


def state_since(inst: dict[str, Any]) -> datetime:
    """When the instance entered its state: the time EC2 gives for a stop/terminate, else its (re)launch."""
    found = _TRANSITION.search(inst.get("StateTransitionReason") or "")
    if found:
        return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    return _utc(inst["LaunchTime"])


def _utc(when: datetime) -> datetime:
    return when.astimezone(timezone.utc)


def _tags(inst: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in inst.get("Tags", ())}


def to_instance(inst: dict[str, Any], provider: str, region: str) -> Instance:
    """An Instance from one DescribeInstances item."""
    tags = _tags(inst)
    return Instance(
        id=inst["InstanceId"],
        provider=provider,
        region=region,
        instance_type=inst["InstanceType"],
        state=STATES[inst["State"]["Name"]],
        fleet=tags.get(GROUP_TAG),
        spot=inst.get("InstanceLifecycle") == "spot",
        launched_at=_utc(inst["LaunchTime"]),
        state_since=state_since(inst),
        private_ip=inst.get("PrivateIpAddress"),
        tags=TAGS.user_tags(tags),
    )


def to_frame(reservations: list[dict[str, Any]], provider: str, region: str, hourly_price: Price) -> pd.DataFrame:
    """DescribeInstances' reservations as a ``frames.INSTANCES`` DataFrame (one pass, column-wise)."""
    rows = InstanceRows(provider, region, hourly_price)
    for reservation in reservations:
        for inst in reservation["Instances"]:
            tags = _tags(inst)
            rows.add(
                inst["InstanceId"],
                tags.get(GROUP_TAG),
                inst["InstanceType"],
                STATES[inst["State"]["Name"]],
                spot=inst.get("InstanceLifecycle") == "spot",
                launched_at=inst["LaunchTime"].timestamp(),
                state_since=state_since(inst).timestamp(),
                private_ip=inst.get("PrivateIpAddress"),
                tags=TAGS.user_tags(tags),
            )
    return rows.frame()
