"""Capacity schedules as the scaling schedules of a managed instance group's autoscaler.

A Compute Engine scaling schedule (``autoscalingPolicy.scalingSchedules``) raises
the autoscaler's minimum to ``minRequiredReplicas`` for ``durationSec`` from each
time of its cron line, in its ``timeZone``; it cannot force capacity down. So the
mapping is by pairs:

- a schedule whose capacity is above the autoscaler's minimum *raises*: it becomes a
  scaling schedule whose duration runs until the fleet's next *lowering* schedule;
- a schedule whose capacity equals the autoscaler's minimum *lowers*: it is where the
  windows end. It is kept as a disabled scaling schedule (no effect of its own), so it
  is listed and the windows can be recomputed when schedules change.

So "0 at 19:00, 4 at 07:00 on weekdays" (minimum 0) is one scaling schedule at 07:00 of
12 h with ``minRequiredReplicas`` 4. What cannot be expressed is refused before any
call (``refusal``): no autoscaler, a capacity below its minimum, another maximum,
a raising schedule with no lowering one, or windows of different lengths (over an
hour apart; the DST hour is allowed, GCP's ``durationSec`` is fixed)::

    >>> entries(schedules, floor=0, now=pd.Timestamp("2026-01-05", tz="UTC"))["morning"]["durationSec"]
    43200
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from ...models import CapacitySchedule, Fleet

__all__ = ["entries", "from_entries", "refusal", "MappingRefused", "OURS", "SPAN"]

OURS = "clusterdb:"  # the description prefix of the scaling schedules this toolkit manages
SPAN = pd.Timedelta(days=28)  # how far ahead the windows of a raising schedule are measured
_LOWERS = f"{OURS} lowers to the autoscaler's minimum; GCP cannot scale in on a schedule, so this ends the raising windows"


class MappingRefused(ValueError):
    """The schedules cannot be expressed as GCP scaling schedules; the message says why."""


def _window(up: CapacitySchedule, downs: list[CapacitySchedule], now: pd.Timestamp) -> int:
    """Seconds from each firing of ``up`` to the first firing of a lowering schedule after it."""
    if not downs:
        raise MappingRefused(
            f"GCP scaling schedules raise the minimum for a fixed duration, so schedule {up.name!r} (capacity "
            f"{up.capacity}) needs the schedule that ends it: first schedule the fleet's lowering time "
            "(capacity = the autoscaler's minimum, e.g. at 19:00)"
        )
    lengths = Counter(int((min(d.next_run(t) for d in downs) - t).total_seconds()) for t in up.runs(now, now + SPAN))
    if not lengths:
        raise MappingRefused(f"schedule {up.name!r} does not fire within {SPAN.days} days")
    if max(lengths) - min(lengths) > 3600:
        hours = ", ".join(f"{s / 3600:g} h" for s in sorted(lengths))
        raise MappingRefused(
            f"schedule {up.name!r} would raise capacity for windows of {hours}; a GCP scaling schedule has one "
            "durationSec: split it into schedules whose windows are equally long (e.g. weekdays and weekend apart)"
        )
    seconds = lengths.most_common(1)[0][0]
    if seconds < 300:
        raise MappingRefused(f"schedule {up.name!r} would last {seconds} s; GCP scaling schedules last at least 300 s")
    return seconds


def entries(schedules: list[CapacitySchedule], floor: int, now: pd.Timestamp) -> dict[str, dict[str, Any]]:
    """The ``scalingSchedules`` entries of ``schedules`` on an autoscaler whose minimum is ``floor``."""
    downs = [s for s in schedules if s.capacity <= floor]
    out: dict[str, dict[str, Any]] = {}
    for s in schedules:
        if s.capacity < floor:
            raise MappingRefused(
                f"GCP cannot take a group below its autoscaler's minimum ({floor}) on a schedule; lower the minimum "
                f"first: configure_auto_scaling(..., min_capacity={s.capacity})"
            )
        entry = {"minRequiredReplicas": s.capacity, "schedule": s.cron, "timeZone": s.timezone}
        if s in downs:
            out[s.name] = {**entry, "durationSec": 300, "disabled": True, "description": _LOWERS}
        else:
            seconds = _window(s, downs, now)
            description = f"{OURS} capacity {s.capacity} until the fleet's lowering schedule ({seconds / 3600:g} h)"
            out[s.name] = {**entry, "durationSec": seconds, "disabled": False, "description": description}
    return out


def from_entries(found: dict[str, Any], fleet: str, provider: str) -> list[CapacitySchedule]:
    """Our schedules among an autoscaler's ``scalingSchedules`` (as JSON), by name."""
    return [
        CapacitySchedule(
            fleet=fleet,
            name=name,
            cron=e["schedule"],
            timezone=e.get("timeZone") or "UTC",
            capacity=int(e.get("minRequiredReplicas", 0)),
            provider=provider,
        )
        for name, e in sorted(found.items())
        if str(e.get("description", "")).startswith(OURS)
    ]


def refusal(fleet: Fleet, schedule: CapacitySchedule, others: list[CapacitySchedule], now: pd.Timestamp) -> str | None:
    """Why ``schedule`` (beside ``others``) cannot be a scaling schedule of ``fleet``'s autoscaler, or None."""
    policy = fleet.auto_scaling
    if policy is None:
        return "a GCP scaling schedule belongs to the group's autoscaler: configure_auto_scaling(...) first"
    if schedule.max_capacity is not None and schedule.max_capacity != policy.max_capacity:
        return (
            f"GCP scaling schedules cannot change the autoscaler's maximum ({policy.max_capacity}); "
            "leave max_capacity unset or change it with configure_auto_scaling"
        )
    try:
        entries([*others, schedule], policy.min_capacity, now)
    except MappingRefused as exc:
        return str(exc)
    return None
