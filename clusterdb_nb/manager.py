"""ComputeManager: the async API over every configured provider.

    >>> manager = ComputeManager(load_config())
    >>> fleet = await manager.create_fleet(FleetConfig("web-fleet").with_capacity(5))
    >>> plan = await manager.update_fleet_capacity("web-fleet", 20, dry_run=True)

Listings fan out to all providers at once; one provider's failure is
reported beside the others' rows (``.errors``), never hidden. A fleet name,
instance id or function name finds its provider by itself; a name held by
more than one provider needs ``provider=`` for every operation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import pandas as pd

from . import durations, frames, network
from .cloud_rules import ProviderRules
from .config import ClusterConfig, load_config, rules_of
from .errors import ComputeError, ConflictError, NotFoundError, NotSupportedError, ProviderError, ValidationError
from .models import (
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
    Plan,
    PlannedCall,
)
from .providers import registry
from .providers.base import ComputeProvider, ProviderStatus
from .providers.capabilities import SUPPORTED, Feature
from .providers.kit import plans

__all__ = ["as_compute_error", "ComputeManager", "Listing"]

log = logging.getLogger("clusterdb_nb")
T = TypeVar("T")
CallListener = Callable[[str, str, float, "str | None"], None]
"""Told of every provider call: (provider, operation, seconds, error class name or None)."""


class Listing(list[T], Generic[T]):
    """A list of results plus ``errors``: provider name -> the ComputeError it raised."""

    def __init__(self, items: list[T] = (), errors: dict[str, ComputeError] | None = None) -> None:  # type: ignore[assignment]
        super().__init__(items)
        self.errors: dict[str, ComputeError] = errors or {}


def as_compute_error(exc: BaseException, provider: str, operation: str) -> ComputeError:
    """``exc`` as a ComputeError (unexpected exceptions become ProviderError, chained)."""
    if isinstance(exc, ComputeError):
        exc.provider = exc.provider or provider
        exc.operation = exc.operation or operation
        return exc
    err = ProviderError(f"{type(exc).__name__}: {exc}", provider=provider, operation=operation)
    err.__cause__ = exc
    return err


def _check_count(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"{field}: must be an integer >= 0 (got {value!r})", field=field, rule="integer >= 0")
    return value


def _check_size(provider: ComputeProvider, operation: str, **sizes: int | None) -> None:
    """Each of ``sizes`` (capacity, min_capacity, max_capacity) fits ``provider``'s largest group."""
    for field, value in sizes.items():
        if value is not None and value > provider.max_group_size:
            raise ValidationError(
                f"{field}: {value} is more than {provider.name}'s largest fleet ({provider.max_group_size:,} instances)",
                field=field,
                rule=f"{field} <= {provider.max_group_size}",
                provider=provider.name,
                operation=operation,
                solution=f"Use at most {provider.max_group_size:,} instances per fleet, or split the work over several fleets",
            )


class ComputeManager:
    """Routes each operation to the right provider."""

    def __init__(
        self, config: ClusterConfig | dict[str, Any] | str | None = None, providers: dict[str, ComputeProvider] | None = None
    ) -> None:
        self.config = config if isinstance(config, ClusterConfig) else load_config(config)
        if providers is None:
            sections = self.config.compute.providers
            providers = {
                name: registry.create(sections.kind(name), section, name) for name, section in sections.sections().items()
            }
        self.providers = providers
        self.call_listeners: list[CallListener] = []  # e.g. the REST server's Prometheus counters
        self.default_provider = (
            self.config.compute.default_provider if self.config.compute.default_provider in providers else next(iter(providers))
        )

    # -- routing -----------------------------------------------------------
    def provider(self, name: str | None = None) -> ComputeProvider:
        """The provider called ``name`` (default: the configured default)."""
        name = name or self.default_provider
        if name not in self.providers:
            raise ValidationError(
                f"provider: {name!r} is not configured; configured: {', '.join(self.providers)}",
                field="provider",
                rule="a configured provider",
            )
        return self.providers[name]

    def capabilities(self) -> pd.DataFrame:
        """Feature x provider section: ``✓`` or the reason the provider does not offer it."""
        table = {
            name: [SUPPORTED if reason is None else reason for reason in p.capabilities().values()]
            for name, p in self.providers.items()
        }
        out: pd.DataFrame = pd.DataFrame(table, index=pd.Index([f.value for f in Feature], name="feature"))
        return out

    async def _observed(self, provider: str, operation: str, call: Awaitable[T]) -> T:
        """Await one provider call; log it (operation, duration, outcome) and tell ``call_listeners``."""
        started = time.perf_counter()
        outcome: str | None = None
        try:
            return await call
        except Exception as exc:
            outcome = type(exc).__name__
            raise
        finally:
            seconds = time.perf_counter() - started
            log.debug("provider call %s.%s took %.1f ms: %s", provider, operation, seconds * 1000, outcome or "ok")
            for listener in self.call_listeners:
                listener(provider, operation, seconds, outcome)

    async def _run(self, provider: ComputeProvider, operation: str, call: Awaitable[T]) -> T:
        """Await ``call`` (made after its capability check); any failure becomes a ComputeError."""
        try:
            return await self._observed(provider.name, operation, call)
        except Exception as exc:
            raise as_compute_error(exc, provider.name, operation) from exc

    async def _fan_out(
        self, operation: str, call: Callable[[ComputeProvider], Awaitable[T]], *features: Feature
    ) -> tuple[dict[str, T], dict[str, ComputeError]]:
        """``call`` on every provider offering any of ``features`` (all, when none is named), at once."""
        targets = [p for p in self.providers.values() if not features or any(p.supports(f) for f in features)]
        results = await asyncio.gather(*(self._observed(p.name, operation, call(p)) for p in targets), return_exceptions=True)
        ok: dict[str, T] = {}
        failed: dict[str, ComputeError] = {}
        for p, result in zip(targets, results):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                failed[p.name] = as_compute_error(result, p.name, operation)
                log.debug("%s failed on %s: %s", operation, p.name, failed[p.name])  # reported to the caller
            else:
                ok[p.name] = result
        return ok, failed

    async def _locate_fleet(self, fleet: str, provider: str | None) -> tuple[ComputeProvider, Fleet]:
        return await self._locate("fleet", fleet, provider, Feature.FLEETS, lambda p: p.get_fleet(fleet))

    async def _locate_instance(self, instance_id: str, provider: str | None) -> tuple[ComputeProvider, Instance]:
        return await self._locate("instance", instance_id, provider, Feature.INSTANCES, lambda p: p.get_instance(instance_id))

    async def _locate_function(self, function: str, provider: str | None) -> tuple[ComputeProvider, Function]:
        return await self._locate("function", function, provider, Feature.FUNCTIONS, lambda p: p.get_function(function))

    async def _locate(
        self, kind: str, key: str, provider: str | None, feature: Feature, get: Callable[[ComputeProvider], Awaitable[T]]
    ) -> tuple[ComputeProvider, T]:
        """Find which provider holds fleet/instance/function ``key``; returns it and the resource."""
        getter = f"get_{kind}"
        if provider is not None:
            p = self.provider(provider)
            p.require(feature, getter)
            return p, await self._run(p, getter, get(p))
        # Every provider is asked every time: a name that another session created elsewhere
        # since must make the call ambiguous, never silently pick one.
        found, failed = await self._fan_out(getter, get, feature)
        missing = {n for n, e in failed.items() if isinstance(e, (NotFoundError, NotSupportedError))}
        if len(found) > 1:
            raise ConflictError(
                f"{kind} {key!r} exists in {', '.join(found)}; pass provider=... (one of {', '.join(found)})",
                operation=getter,
                cause=f"More than one provider holds a {kind} named {key!r}",
                solution=f"Name the provider, e.g. provider={next(iter(found))!r}",
            )
        if found:
            name, resource = next(iter(found.items()))
            return self.providers[name], resource
        unreachable = {n: e for n, e in failed.items() if n not in missing}
        if len(unreachable) == 1 and not missing:  # the only answer was a failure: it is the error
            raise next(iter(unreachable.values()))
        if unreachable:
            detail = "; ".join(f"{n}: {e.message}" for n, e in unreachable.items())
            raise NotFoundError(
                f"{kind} {key!r} not found, and some providers could not be asked ({detail})",
                operation=getter,
                cause=next(iter(unreachable.values())).cause,
            )
        raise NotFoundError(f"no {kind} {key!r} in {', '.join(self.providers)}", operation=getter)

    def _plan(
        self,
        provider: ComputeProvider,
        request: plans.PlanRequest,
        before: float,
        after: float,
        note: str | None = None,
    ) -> Plan:
        calls = [PlannedCall(provider=provider.name, call=provider.describe_call(request))]
        if note:
            calls.append(PlannedCall(provider=provider.name, call=note))
        return Plan(
            operation=request.operation,
            target=request.target,
            provider=provider.name,
            calls=calls,
            hourly_cost_before_usd=round(before, 6),
            hourly_cost_after_usd=round(after, 6),
        )

    def _fleet_cost(self, provider: ComputeProvider, instance_type: str, spot: bool, capacity: int) -> float:
        return capacity * provider.hourly_price(instance_type, spot)

    def rules(self, provider: str) -> ProviderRules:
        """The cloud rules of the provider section called ``provider`` (``cloud_rules``)."""
        return rules_of(self.config.compute.providers.sections().get(provider))

    def resolve_fleet_config(self, config: FleetConfig) -> FleetConfig:
        """``config`` with the config file's fleet defaults, then its provider's, filled in; networking checked."""
        d = self.config.fleet
        provider = config.provider or self.default_provider
        rules = self.rules(provider)
        capacity = config.capacity if config.capacity is not None else d.default_capacity
        networking = rules.check_networking({**d.networking.model_dump(exclude_defaults=True), **config.networking})
        return config._replace(
            provider=provider,
            capacity=capacity,
            spot=bool(config.spot),
            instance_type=config.instance_type or d.default_instance_type or rules.default_instance_type,
            min_capacity=config.min_capacity if config.min_capacity is not None else min(d.default_min_capacity, capacity),
            max_capacity=config.max_capacity if config.max_capacity is not None else max(d.default_max_capacity, capacity),
            tags={**d.tags, **config.tags},
            networking=networking,
        )

    # -- fleets ------------------------------------------------------------
    async def create_fleet(self, config: FleetConfig, dry_run: bool = False) -> Fleet | Plan:
        """Create a fleet (``dry_run`` returns the plan and its hourly cost)."""
        p = self.provider(config.provider)
        self._check_fleet_config(p, config, "create_fleet")  # before the defaults are merged in
        config = self.resolve_fleet_config(config)
        p.require(Feature.FLEETS, "create_fleet", config)
        if config.spot:
            p.require(Feature.SPOT, "create_fleet", config)
        assert config.instance_type is not None and config.capacity is not None
        p.hourly_price(config.instance_type, bool(config.spot))  # an unknown type, or no spot price: refused here, once
        if dry_run:
            after = self._fleet_cost(p, config.instance_type, bool(config.spot), config.capacity)
            return self._plan(p, plans.CreateFleet(config.name, config.instance_type, config.capacity), 0.0, after)
        return await self._run(p, "create_fleet", p.create_fleet(config))

    def _check_fleet_config(self, p: ComputeProvider, config: FleetConfig, operation: str) -> None:
        """Sizes within ``p``'s largest group; a provider section works in one region, so ``region`` is it or unset."""
        _check_size(p, operation, capacity=config.capacity, min_capacity=config.min_capacity, max_capacity=config.max_capacity)
        self._check_region(p, config.region, operation)

    @staticmethod
    def _check_region(p: ComputeProvider, region: str | None, operation: str) -> None:
        """A provider section works in one region: ``region`` is it, or unset."""
        if region is not None and p.region and region != p.region:
            raise ValidationError(
                f"region: {p.name} works in region {p.region!r}, not {region!r}",
                field="region",
                rule=f"region == {p.region!r} (the {p.name} section's region) or unset",
                provider=p.name,
                operation=operation,
                solution=f"Leave region unset, or configure another provider section for {region!r} and pass its name",
            )

    async def update_fleet(self, config: FleetConfig, dry_run: bool = False) -> Fleet | Plan:
        """Change a fleet's description, instance type, bounds, tags or capacity."""
        p, fleet = await self._locate_fleet(config.name, config.provider)
        self._check_fleet_config(p, config, "update_fleet")
        resolved = config.resolve_update(fleet)
        spot = fleet.spot if config.spot is None else config.spot
        if spot and not fleet.spot:
            p.require(Feature.SPOT, "update_fleet", resolved)
        if dry_run:
            assert resolved.capacity is not None
            before = self._fleet_cost(p, fleet.instance_type, fleet.spot, fleet.capacity)
            after = self._fleet_cost(p, config.instance_type or fleet.instance_type, spot, resolved.capacity)
            return self._plan(p, plans.UpdateFleet(fleet.name), before, after)
        return await self._run(p, "update_fleet", p.update_fleet(config))

    async def update_fleet_capacity(
        self, fleet: str, capacity: int, dry_run: bool = False, provider: str | None = None
    ) -> Fleet | Plan:
        """Set a fleet's desired capacity, within its min/max."""
        _check_count(capacity, "capacity")
        p, current = await self._locate_fleet(fleet, provider)
        _check_size(p, "update_fleet_capacity", capacity=capacity)
        current.check_capacity(capacity)
        if dry_run:
            before = self._fleet_cost(p, current.instance_type, current.spot, current.capacity)
            after = self._fleet_cost(p, current.instance_type, current.spot, capacity)
            return self._plan(p, plans.UpdateFleetCapacity(fleet, capacity), before, after)
        return await self._run(p, "update_fleet_capacity", p.update_fleet_capacity(fleet, capacity))

    async def delete_fleet(self, fleet: str, dry_run: bool = False, provider: str | None = None) -> None | Plan:
        """Delete a fleet and terminate its instances."""
        p, current = await self._locate_fleet(fleet, provider)
        if dry_run:
            before = self._fleet_cost(p, current.instance_type, current.spot, current.capacity)
            return self._plan(p, plans.DeleteFleet(fleet), before, 0.0, note=f"terminate {current.capacity} instance(s)")
        await self._run(p, "delete_fleet", p.delete_fleet(fleet))
        return None

    async def get_fleet(self, fleet: str, provider: str | None = None) -> Fleet:
        return (await self._locate_fleet(fleet, provider))[1]

    async def list_fleets(self) -> Listing[Fleet]:
        """Every provider's fleets; failures in ``.errors``."""
        ok, failed = await self._fan_out("list_fleets", lambda p: p.list_fleets())
        return Listing([f for fleets in ok.values() for f in fleets], failed)

    async def configure_auto_scaling(
        self, fleet: str, config: AutoScalingConfig | dict[str, Any], dry_run: bool = False, provider: str | None = None
    ) -> Fleet | Plan:
        """Attach an auto-scaling policy (an ``AutoScalingConfig`` or its fields as a dict) to a fleet."""
        config = AutoScalingConfig.coerce(config)
        p, current = await self._locate_fleet(fleet, provider)
        _check_size(p, "configure_auto_scaling", min_capacity=config.min_capacity, max_capacity=config.max_capacity)
        p.require(Feature.AUTOSCALING, "configure_auto_scaling", current)
        if dry_run:
            before = self._fleet_cost(p, current.instance_type, current.spot, current.capacity)
            after = self._fleet_cost(p, current.instance_type, current.spot, config.clamp(current.capacity))
            return self._plan(p, plans.ConfigureAutoScaling(fleet, config), before, after)
        return await self._run(p, "configure_auto_scaling", p.configure_auto_scaling(fleet, config))

    async def scaling_activities(self, fleet: str, provider: str | None = None) -> pd.DataFrame:
        """Every desired-capacity change of ``fleet`` (``frames.SCALING_ACTIVITIES``)."""
        p, current = await self._locate_fleet(fleet, provider)
        p.require(Feature.SCALING_ACTIVITIES, "scaling_activities", current)
        return await self._run(p, "scaling_activities", p.scaling_activities(fleet))

    # -- instances -----------------------------------------------------------
    async def list_instances(
        self, fleet: str | None = None, states: set[InstanceState] | None = None, provider: str | None = None
    ) -> pd.DataFrame:
        """Instances of every provider (``frames.INSTANCES``); failures in ``df.attrs["errors"]``."""
        if fleet is not None:
            p, _ = await self._locate_fleet(fleet, provider)
            df = await self._run(p, "list_instances", p.list_instances(fleet, states))
            df.attrs["errors"] = {}
            return df
        ok, failed = await self._fan_out("list_instances", lambda p: p.list_instances(None, states))
        df = frames.concat(frames.INSTANCES, list(ok.values()))
        df.attrs["errors"] = failed
        return df

    async def create_instance(self, config: InstanceConfig, dry_run: bool = False) -> Instance | Plan:
        """Launch one standalone instance outside any fleet (``dry_run`` returns the plan and its hourly cost)."""
        p = self.provider(config.provider)
        self._check_region(p, config.region, "create_instance")
        p.require(Feature.STANDALONE_INSTANCES, "create_instance", config)
        if config.spot:
            p.require(Feature.SPOT, "create_instance", config)
        price = p.hourly_price(config.instance_type, config.spot)  # an unknown type, or no spot price: refused here
        if dry_run:
            return self._plan(p, plans.CreateInstance(config.name, config.instance_type, config.spot), 0.0, price)
        return await self._run(p, "create_instance", p.create_instance(config))

    async def get_instance(self, instance_id: str, provider: str | None = None) -> Instance:
        return (await self._locate_instance(instance_id, provider))[1]

    async def start_instance(self, instance_id: str, dry_run: bool = False, provider: str | None = None) -> Instance | Plan:
        p, inst = await self._locate_instance(instance_id, provider)
        p.require(Feature.STOP_START, "start_instance", inst)
        if dry_run:
            price = p.hourly_price(inst.instance_type, inst.spot)
            return self._plan(p, plans.StartInstance(instance_id), self._billed(p, inst), price)
        return await self._run(p, "start_instance", p.start_instance(instance_id))

    async def stop_instance(self, instance_id: str, dry_run: bool = False, provider: str | None = None) -> Instance | Plan:
        p, inst = await self._locate_instance(instance_id, provider)
        p.require(Feature.STOP_START, "stop_instance", inst)
        if dry_run:
            return self._plan(p, plans.StopInstance(instance_id), self._billed(p, inst), 0.0)
        return await self._run(p, "stop_instance", p.stop_instance(instance_id))

    async def terminate_instance(self, instance_id: str, dry_run: bool = False, provider: str | None = None) -> Instance | Plan:
        p, inst = await self._locate_instance(instance_id, provider)
        if dry_run:
            price = p.hourly_price(inst.instance_type, inst.spot)
            if inst.fleet:
                note = f"fleet {inst.fleet} launches a replacement"
                return self._plan(p, plans.TerminateInstance(instance_id), self._billed(p, inst), price, note)
            return self._plan(p, plans.TerminateInstance(instance_id), self._billed(p, inst), 0.0)
        return await self._run(p, "terminate_instance", p.terminate_instance(instance_id))

    @staticmethod
    def _billed(p: ComputeProvider, inst: Instance) -> float:
        """What ``inst`` costs an hour now (nothing unless running or booting)."""
        billed = inst.state in (InstanceState.RUNNING, InstanceState.PENDING)
        return p.hourly_price(inst.instance_type, inst.spot) if billed else 0.0

    # -- functions -------------------------------------------------------------
    async def create_function(self, config: FunctionConfig, dry_run: bool = False) -> Function | Plan:
        p = self.provider(config.provider)
        p.require(Feature.FUNCTIONS, "create_function", config)
        self.rules(p.name).check_function(config)
        config.require_code()
        if dry_run:
            return self._plan(p, plans.CreateFunction(config.name, config.runtime), 0.0, 0.0)
        return await self._run(p, "create_function", p.create_function(config))

    async def update_function(self, config: FunctionConfig, dry_run: bool = False) -> Function | Plan:
        p, _ = await self._locate_function(config.name, config.provider)
        self.rules(p.name).check_function(config)
        if dry_run:
            return self._plan(p, plans.UpdateFunction(config.name), 0.0, 0.0)
        return await self._run(p, "update_function", p.update_function(config))

    async def delete_function(self, function: str, dry_run: bool = False, provider: str | None = None) -> None | Plan:
        p, _ = await self._locate_function(function, provider)
        if dry_run:
            return self._plan(p, plans.DeleteFunction(function), 0.0, 0.0)
        await self._run(p, "delete_function", p.delete_function(function))
        return None

    async def get_function(self, function: str, provider: str | None = None) -> Function:
        return (await self._locate_function(function, provider))[1]

    async def list_functions(self) -> Listing[Function]:
        ok, failed = await self._fan_out("list_functions", lambda p: p.list_functions(), Feature.FUNCTIONS)
        return Listing([f for fns in ok.values() for f in fns], failed)

    async def invoke_function(
        self, function: str, payload: bytes | dict[str, Any] | list[Any], provider: str | None = None
    ) -> Invocation:
        """Run ``function`` once on ``payload`` (JSON bytes, or a dict/list to encode) and wait for it."""
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload).encode()
        if not isinstance(payload, (bytes, bytearray)):
            raise ValidationError(
                "payload: must be JSON bytes, a dict or a list (e.g. json.dumps(event).encode())",
                field="payload",
                rule="bytes, dict or list",
            )
        p, fn = await self._locate_function(function, provider)
        p.require(Feature.INVOKE, "invoke_function", fn)
        return await self._run(p, "invoke_function", p.invoke_function(function, bytes(payload)))

    async def list_invocations(self, function: str | None = None) -> pd.DataFrame:
        """Past invocations on every provider (``frames.INVOCATIONS``); failures in ``df.attrs["errors"]``."""
        ok, failed = await self._fan_out("list_invocations", lambda p: p.list_invocations(function), Feature.INVOCATION_HISTORY)
        df = frames.concat(frames.INVOCATIONS, list(ok.values()))
        df.attrs["errors"] = failed
        return df

    # -- metrics and status ------------------------------------------------------
    async def utilization(
        self,
        fleet: str,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
        period: str = "5min",
        by: str = "fleet",
        provider: str | None = None,
    ) -> pd.DataFrame:
        """CPU % of ``fleet`` over time (``frames.UTILIZATION``, or per instance with ``by="instance"``)."""
        if by not in ("fleet", "instance"):
            raise ValidationError(f"by: must be 'fleet' or 'instance' (got {by!r})", field="by", rule="fleet | instance")
        durations.period_length(period)
        durations.check_window(start, end)
        if start is not None and end is not None:
            frames.check_periods(start, end, period)
        p, current = await self._locate_fleet(fleet, provider)
        p.require(Feature.UTILIZATION, "utilization", current)
        return await self._run(p, "utilization", p.utilization(fleet, start, end, period, by))

    async def costs(self, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None) -> pd.DataFrame:
        """Cost per instance over every provider (``frames.COSTS``); failures in ``df.attrs["errors"]``."""
        durations.check_window(start, end)
        ok, failed = await self._fan_out("costs", lambda p: p.costs(start, end), Feature.BILLED_COSTS, Feature.ESTIMATED_COSTS)
        df = frames.with_price_dates(frames.concat(frames.COSTS, list(ok.values())))
        df.attrs["errors"] = failed
        return df

    async def diagnose_network(
        self, fleet: str, ports: list[int] | tuple[int, ...] | None = None, provider: str | None = None
    ) -> pd.DataFrame:
        """Can ``fleet``'s instances be reached on ``ports`` (default 22, 443)? Findings: severity, resource, finding, fix."""
        checked = network.check_ports(ports)
        p, current = await self._locate_fleet(fleet, provider)
        p.require(Feature.NETWORK_DIAGNOSIS, "diagnose_network", current)
        return network.frame(await self._run(p, "diagnose_network", p.diagnose_network(fleet, checked)))

    async def status(self) -> Listing[ProviderStatus]:
        """Each provider's status; a provider that cannot be reached reports ok=False."""
        ok, failed = await self._fan_out("status", lambda p: p.status())
        rows = [ok.get(n) or ProviderStatus(provider=n, ok=False, detail=str(failed[n].message)) for n in self.providers]
        return Listing(rows, failed)

    async def close(self) -> None:
        await asyncio.gather(*(p.close() for p in self.providers.values()), return_exceptions=True)

    # -- capacity schedules (the cloud's own scheduled scaling) -------------------------------
    async def schedule_capacity(self, schedule: CapacitySchedule, dry_run: bool = False) -> CapacitySchedule | Plan:
        """Create or replace ``schedule`` on its fleet's provider; unset bounds come from the fleet.

        Pre-flight: the fleet exists, the sizes fit the provider, the provider can map this schedule.
        ``dry_run`` returns the plan with the hourly cost before and after the schedule fires.
        """
        p, fleet = await self._locate_fleet(schedule.fleet, schedule.provider)
        schedule = schedule.resolve_bounds(fleet)._replace(provider=p.name)
        sizes = {"capacity": schedule.capacity, "min_capacity": schedule.min_capacity, "max_capacity": schedule.max_capacity}
        _check_size(p, "schedule_capacity", **sizes)
        p.require(Feature.SCHEDULES, "schedule_capacity")
        listed = await self._run(p, "list_schedules", p.list_schedules(fleet.name))
        request = plans.PutSchedule(fleet.name, schedule, fleet, tuple(s for s in listed if s.name != schedule.name))
        p.require(Feature.SCHEDULES, "schedule_capacity", request)  # can this cloud express it, beside the others?
        if dry_run:
            before = self._fleet_cost(p, fleet.instance_type, fleet.spot, fleet.capacity)
            after = self._fleet_cost(p, fleet.instance_type, fleet.spot, schedule.capacity)
            first = schedule.next_run(pd.Timestamp(p.current_time(), unit="s", tz="UTC"))
            note = f"first fires {first:%Y-%m-%d %H:%M} UTC; hourly cost from then on, until the fleet changes again"
            return self._plan(p, request, before, after, note)
        return await self._run(p, "put_schedule", p.put_schedule(schedule))

    async def list_schedules(self, fleet: str | None = None, provider: str | None = None) -> Listing[CapacitySchedule]:
        """Schedules of ``fleet`` (else of every fleet) on every provider offering them; failures in ``.errors``."""
        if fleet is not None:
            p, _ = await self._locate_fleet(fleet, provider)
            p.require(Feature.SCHEDULES, "list_schedules")
            return Listing(await self._run(p, "list_schedules", p.list_schedules(fleet)))
        ok, failed = await self._fan_out("list_schedules", lambda p: p.list_schedules(None), Feature.SCHEDULES)
        return Listing([s for found in ok.values() for s in found], failed)

    async def delete_schedule(self, fleet: str, name: str, dry_run: bool = False, provider: str | None = None) -> None | Plan:
        """Delete schedule ``name`` of ``fleet`` (NotFoundError when the fleet has none of that name)."""
        p, current = await self._locate_fleet(fleet, provider)
        p.require(Feature.SCHEDULES, "delete_schedule")
        if name not in {s.name for s in await self._run(p, "list_schedules", p.list_schedules(fleet))}:
            raise NotFoundError(
                f"fleet {fleet!r} has no schedule {name!r}",
                provider=p.name,
                operation="delete_schedule",
                solution="s.schedules(fleet) lists its schedules by name",
            )
        if dry_run:
            cost = self._fleet_cost(p, current.instance_type, current.spot, current.capacity)
            return self._plan(p, plans.DeleteSchedule(fleet, name), cost, cost)
        await self._run(p, "delete_schedule", p.delete_schedule(fleet, name))
        return None

    def schedules_frame(self, schedules: list[CapacitySchedule]) -> pd.DataFrame:
        """``schedules`` in ``frames.SCHEDULES`` form, with each one's next firing on its provider's clock."""
        rows = [
            (
                s.fleet,
                s.name,
                s.provider,
                s.cron,
                s.timezone,
                s.capacity,
                s.min_capacity,
                s.max_capacity,
                s.next_run(pd.Timestamp(self.provider(s.provider).current_time(), unit="s", tz="UTC")),
            )
            for s in sorted(schedules, key=lambda s: (s.provider or "", s.fleet, s.name))
        ]
        return frames.frame(frames.SCHEDULES, rows)
