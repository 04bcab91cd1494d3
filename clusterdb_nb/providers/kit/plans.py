"""Typed requests a dry run's plan is written from, and the ``service:Api(Param=...)`` text of a call.

The manager hands a provider one request per mutating operation; the provider
says which cloud calls it would make (``ComputeProvider.describe_call``),
matching on the request's type rather than on an operation name and an
argument tuple::

    >>> def describe_call(self, request: PlanRequest) -> str:
    ...     match request:
    ...         case UpdateFleetCapacity(fleet, capacity):
    ...             return call_text("compute:regionInstanceGroupManagers.resize", size=capacity,
    ...                              instanceGroupManager=resource_name(fleet))
    ...     return super().describe_call(request)
    >>> UpdateFleetCapacity("web", 20).as_call()  # what a provider without its own wording shows
    "update_fleet_capacity('web', 20)"
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

from ...models import AutoScalingConfig, CapacitySchedule, Fleet

__all__ = [
    "INSTANCE_REQUESTS",
    "ConfigureAutoScaling",
    "CreateFleet",
    "CreateFunction",
    "CreateInstance",
    "DeleteFleet",
    "DeleteFunction",
    "DeleteSchedule",
    "InstanceRequest",
    "PlanRequest",
    "PutSchedule",
    "StartInstance",
    "StopInstance",
    "TerminateInstance",
    "UpdateFleet",
    "UpdateFleetCapacity",
    "UpdateFunction",
    "call_text",
]


def call_text(api: str, **params: Any) -> str:
    """One cloud call as a plan shows it: ``call_text("ec2:StopInstances", InstanceIds=["i-1"])``."""
    return f"{api}({', '.join(f'{k}={v!r}' for k, v in params.items())})"


@dataclass(frozen=True)
class PlanRequest:
    """A mutating operation a plan describes; its first field is the target (fleet, instance or function)."""

    operation: ClassVar[str]

    @property
    def target(self) -> str:
        return str(getattr(self, fields(self)[0].name))

    def args(self) -> tuple[Any, ...]:
        """The request's values as the generic plan text shows them."""
        return tuple(getattr(self, f.name) for f in fields(self))

    def as_call(self) -> str:
        """The generic plan text: ``operation(arg, ...)``."""
        return f"{self.operation}({', '.join(repr(a) for a in self.args())})"


@dataclass(frozen=True)
class CreateFleet(PlanRequest):
    operation = "create_fleet"
    fleet: str
    instance_type: str
    capacity: int


@dataclass(frozen=True)
class UpdateFleet(PlanRequest):
    operation = "update_fleet"
    fleet: str


@dataclass(frozen=True)
class UpdateFleetCapacity(PlanRequest):
    operation = "update_fleet_capacity"
    fleet: str
    capacity: int


@dataclass(frozen=True)
class DeleteFleet(PlanRequest):
    operation = "delete_fleet"
    fleet: str


@dataclass(frozen=True)
class ConfigureAutoScaling(PlanRequest):
    operation = "configure_auto_scaling"
    fleet: str
    config: AutoScalingConfig

    def args(self) -> tuple[Any, ...]:
        return (self.fleet, self.config.model_dump())


@dataclass(frozen=True)
class InstanceRequest(PlanRequest):
    """Start, stop or terminate one instance."""

    instance_id: str


@dataclass(frozen=True)
class StartInstance(InstanceRequest):
    operation = "start_instance"


@dataclass(frozen=True)
class StopInstance(InstanceRequest):
    operation = "stop_instance"


@dataclass(frozen=True)
class TerminateInstance(InstanceRequest):
    operation = "terminate_instance"


@dataclass(frozen=True)
class CreateInstance(PlanRequest):
    operation = "create_instance"
    name: str
    instance_type: str
    spot: bool


INSTANCE_REQUESTS: dict[str, type[InstanceRequest]] = {r.operation: r for r in (StartInstance, StopInstance, TerminateInstance)}


@dataclass(frozen=True)
class CreateFunction(PlanRequest):
    operation = "create_function"
    function: str
    runtime: str


@dataclass(frozen=True)
class UpdateFunction(PlanRequest):
    operation = "update_function"
    function: str


@dataclass(frozen=True)
class DeleteFunction(PlanRequest):
    operation = "delete_function"
    function: str


@dataclass(frozen=True)
class PutSchedule(PlanRequest):
    """A schedule to create or replace; ``current`` (the fleet now) and ``others`` (its other schedules)
    let a provider's ``not_supported(request)`` judge whether its cloud can express it."""

    operation = "schedule_capacity"
    fleet: str
    schedule: CapacitySchedule
    current: Fleet | None = None
    others: tuple[CapacitySchedule, ...] = ()

    def args(self) -> tuple[Any, ...]:
        return (self.fleet, self.schedule.model_dump(exclude={"fleet", "provider"}))


@dataclass(frozen=True)
class DeleteSchedule(PlanRequest):
    operation = "delete_schedule"
    fleet: str
    name: str
