"""A fleet's auto-scaling policy as an Azure Monitor autoscale setting on its scale set.

The profile's rules are derived from the ``AutoScalingConfig`` by the simulator's own Azure engine
(``autoscaling.engines.azure.autoscale_rules``), so what a user simulated is what is deployed:
"Percentage CPU" over a time window, time grain PT1M, cooldowns as ISO-8601 durations::

    >>> setting = to_setting(AutoScalingConfig(min_capacity=1, max_capacity=5), set_id, "eastus")
    >>> [r.metric_trigger.threshold for r in setting.profiles[0].rules]
    [70.0, 30.0]

Scaling activities are the activity log's ``Autoscale`` events (``.../Scaleup/Action`` and
``.../Scaledown/Action``) of the setting, whose properties carry the old and new instance counts.
Each action is logged twice under one ``operationId`` ("Started", then "Succeeded" or "Failed");
an activity is its "Succeeded" event.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import pandas as pd

from ... import frames
from ...autoscaling.engines.azure import TIME_GRAIN, autoscale_rules, default_capacity
from ...autoscaling.options import AzureRule
from ...models import AutoScalingConfig
from ..kit.naming import resource_name

__all__ = ["activities", "activity_filter", "config_of", "rules_of", "setting_name", "to_setting"]

METRIC = "Percentage CPU"
NAMESPACE = "microsoft.compute/virtualmachinescalesets"
PROFILE = "clusterdb"
EVENTS = ("Microsoft.Insights/AutoscaleSettings/Scaleup/Action", "Microsoft.Insights/AutoscaleSettings/Scaledown/Action")


def setting_name(fleet: str) -> str:
    """The autoscale setting of ``fleet``: ``clusterdb-<fleet>-autoscale``."""
    return f"{resource_name(fleet)}-autoscale"


def to_setting(config: AutoScalingConfig, set_id: str, location: str, tags: dict[str, str] | None = None) -> Any:
    """The ``AutoscaleSettingResource`` for ``config`` on the scale set ``set_id``."""
    from azure.mgmt.monitor import models as m

    rules = [
        m.ScaleRule(
            metric_trigger=m.MetricTrigger(
                metric_name=METRIC,
                metric_namespace=NAMESPACE,
                metric_resource_uri=set_id,
                time_grain=timedelta(seconds=TIME_GRAIN),
                statistic="Average",
                time_window=timedelta(seconds=r.time_window),
                time_aggregation=r.time_aggregation,
                operator=r.operator,
                threshold=r.threshold,
            ),
            scale_action=m.ScaleAction(
                direction=r.direction, type=r.type, value=str(r.value), cooldown=timedelta(seconds=r.cooldown or 60)
            ),
        )
        for r in autoscale_rules(config)
    ]
    capacity = m.ScaleCapacity(
        minimum=str(config.min_capacity), maximum=str(config.max_capacity), default=str(default_capacity(config))
    )
    return m.AutoscaleSettingResource(
        location=location,
        tags=tags or {},
        profiles=[m.AutoscaleProfile(name=PROFILE, capacity=capacity, rules=rules)],
        enabled=True,
        target_resource_uri=set_id,
    )


def rules_of(setting: Any) -> list[AzureRule]:
    """The deployed profile's rules in the simulator's terms (``AzureRule``)."""
    return [
        AzureRule(
            direction=r.scale_action.direction,
            operator=r.metric_trigger.operator,
            threshold=r.metric_trigger.threshold,
            time_window=int(r.metric_trigger.time_window.total_seconds()),
            time_aggregation=r.metric_trigger.time_aggregation,
            type=r.scale_action.type,
            value=int(r.scale_action.value),
            cooldown=int(r.scale_action.cooldown.total_seconds()),
        )
        for r in setting.profiles[0].rules
    ]


def config_of(setting: Any) -> AutoScalingConfig | None:
    """The policy a setting we deployed stands for (the scale-out rule's threshold and cooldown); None if disabled."""
    if not setting.enabled or not setting.profiles or not setting.profiles[0].rules:  # none, or schedules only
        return None
    profile = setting.profiles[0]
    rules = rules_of(setting)
    out = next((r for r in rules if r.direction == "Increase"), rules[0])
    return AutoScalingConfig(
        min_capacity=int(profile.capacity.minimum),
        max_capacity=int(profile.capacity.maximum),
        target_cpu_utilization=out.threshold,
        cooldown_seconds=int(out.cooldown or 60),
    )


def activity_filter(setting_id: str, start: pd.Timestamp, end: pd.Timestamp) -> str:
    """The activity log ``$filter`` for a setting's events in [start, end]."""
    return f"eventTimestamp ge '{start.isoformat()}' and eventTimestamp le '{end.isoformat()}' and resourceUri eq '{setting_id}'"


def activities(events: Iterable[Any], fleet: str, provider: str) -> pd.DataFrame:
    """``frames.SCALING_ACTIVITIES`` from autoscale events, oldest first."""
    rows = [
        (e.event_timestamp, int(e.properties["OldInstancesCount"]), int(e.properties["NewInstancesCount"]), e)
        for e in events
        if e.operation_name is not None
        and e.operation_name.value in EVENTS
        and e.status is not None
        and e.status.value == "Succeeded"
        and (e.properties or {}).get("NewInstancesCount")
    ]
    rows.sort(key=lambda row: row[0])
    return frames.frame(
        frames.SCALING_ACTIVITIES,
        {
            "time": pd.to_datetime([r[0] for r in rows], utc=True),
            "fleet": [fleet] * len(rows),
            "provider": [provider] * len(rows),
            "from_capacity": [r[1] for r in rows],
            "to_capacity": [r[2] for r in rows],
            "reason": [r[3].properties.get("Description", "") for r in rows],
        },
    )
