"""What a provider can do, as data: features, and the reason a provider does not offer one.

A provider declares only what it does *not* support, each with a reason, and may make it
depend on the request (the fleet config, instance or function a call is about)::

    class MyCloud(ComputeProvider):
        def not_supported(self, request=None):
            return {Feature.FUNCTIONS: "MyCloud has no functions service"}

A feature whose methods a provider does not override at all is not supported either, with a
reason naming the class (so third-party providers need declare nothing).
"""

from __future__ import annotations

import enum

__all__ = ["Feature", "METHODS", "SUPPORTED"]

SUPPORTED = "✓"


class Feature(str, enum.Enum):
    """One row of ``s.capabilities()``."""

    FLEETS = "fleets"
    INSTANCES = "instances"
    STOP_START = "stop/start"
    STANDALONE_INSTANCES = "standalone instances"
    SPOT = "spot"
    FUNCTIONS = "functions"
    INVOKE = "invoke"
    INVOCATION_HISTORY = "invocation history"
    AUTOSCALING = "autoscaling"
    SCALING_ACTIVITIES = "scaling activities"
    UTILIZATION = "utilization"
    BILLED_COSTS = "billed costs"
    ESTIMATED_COSTS = "estimated costs"
    QUOTAS = "quotas"
    NETWORK_DIAGNOSIS = "network diagnosis"
    SCHEDULES = "schedules"


# The provider methods that implement each feature: a provider overriding none of them lacks it.
# SPOT and the two kinds of costs ride on methods shared with other features: a provider that cannot
# offer one of them declares it in ``not_supported``.
METHODS: dict[Feature, tuple[str, ...]] = {
    Feature.FLEETS: ("create_fleet", "update_fleet", "update_fleet_capacity", "delete_fleet", "get_fleet"),
    Feature.INSTANCES: ("get_instance", "terminate_instance"),
    Feature.STOP_START: ("start_instance", "stop_instance"),
    Feature.STANDALONE_INSTANCES: ("create_instance",),
    Feature.SPOT: ("create_fleet",),
    Feature.FUNCTIONS: ("create_function", "update_function", "delete_function", "get_function", "list_functions"),
    Feature.INVOKE: ("invoke_function",),
    Feature.INVOCATION_HISTORY: ("list_invocations",),
    Feature.AUTOSCALING: ("configure_auto_scaling",),
    Feature.SCALING_ACTIVITIES: ("scaling_activities",),
    Feature.UTILIZATION: ("utilization",),
    Feature.BILLED_COSTS: ("costs",),
    Feature.ESTIMATED_COSTS: ("costs",),
    Feature.QUOTAS: ("quotas",),
    Feature.NETWORK_DIAGNOSIS: ("diagnose_network",),
    Feature.SCHEDULES: ("put_schedule", "list_schedules", "delete_schedule"),
}
