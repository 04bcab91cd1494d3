"""Capacity schedules as EC2 Auto Scaling scheduled actions (``PutScheduledUpdateGroupAction``).

One schedule is one recurring scheduled action of the fleet's group: ``Recurrence``
is the cron line, ``TimeZone`` the IANA zone (Auto Scaling applies DST itself),
``DesiredCapacity``/``MinSize``/``MaxSize`` the capacity and bounds. Auto Scaling
runs it without our process. One-time actions (``StartTime`` only) and actions
whose names do not follow our naming rule are not listed::

    >>> params = put_params(CapacitySchedule(fleet="web", cron="0 19 * * MON-FRI", capacity=0, timezone="Europe/Berlin"))
    >>> params["Recurrence"], params["TimeZone"]
    ('0 19 * * MON-FRI', 'Europe/Berlin')
"""

from __future__ import annotations

import logging
import re
from typing import Any

from ...errors import ValidationError
from ...models import CapacitySchedule

__all__ = ["from_action", "put_params", "refusal"]

log = logging.getLogger("clusterdb_nb")


def refusal(schedule: CapacitySchedule) -> str | None:
    """Why ``schedule``'s cron line cannot be a ``Recurrence`` (plain Unix cron, without L or #), or None."""
    marks = re.sub(r"[A-Za-z]{3}", "", schedule.cron).upper()  # month and weekday names (JUL, WED) are fine
    if "L" in marks or "#" in marks:
        return f"Auto Scaling's Recurrence takes plain Unix cron; {schedule.cron!r} uses L or # (a last or nth day)"
    return None


def put_params(schedule: CapacitySchedule) -> dict[str, Any]:
    """The ``put_scheduled_update_group_action`` parameters of ``schedule``."""
    bounds = {"MinSize": schedule.min_capacity, "MaxSize": schedule.max_capacity}
    return {
        "AutoScalingGroupName": schedule.fleet,
        "ScheduledActionName": schedule.name,
        "Recurrence": schedule.cron,
        "TimeZone": schedule.timezone,
        "DesiredCapacity": schedule.capacity,
        **{k: v for k, v in bounds.items() if v is not None},
    }


def from_action(action: dict[str, Any], provider: str) -> CapacitySchedule | None:
    """A described scheduled action as a schedule; None for one we cannot express (one-time, foreign name)."""
    if not action.get("Recurrence") or action.get("DesiredCapacity") is None:
        return None
    try:
        return CapacitySchedule(
            fleet=action["AutoScalingGroupName"],
            name=action["ScheduledActionName"],
            cron=action["Recurrence"],
            timezone=action.get("TimeZone") or "UTC",
            capacity=action["DesiredCapacity"],
            min_capacity=action.get("MinSize"),
            max_capacity=action.get("MaxSize"),
            provider=provider,
        )
    except ValidationError as err:
        log.debug("scheduled action %s of %s is not listed: %s", action.get("ScheduledActionName"), provider, err)
        return None
