"""EC2 instances <-> our Instance rows.

A fleet member carries the tag ``aws:autoscaling:groupName``; a standalone
instance has none. EC2 states map one to one, except ``shutting-down``,
which is our ``terminating``::

    >>> STATES["shutting-down"]
    <InstanceState.TERMINATING: 'terminating'>
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from ... import frames
from ...models import Instance, InstanceState

GROUP_TAG = "aws:autoscaling:groupName"
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
        tags={k: v for k, v in tags.items() if not k.startswith("aws:")},
    )


def to_frame(reservations: list[dict[str, Any]], provider: str, region: str, price: Callable[[str, bool], float]) -> pd.DataFrame:
    """DescribeInstances' reservations as a ``frames.INSTANCES`` DataFrame (one pass, column-wise)."""
    cols: dict[str, list[Any]] = {name: [] for name in frames.INSTANCES}
    for reservation in reservations:
        for inst in reservation["Instances"]:
            tags = _tags(inst)
            state = STATES[inst["State"]["Name"]].value
            spot = inst.get("InstanceLifecycle") == "spot"
            cols["id"].append(inst["InstanceId"])
            cols["fleet"].append(tags.get(GROUP_TAG))
            cols["instance_type"].append(inst["InstanceType"])
            cols["state"].append(state)
            cols["spot"].append(spot)
            cols["hourly_cost_usd"].append(price(inst["InstanceType"], spot) if state == "running" else 0.0)
            cols["launched_at"].append(inst["LaunchTime"].timestamp())  # epoch seconds: one vectorised UTC conversion
            cols["state_since"].append(state_since(inst).timestamp())
            cols["private_ip"].append(inst.get("PrivateIpAddress"))
            cols["tags"].append({k: v for k, v in tags.items() if not k.startswith("aws:")})
    n = len(cols["id"])
    cols["provider"] = [provider] * n
    cols["region"] = [region] * n
    order = sorted(range(n), key=lambda i: (cols["launched_at"][i], cols["id"][i]))  # oldest first, as the local cloud
    return frames.frame(frames.INSTANCES, {k: [v[i] for i in order] for k, v in cols.items()})
