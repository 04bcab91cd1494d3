"""The Azure provider: fleets are Flexible VM scale sets, instances their VMs.

    >>> s = clusterdb_nb.connect(azure={"subscription_id": "...", "resource_group": "clusterdb",
    ...                                 "subnet_id": "/subscriptions/.../subnets/default"})
    >>> s.create_fleet(FleetConfig("web", capacity=3, provider="azure"))

Every call goes through Microsoft's SDK clients in a worker thread; create, update and delete are
long-running operations whose pollers poll every ``poll_interval``. Stopping an instance
deallocates it (compute billing stops). Deleting a member of a Flexible scale set lowers the set's
capacity by one: unlike an Auto Scaling group, Azure does not replace it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pandas as pd

from ... import catalog
from ...config import AzureConfig
from ...errors import NotFoundError, ValidationError
from ...models import Fleet, FleetConfig, Instance, InstanceState
from ..base import ComputeProvider, ProviderStatus
from ..capabilities import Feature
from ..kit import plans
from ..kit.naming import resource_name
from ..kit.plans import call_text
from ..kit.pricing import price_or_nan
from . import fleets, instances
from .clients import Clients

log = logging.getLogger("clusterdb_nb.azure")
VCPU_QUOTA = "cores"  # usage.list's "Total Regional vCPUs"
INSTANCE_CALLS = {
    "start_instance": "begin_start",
    "stop_instance": "begin_deallocate",
    "terminate_instance": "begin_delete",
}


class AzureProvider(ComputeProvider):
    """Azure in one subscription, resource group and location (``kind = "azure"``)."""

    kind = "azure"
    config_model = AzureConfig
    config: AzureConfig
    # A Flexible scale set holds up to 1,000 VMs (Azure docs, "Orchestration modes for VM scale sets").
    max_group_size = 1_000

    def __init__(self, config: AzureConfig, name: str | None = None) -> None:
        super().__init__(config, name)
        self.clients = Clients(config, self.name)

    @property
    def region(self) -> str:
        return self.config.location

    def not_supported(self, request: object | None = None) -> dict[Feature, str]:
        return {
            Feature.INVOCATION_HISTORY: "Azure Functions keeps past invocations in Application Insights, "
            "which this adapter does not read",
        }

    # -- helpers -----------------------------------------------------------
    @property
    def _rg(self) -> str:
        return self.config.resource_group

    def _scale_set_id(self, fleet: str) -> str:
        return (
            f"/subscriptions/{self.config.subscription_id}/resourceGroups/{self._rg}"
            f"/providers/Microsoft.Compute/virtualMachineScaleSets/{resource_name(fleet)}"
        )

    async def _scale_set(self, fleet: str, operation: str) -> Any:
        compute = self.clients.compute
        try:
            found = await self.clients.calls.run(
                operation, lambda: compute.virtual_machine_scale_sets.get(self._rg, resource_name(fleet))
            )
        except NotFoundError:
            found = None
        if found is None or instances.TAGS.owner_key not in (found.get("tags") or {}):
            raise NotFoundError(
                f"no fleet (scale set {resource_name(fleet)!r}) named {fleet!r} in resource group {self._rg}",
                provider=self.name,
                operation=operation,
            )
        return found

    async def _vms(self, operation: str, fleet: str | None = None) -> list[Any]:
        compute = self.clients.compute
        flt = f"'virtualMachineScaleSet/id' eq '{self._scale_set_id(fleet)}'" if fleet else None
        return await self.clients.calls.collect(
            operation, lambda: compute.virtual_machines.list(self._rg, filter=flt, expand="instanceView")
        )

    async def _fleet(self, vmss: Any, operation: str, vms: list[Any] | None = None) -> Fleet:
        fleet = vmss["tags"][instances.TAGS.owner_key]
        vms = vms if vms is not None else await self._vms(operation, fleet)
        running = sum(instances.state_of(vm) is InstanceState.RUNNING for vm in vms)
        price = price_or_nan(self.hourly_price)(vmss["sku"]["name"], fleets.is_spot(vmss))
        return fleets.to_fleet(vmss, running, self.name, self.region, price)

    def _subnet(self, config: FleetConfig) -> str:
        subnet = config.networking.get("subnet_id") or self.config.subnet_id
        if not subnet:
            raise ValidationError(
                "networking.subnet_id: an Azure fleet needs the subnet its VMs' NICs go in",
                field="networking.subnet_id",
                rule="a subnet's resource id",
                solution="Set subnet_id in compute.providers.azure, or pass networking={'subnet_id': '<the subnet id>'}",
            )
        return str(subnet)

    # -- status ------------------------------------------------------------
    async def status(self) -> ProviderStatus:
        compute = self.clients.compute
        usages = await self.clients.calls.collect("status", lambda: compute.usage.list(self.region))
        quotas = {
            u["name"]["value"]: {"used": u["currentValue"], "limit": u["limit"], "name": u["name"].get("localizedValue")}
            for u in usages
        }
        cores = quotas.get(VCPU_QUOTA)
        who = self.config.credentials
        whom = (
            "anonymous (offline fake)"
            if who == "anonymous"
            else f"service principal {who.client_id}"
            if who is not None
            else "DefaultAzureCredential"
        )
        quota_text = f"regional vCPUs {cores['used']}/{cores['limit']}" if cores else "regional vCPU quota not listed"
        return ProviderStatus(
            provider=self.name,
            ok=True,
            region=self.region,
            account=self.config.subscription_id,
            detail=f"subscription {self.config.subscription_id} reachable as {whom} in {self.region}; {quota_text}",
            facts={
                "resource_group": self._rg,
                "credentials": whom,
                "vcpu_quotas": quotas,
                "poll_interval": self.config.poll_interval,
                "retry_total": self.config.retry_total,
            },
        )

    # -- fleets ------------------------------------------------------------
    async def create_fleet(self, config: FleetConfig) -> Fleet:
        op = "create_fleet"
        assert config.instance_type is not None
        catalog.lookup(config.instance_type, provider="azure").price(bool(config.spot))
        instances.TAGS.check(config.tags)
        subnet = self._subnet(config)
        compute = self.clients.compute
        name = resource_name(config.name)
        existing = await self.clients.calls.collect(op, lambda: compute.virtual_machine_scale_sets.list(self._rg))
        if any(v["name"] == name for v in existing):
            raise self.already_exists("fleet", config.name, op)
        image = config.image or self.config.rules.default_image
        assert image is not None
        body = fleets.body(config, subnet, image, self.region)
        vmss = await self.clients.calls.finish(
            op, lambda: compute.virtual_machine_scale_sets.begin_create_or_update(self._rg, name, body)
        )
        return await self._fleet(vmss, op)

    async def update_fleet(self, config: FleetConfig) -> Fleet:
        op = "update_fleet"
        if config.instance_type is not None:
            catalog.lookup(config.instance_type, provider="azure")
        instances.TAGS.check(config.tags)
        current = await self._scale_set(config.name, op)
        old = fleets.to_fleet(current, 0, self.name, self.region, 0.0)
        lo = config.min_capacity if config.min_capacity is not None else old.min_capacity
        hi = config.max_capacity if config.max_capacity is not None else old.max_capacity
        capacity = config.capacity if config.capacity is not None else min(max(old.capacity, lo), hi)
        FleetConfig(name=config.name, capacity=capacity, min_capacity=lo, max_capacity=hi)  # bounds check
        spot = old.spot if config.spot is None else config.spot
        itype = config.instance_type or old.instance_type
        if config.instance_type is not None or config.spot is not None:
            catalog.lookup(itype, provider="azure").price(spot)
        merged = config._replace(description=config.description or old.description, tags={**old.tags, **config.tags})
        patch: dict[str, Any] = {
            "tags": fleets.tags(merged, lo, hi),
            "sku": {"name": itype, "tier": "Standard", "capacity": capacity},
        }
        if config.image is not None:
            patch["properties"] = {
                "virtualMachineProfile": {"storageProfile": {"imageReference": fleets.image_reference(config.image)}}
            }
        compute = self.clients.compute
        vmss = await self.clients.calls.finish(
            op, lambda: compute.virtual_machine_scale_sets.begin_update(self._rg, resource_name(config.name), patch)
        )
        return await self._fleet(vmss, op)

    async def update_fleet_capacity(self, fleet: str, capacity: int) -> Fleet:
        op = "update_fleet_capacity"
        await self._scale_set(fleet, op)
        compute = self.clients.compute
        patch = {"sku": {"capacity": capacity}}
        vmss = await self.clients.calls.finish(
            op, lambda: compute.virtual_machine_scale_sets.begin_update(self._rg, resource_name(fleet), patch)
        )
        return await self._fleet(vmss, op)

    async def delete_fleet(self, fleet: str) -> None:
        op = "delete_fleet"
        await self._scale_set(fleet, op)
        compute = self.clients.compute
        await self.clients.calls.finish(
            op,
            lambda: compute.virtual_machine_scale_sets.begin_delete(self._rg, resource_name(fleet), force_deletion=True),
        )

    async def get_fleet(self, fleet: str) -> Fleet:
        return await self._fleet(await self._scale_set(fleet, "get_fleet"), "get_fleet")

    async def list_fleets(self) -> list[Fleet]:
        op = "list_fleets"
        compute = self.clients.compute
        sets, vms = await asyncio.gather(
            self.clients.calls.collect(op, lambda: compute.virtual_machine_scale_sets.list(self._rg)),
            self._vms(op),
        )
        ours = [v for v in sets if instances.TAGS.owner_key in (v.get("tags") or {})]
        by_set: dict[str, list[Any]] = {}
        for vm in vms:
            if (name := instances.scale_set_name(vm)) is not None:
                by_set.setdefault(name.lower(), []).append(vm)
        return [await self._fleet(v, op, by_set.get(v["name"].lower(), [])) for v in ours]

    # -- instances -----------------------------------------------------------
    async def list_instances(self, fleet: str | None = None, states: set[InstanceState] | None = None) -> pd.DataFrame:
        vms = await self._vms("list_instances", fleet)
        if states:
            vms = [vm for vm in vms if instances.state_of(vm) in states]
        return instances.to_frame(vms, self.name, self.region, self.hourly_price)

    async def get_instance(self, instance_id: str, operation: str = "get_instance") -> Instance:
        compute = self.clients.compute
        vm = await self.clients.calls.run(
            operation, lambda: compute.virtual_machines.get(self._rg, instance_id, expand="instanceView")
        )
        return instances.to_instance(vm, self.name, self.region)

    async def _instance_call(self, operation: str, instance_id: str) -> Instance:
        compute = self.clients.compute
        method = getattr(compute.virtual_machines, INSTANCE_CALLS[operation])
        before = await self.get_instance(instance_id, operation)
        await self.clients.calls.finish(operation, lambda: method(self._rg, instance_id))
        if operation == "terminate_instance":
            return before._replace(state=InstanceState.TERMINATED)
        return await self.get_instance(instance_id, operation)

    async def start_instance(self, instance_id: str) -> Instance:
        return await self._instance_call("start_instance", instance_id)

    async def stop_instance(self, instance_id: str) -> Instance:
        """Deallocate: the VM keeps its disk, compute billing stops (a mere power-off would keep billing)."""
        return await self._instance_call("stop_instance", instance_id)

    async def terminate_instance(self, instance_id: str) -> Instance:
        """Delete the VM; a Flexible scale set does not replace it, so its fleet's capacity drops by one."""
        return await self._instance_call("terminate_instance", instance_id)

    # -- plans -----------------------------------------------------------------
    def describe_call(self, request: plans.PlanRequest) -> str:
        """The SDK calls a plan's step makes, e.g. ``virtual_machine_scale_sets.begin_update(...)``."""
        match request:
            case plans.CreateFleet(fleet, instance_type, capacity):
                return call_text(
                    "virtual_machine_scale_sets.begin_create_or_update",
                    name=resource_name(fleet),
                    vmSize=instance_type,
                    capacity=capacity,
                )
            case plans.UpdateFleet(fleet):
                return call_text("virtual_machine_scale_sets.begin_update", name=resource_name(fleet))
            case plans.UpdateFleetCapacity(fleet, capacity):
                return call_text("virtual_machine_scale_sets.begin_update", name=resource_name(fleet), capacity=capacity)
            case plans.DeleteFleet(fleet):
                return call_text("virtual_machine_scale_sets.begin_delete", name=resource_name(fleet))
            case plans.InstanceRequest(instance_id):
                return call_text(f"virtual_machines.{INSTANCE_CALLS[request.operation]}", vm_name=instance_id)
            case _:
                return super().describe_call(request)

    async def close(self) -> None:
        self.clients.close()
