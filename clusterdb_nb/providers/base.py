"""The provider interface: one async class per cloud.

A provider implements the operations it supports and declares, with reasons, the
features (``capabilities.Feature``) it does not offer, in ``not_supported()``; the
manager checks them before any call. A method left as the default raises
``NotSupportedError`` naming provider and operation::

    class MyCloud(ComputeProvider):
        kind = "mycloud"
        async def status(self): ...
        async def list_fleets(self): ...
        async def list_instances(self, fleet=None, states=None): ...
"""

from __future__ import annotations

import abc
import time
from typing import Any, ClassVar

import pandas as pd

from ..errors import ConflictError, NotSupportedError
from ..models import (
    AutoScalingConfig,
    CapacitySchedule,
    Fleet,
    FleetConfig,
    Function,
    FunctionConfig,
    Instance,
    InstanceConfig,
    InstanceState,
    Invocation,
    Model,
)
from ..network import Finding
from .capabilities import METHODS, Feature
from .kit.plans import PlanRequest

__all__ = ["already_exists", "ComputeProvider", "ProviderStatus"]


def already_exists(kind: str, name: str, provider: str, where: str, operation: str) -> ConflictError:
    """The one wording of "``kind`` ``name`` already exists" for every cloud (``where``: its region).

    An adapter asks its cloud whether the name is taken; this says so.
    """
    return ConflictError(
        f"{kind} {name!r} already exists",
        provider=provider,
        operation=operation,
        cause=f"{provider} ({where}) already holds a {kind} named {name!r}",
        solution=f"Pick another name, or change the {kind} with update_{kind}",
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

    def not_supported(self, request: object | None = None) -> dict[Feature, str]:
        """The features this provider does not offer (for ``request``, when given), each with its reason.

        ``request`` is what a call is about: a ``FleetConfig``, ``Fleet``, ``Instance`` or ``FunctionConfig``.
        Override it; the default declares nothing.
        """
        return {}

    def capabilities(self, request: object | None = None) -> dict[Feature, str | None]:
        """Each feature -> None when supported, else the reason (declared, or: no method implements it)."""
        declared = self.not_supported(request)
        out: dict[Feature, str | None] = {}
        for feature in Feature:
            if feature in declared:
                out[feature] = declared[feature]
            elif not any(getattr(type(self), m) is not getattr(ComputeProvider, m) for m in METHODS[feature]):
                out[feature] = f"{type(self).__name__} does not implement {feature.value}"
            else:
                out[feature] = None
        return out

    def supports(self, feature: Feature, request: object | None = None) -> bool:
        """True when this provider offers ``feature`` (for ``request``)."""
        return self.capabilities(request)[feature] is None

    def require(self, feature: Feature, operation: str, request: object | None = None) -> None:
        """Raise NotSupportedError, with the reason, unless this provider offers ``feature`` for ``request``."""
        reason = self.capabilities(request)[feature]
        if reason is not None:
            raise NotSupportedError(
                f"{self.name} does not support {operation}: {reason}",
                provider=self.name,
                operation=operation,
                cause=reason,
                solution="See s.capabilities() for what each provider offers, or pass another provider=",
            )

    def already_exists(self, kind: str, name: str, operation: str) -> ConflictError:
        """The error when this provider's cloud already holds a ``kind`` (fleet, function) called ``name``."""
        return already_exists(kind, name, self.name, self.region or self.kind, operation)

    def unsupported(self, operation: str) -> NotSupportedError:
        """The error a method this provider does not implement raises."""
        return NotSupportedError(f"{self.name} does not support {operation}", provider=self.name, operation=operation)

    def hourly_price(self, instance_type: str, spot: bool = False) -> float:
        """On-demand (or spot) $/h of ``instance_type`` in this provider's region."""
        from .. import catalog

        return catalog.lookup(instance_type, region=self.region or None).price(spot)

    def describe_call(self, request: PlanRequest) -> str:
        """How a plan names the call(s) ``request`` would make; by default ``update_fleet_capacity('web', 20)``."""
        return request.as_call()

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

    async def create_instance(self, config: InstanceConfig) -> Instance:
        """Launch one standalone instance (no fleet); its name is the ``Name`` tag."""
        raise self.unsupported("create_instance")

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

    async def quotas(self) -> dict[str, float]:
        """The account's limits by name (e.g. ``{"on_demand_vcpu_quota": 32.0}``); ``status()`` reports them."""
        raise self.unsupported("quotas")

    async def diagnose_network(self, fleet: str, ports: list[int]) -> list[Finding]:
        """Why ``fleet``'s instances can or cannot be reached on ``ports`` (``network.Finding`` rows)."""
        raise self.unsupported("diagnose_network")

    # -- capacity schedules (Feature.SCHEDULES), run by the cloud itself ------------------
    def current_time(self) -> float:
        """This provider's clock in epoch seconds: the wall clock (the local cloud's may be virtual)."""
        return time.time()

    async def put_schedule(self, schedule: CapacitySchedule) -> CapacitySchedule:
        """Create or replace ``schedule`` (by fleet and name) as the cloud's own scheduled scaling."""
        raise self.unsupported("put_schedule")

    async def list_schedules(self, fleet: str | None = None) -> list[CapacitySchedule]:
        raise self.unsupported("list_schedules")

    async def delete_schedule(self, fleet: str, name: str) -> None:
        raise self.unsupported("delete_schedule")
