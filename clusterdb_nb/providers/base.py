"""The provider interface: one async class per cloud.

A provider implements the operations it supports; the rest raise
``NotSupportedError`` naming provider and operation, and ``supports()`` says
which are which without calling anything::

    class MyCloud(ComputeProvider):
        kind = "mycloud"
        async def status(self): ...
        async def list_fleets(self): ...
        async def list_instances(self, fleet=None, states=None): ...
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import pandas as pd

from ..errors import NotSupportedError
from ..models import (
    AutoScalingConfig,
    Fleet,
    FleetConfig,
    Function,
    FunctionConfig,
    Instance,
    InstanceState,
    Invocation,
    Model,
)

OPERATIONS = (
    "create_fleet",
    "update_fleet",
    "update_fleet_capacity",
    "delete_fleet",
    "get_fleet",
    "list_fleets",
    "list_instances",
    "get_instance",
    "start_instance",
    "stop_instance",
    "terminate_instance",
    "create_function",
    "update_function",
    "delete_function",
    "get_function",
    "list_functions",
    "invoke_function",
    "list_invocations",
    "configure_auto_scaling",
    "scaling_activities",
    "utilization",
    "costs",
    "status",
)


class ProviderStatus(Model):
    """What ``status()`` reports: can we talk to the provider, as whom, where."""

    provider: str
    ok: bool
    detail: str
    region: str | None = None
    account: str | None = None
    facts: dict[str, Any] = {}


class ComputeProvider(abc.ABC):
    """Async interface every provider implements (the seed's trait, plus listing and metrics)."""

    kind: ClassVar[str]
    config_model: ClassVar[type[Model] | None] = None
    # The most instances one fleet may hold on this cloud; the manager refuses larger capacities
    # before any call. A provider states its cloud's own limit.
    max_group_size: ClassVar[int] = 1_000

    def __init__(self, config: Any, name: str | None = None) -> None:
        self.config = config
        self.name = name or self.kind

    @property
    def region(self) -> str:
        return str(getattr(self.config, "region", None) or "")

    def supports(self, operation: str) -> bool:
        """True when this provider implements ``operation`` (one of OPERATIONS)."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}")
        return getattr(type(self), operation) is not getattr(ComputeProvider, operation)

    def unsupported(self, operation: str) -> NotSupportedError:
        return NotSupportedError(f"{self.name} does not support {operation}", provider=self.name, operation=operation)

    def hourly_price(self, instance_type: str, spot: bool = False) -> float:
        """On-demand (or spot) $/h of ``instance_type`` in this provider's region."""
        from .. import catalog

        return catalog.lookup(instance_type, region=self.region or None).price(spot)

    def describe_call(self, operation: str, *args: Any) -> str:
        """How a plan names the call ``operation(*args)`` would make."""
        return f"{operation}({', '.join(repr(a) for a in args)})"

    async def close(self) -> None:
        """Release clients and connections."""

    # -- required --------------------------------------------------------
    @abc.abstractmethod
    async def status(self) -> ProviderStatus: ...

    @abc.abstractmethod
    async def list_fleets(self) -> list[Fleet]: ...

    @abc.abstractmethod
    async def list_instances(self, fleet: str | None = None, states: set[InstanceState] | None = None) -> pd.DataFrame:
        """Instances as a DataFrame in ``frames.INSTANCES`` form."""

    # -- optional: the default says "not supported" ------------------------
    async def create_fleet(self, config: FleetConfig) -> Fleet:
        raise self.unsupported("create_fleet")

    async def update_fleet(self, config: FleetConfig) -> Fleet:
        raise self.unsupported("update_fleet")

    async def update_fleet_capacity(self, fleet: str, capacity: int) -> Fleet:
        raise self.unsupported("update_fleet_capacity")

    async def delete_fleet(self, fleet: str) -> None:
        raise self.unsupported("delete_fleet")

    async def get_fleet(self, fleet: str) -> Fleet:
        raise self.unsupported("get_fleet")

    async def get_instance(self, instance_id: str) -> Instance:
        raise self.unsupported("get_instance")

    async def start_instance(self, instance_id: str) -> Instance:
        raise self.unsupported("start_instance")

    async def stop_instance(self, instance_id: str) -> Instance:
        raise self.unsupported("stop_instance")

    async def terminate_instance(self, instance_id: str) -> Instance:
        raise self.unsupported("terminate_instance")

    async def create_function(self, config: FunctionConfig) -> Function:
        raise self.unsupported("create_function")

    async def update_function(self, config: FunctionConfig) -> Function:
        raise self.unsupported("update_function")

    async def delete_function(self, function: str) -> None:
        raise self.unsupported("delete_function")

    async def get_function(self, function: str) -> Function:
        raise self.unsupported("get_function")

    async def list_functions(self) -> list[Function]:
        raise self.unsupported("list_functions")

    async def invoke_function(self, function: str, payload: bytes) -> Invocation:
        raise self.unsupported("invoke_function")

    async def list_invocations(self, function: str | None = None) -> pd.DataFrame:
        """Past invocations (of ``function``, or all) in ``frames.INVOCATIONS`` form."""
        raise self.unsupported("list_invocations")

    async def configure_auto_scaling(self, fleet: str, config: AutoScalingConfig) -> Fleet:
        raise self.unsupported("configure_auto_scaling")

    async def scaling_activities(self, fleet: str) -> pd.DataFrame:
        """Desired-capacity changes of ``fleet`` with their reason, in ``frames.SCALING_ACTIVITIES`` form."""
        raise self.unsupported("scaling_activities")

    async def utilization(
        self, fleet: str, start: pd.Timestamp | None, end: pd.Timestamp | None, period: str, by: str = "fleet"
    ) -> pd.DataFrame:
        """CPU % timeline in ``frames.UTILIZATION`` (or ``INSTANCE_UTILIZATION``) form."""
        raise self.unsupported("utilization")

    async def costs(self, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
        """Cost per billed resource (instance or function) in ``frames.COSTS`` form."""
        raise self.unsupported("costs")
