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
import json
import logging
import time
import uuid
from email.utils import parsedate_to_datetime
from typing import Any

import pandas as pd

from ... import catalog, durations, frames
from ...config import AzureConfig
from ...errors import ComputeError, ConflictError, NotFoundError, ProviderError, ValidationError
from ...models import (
    AutoScalingConfig,
    CapacitySchedule,
    Fleet,
    FleetConfig,
    Function,
    FunctionConfig,
    Instance,
    InstanceState,
    Invocation,
)
from ..base import ComputeProvider, ProviderStatus
from ..capabilities import Feature
from ..kit import plans
from ..kit.cost_estimate import billed_else_estimated, cost_window
from ..kit.naming import resource_name
from ..kit.plans import call_text
from ..kit.pricing import price_or_nan
from ..kit.utilization import fleet_frame, instance_frame
from . import autoscale, costs, fleets, function_app, functions, instances, metrics
from . import schedules as azure_schedules
from .clients import Clients

__all__ = ["AzureProvider"]

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
        out = {
            Feature.INVOCATION_HISTORY: "Azure Functions keeps past invocations in Application Insights, "
            "which this adapter does not read",
        }
        if isinstance(request, plans.PutSchedule) and (reason := azure_schedules.refusal(request.schedule)):
            out[Feature.SCHEDULES] = reason
        return out

    # -- capacity schedules: recurrence profiles of the autoscale setting (providers/azure/schedules.py) --
    async def put_schedule(self, schedule: CapacitySchedule) -> CapacitySchedule:
        return await azure_schedules.put(self, schedule)

    async def list_schedules(self, fleet: str | None = None) -> list[CapacitySchedule]:
        return await azure_schedules.listing(self, fleet)

    async def delete_schedule(self, fleet: str, name: str) -> None:
        await azure_schedules.delete(self, fleet, name)

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

    async def _set_vms(self, operation: str, set_id: str) -> list[Any]:
        """A scale set's VMs with their instance views (ARM takes ``expand=instanceView`` only with this filter)."""
        compute = self.clients.compute
        flt = f"'virtualMachineScaleSet/id' eq '{set_id}'"
        return await self.clients.calls.collect(
            operation, lambda: compute.virtual_machines.list(self._rg, filter=flt, expand="instanceView")
        )

    async def _vms(self, operation: str, fleet: str | None = None, sets: list[Any] | None = None) -> list[Any]:
        """The VMs of one fleet, or of every fleet (``sets``: the resource group's scale sets, listed if not given)."""
        if fleet is not None:
            return await self._set_vms(operation, self._scale_set_id(fleet))
        if sets is None:
            compute = self.clients.compute
            sets = await self.clients.calls.collect(operation, lambda: compute.virtual_machine_scale_sets.list(self._rg))
        ours = [v for v in sets if instances.TAGS.owner_key in (v.get("tags") or {})]
        found = await asyncio.gather(*(self._set_vms(operation, v["id"]) for v in ours))
        return [vm for vms in found for vm in vms]

    async def _setting(self, fleet: str, operation: str) -> Any | None:
        monitor = self.clients.monitor
        try:
            return await self.clients.calls.run(
                operation, lambda: monitor.autoscale_settings.get(self._rg, autoscale.setting_name(fleet))
            )
        except NotFoundError:
            return None

    async def _fleet(self, vmss: Any, operation: str, vms: list[Any] | None = None, setting: Any = False) -> Fleet:
        """A Fleet of a scale set; ``vms`` and ``setting`` (its autoscale setting or None) are read unless given."""
        fleet = vmss["tags"][instances.TAGS.owner_key]
        if vms is None:  # a Flexible set has no instance view of its VMs' power states: list them
            vms, setting = await asyncio.gather(self._set_vms(operation, vmss["id"]), self._setting(fleet, operation))
        running = sum(instances.state_of(vm) is InstanceState.RUNNING for vm in vms)
        price = price_or_nan(self.hourly_price)(vmss["sku"]["name"], fleets.is_spot(vmss))
        out = fleets.to_fleet(vmss, running, self.name, self.region, price)
        return out._replace(auto_scaling=autoscale.config_of(setting)) if setting else out

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

    def _ssh_key(self) -> str:
        """The admin's SSH public key: the VMs allow no password, so ARM refuses a set without one."""
        if self.config.ssh_public_key is None:
            raise ValidationError(
                "ssh_public_key: an Azure fleet's Linux VMs allow SSH with a key only, and none is configured",
                field="ssh_public_key",
                rule="an ssh-rsa or ssh-ed25519 public key, or the path of its .pub file",
                solution="Add ssh_public_key: ~/.ssh/id_ed25519.pub (or ${AZURE_SSH_PUBLIC_KEY}) to compute.providers.azure; "
                "create a key with `ssh-keygen -t ed25519`",
            )
        return self.config.ssh_public_key

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
        key = self._ssh_key()
        compute = self.clients.compute
        name = resource_name(config.name)
        existing = await self.clients.calls.collect(op, lambda: compute.virtual_machine_scale_sets.list(self._rg))
        if any(v["name"] == name for v in existing):
            raise self.already_exists("fleet", config.name, op)
        image = config.image or self.config.rules.default_image
        assert image is not None
        body = fleets.body(config, subnet, image, self.region, self.config.admin_username, key)
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
        sets = await self.clients.calls.collect(op, lambda: compute.virtual_machine_scale_sets.list(self._rg))
        vms = await self._vms(op, sets=sets)
        monitor = self.clients.monitor
        settings = await self.clients.calls.collect(op, lambda: monitor.autoscale_settings.list_by_resource_group(self._rg))
        by_name = {s.name.lower(): s for s in settings}
        ours = [v for v in sets if instances.TAGS.owner_key in (v.get("tags") or {})]
        by_set: dict[str, list[Any]] = {}
        for vm in vms:
            if (name := instances.scale_set_name(vm)) is not None:
                by_set.setdefault(name.lower(), []).append(vm)
        return [
            await self._fleet(
                v,
                op,
                by_set.get(v["name"].lower(), []),
                by_name.get(autoscale.setting_name(v["tags"][instances.TAGS.owner_key]).lower()),
            )
            for v in ours
        ]

    async def _cloud_now(self, operation: str) -> pd.Timestamp:
        """Azure's time now: the ``Date`` of ARM's answer to one small request (the location's usages)."""
        compute = self.clients.compute
        await self.clients.calls.run(operation, lambda: next(iter(compute.usage.list(self.region).by_page()), None))
        date = self.clients.clock.date
        now: pd.Timestamp = pd.Timestamp(parsedate_to_datetime(date)) if date else pd.Timestamp.now(tz="UTC")
        return now

    # -- autoscaling -----------------------------------------------------------------
    async def configure_auto_scaling(self, fleet: str, config: AutoScalingConfig) -> Fleet:
        """An autoscale setting with the simulator's Azure rules for ``config``; the set's bounds and capacity follow."""
        op = "configure_auto_scaling"
        vmss = await self._scale_set(fleet, op)
        setting = autoscale.to_setting(config, vmss["id"], self.region, instances.TAGS.owner(fleet))
        setting = azure_schedules.keep(setting, await self._setting(fleet, op))  # the fleet's schedules stay
        monitor, compute = self.clients.monitor, self.clients.compute
        await self.clients.calls.run(
            op, lambda: monitor.autoscale_settings.create_or_update(self._rg, autoscale.setting_name(fleet), setting)
        )
        capacity = min(max(int(vmss["sku"]["capacity"]), config.min_capacity), config.max_capacity)
        old = fleets.to_fleet(vmss, 0, self.name, self.region, 0.0)
        bounds = config.min_capacity, config.max_capacity
        patch = {"tags": fleets.tags(FleetConfig(fleet, old.description, tags=old.tags), *bounds), "sku": {"capacity": capacity}}
        await self.clients.calls.finish(
            op, lambda: compute.virtual_machine_scale_sets.begin_update(self._rg, resource_name(fleet), patch)
        )
        return await self.get_fleet(fleet)

    async def scaling_activities(self, fleet: str) -> pd.DataFrame:
        """The autoscale setting's scale-up/down events in the activity log (kept 90 days), oldest first."""
        op = "scaling_activities"
        await self._scale_set(fleet, op)
        now = await self._cloud_now(op)
        monitor = self.clients.monitor
        setting_id = (
            f"/subscriptions/{self.config.subscription_id}/resourceGroups/{self._rg}"
            f"/providers/microsoft.insights/autoscalesettings/{autoscale.setting_name(fleet)}"
        )
        flt = autoscale.activity_filter(setting_id, now - pd.Timedelta(days=89), now)
        events = await self.clients.calls.collect(op, lambda: monitor.activity_logs.list(filter=flt))
        return autoscale.activities(events, fleet, self.name)

    # -- instances -----------------------------------------------------------
    async def _private_ips(self, operation: str) -> dict[str, str]:
        """Private IPs of the resource group's VMs, from its network interfaces (one paged listing)."""
        network = self.clients.network
        nics = await self.clients.calls.collect(operation, lambda: network.network_interfaces.list(self._rg))
        return instances.private_ips(nics)

    async def _private_ip(self, vm: Any, operation: str) -> str | None:
        nic_id = instances.primary_nic_id(vm)
        if nic_id is None:
            return None
        network = self.clients.network
        rg, name = nic_id.split("/")[4], nic_id.rsplit("/", 1)[-1]
        try:
            nic = await self.clients.calls.run(operation, lambda: network.network_interfaces.get(rg, name))
        except NotFoundError:
            return None  # the VM is being deleted with its NIC
        return instances.private_ips([nic]).get(str(vm["id"]).lower())

    async def list_instances(self, fleet: str | None = None, states: set[InstanceState] | None = None) -> pd.DataFrame:
        op = "list_instances"
        vms, ips = await asyncio.gather(self._vms(op, fleet), self._private_ips(op))
        df = instances.to_frame(vms, self.name, self.region, self.hourly_price, ips)
        if states:
            df = df[df["state"].isin({s.value for s in states})].reset_index(drop=True)
        return df

    async def get_instance(self, instance_id: str, operation: str = "get_instance") -> Instance:
        compute = self.clients.compute
        vm = await self.clients.calls.run(
            operation, lambda: compute.virtual_machines.get(self._rg, instance_id, expand="instanceView")
        )
        return instances.to_instance(vm, self.name, self.region, await self._private_ip(vm, operation))

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

    # -- functions -------------------------------------------------------------------
    def _app(self, function: str) -> str:
        return functions.app_name(function, self.config.subscription_id, self._rg)

    async def _storage(self, operation: str) -> tuple[str, str]:
        """(connection string, blob endpoint) of the resource group's package storage account, created if missing."""
        storage = self.clients.storage
        name = functions.storage_name(self.config.subscription_id, self._rg)
        body = {
            "location": self.region,
            "kind": "StorageV2",
            "sku": {"name": "Standard_LRS"},
            "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False},
        }
        account = await self.clients.calls.finish(operation, lambda: storage.storage_accounts.begin_create(self._rg, name, body))
        keys = await self.clients.calls.run(operation, lambda: storage.storage_accounts.list_keys(self._rg, name))
        key = keys["keys"][0]["value"]
        connection = f"DefaultEndpointsProtocol=https;AccountName={name};AccountKey={key};EndpointSuffix=core.windows.net"
        return connection, str(account["properties"]["primaryEndpoints"]["blob"])

    async def _settings(self, app: str, operation: str) -> dict[str, str]:
        web = self.clients.web
        found = await self.clients.calls.run(operation, lambda: web.web_apps.list_application_settings(self._rg, app))
        return dict(found.get("properties") or {})

    async def _site(self, function: str, operation: str) -> Any:
        web = self.clients.web
        try:
            found = await self.clients.calls.run(operation, lambda: web.web_apps.get(self._rg, self._app(function)))
        except NotFoundError:
            found = None
        if found is None or (found.get("tags") or {}).get("clusterdb:function") != function:
            raise NotFoundError(
                f"no function (Function App {self._app(function)!r}) named {function!r} in resource group {self._rg}",
                provider=self.name,
                operation=operation,
            )
        return found

    async def _publish(self, app: str, package: bytes, operation: str) -> None:
        """One deploy of ``package`` to the app's deployment endpoint, waiting until it is live."""
        import requests

        scm = f"https://{app}.scm.azurewebsites.net"
        headers = {"Authorization": f"Bearer {await asyncio.to_thread(self.clients.bearer)}"}

        def publish() -> None:
            answer = requests.post(
                f"{scm}/api/publish?RemoteBuild=true",
                data=package,
                headers={**headers, "Content-Type": "application/zip"},
                timeout=600,
            )
            deadline = time.monotonic() + 900
            while answer.status_code in (200, 202):
                state = requests.get(f"{scm}/api/deployments/latest", headers=headers, timeout=60)
                doc = state.json() if state.ok else {}
                if doc.get("complete"):
                    if doc.get("status") == 4:
                        return
                    raise ProviderError(
                        f"deployment of {app} failed: {doc.get('status_text') or doc}", provider=self.name, operation=operation
                    )
                if time.monotonic() > deadline:
                    break
                time.sleep(self.config.poll_interval)
            raise ProviderError(
                f"deployment of {app} was not accepted (HTTP {answer.status_code}): {answer.text[:200]}",
                provider=self.name,
                operation=operation,
            )

        await asyncio.to_thread(publish)

    async def _put_settings(self, app: str, values: dict[str, str], operation: str) -> None:
        web = self.clients.web
        await self.clients.calls.run(
            operation, lambda: web.web_apps.update_application_settings(self._rg, app, {"properties": values})
        )

    async def _deploy(self, config: FunctionConfig, app: str, operation: str) -> None:
        """Publish ``config``'s code with the generated adapter; a failed deployment leaves the live code as it was."""
        await self._publish(app, function_app.package(config, functions.instance_memory(config.memory_mb)), operation)

    async def create_function(self, config: FunctionConfig) -> Function:
        """A Function App on its own Flex Consumption plan, its settings, and the zip deployed with the adapter."""
        op = "create_function"
        functions.check(config)
        function_app.source(config.name, config.handler, config.timeout_sec, 512)  # handler shape, before any call
        app = self._app(config.name)
        try:
            await self._site(config.name, op)
        except NotFoundError:
            pass
        else:
            raise self.already_exists("function", config.name, op)
        web, storage = self.clients.web, self.clients.storage
        connection, blob = await self._storage(op)
        container = f"app-package-{app}"[:63]
        account = functions.storage_name(self.config.subscription_id, self._rg)
        try:
            await self.clients.calls.run(
                op, lambda: storage.blob_containers.create(self._rg, account, container, {"properties": {}})
            )
        except ConflictError:
            pass  # the container is left from an earlier app of this name
        plan = await self.clients.calls.finish(
            op, lambda: web.app_service_plans.begin_create_or_update(self._rg, f"{app}-plan", functions.plan(self.region))
        )
        body = functions.site(config, self.region, plan["id"], f"{blob}{container}", config.name)
        await self.clients.calls.finish(op, lambda: web.web_apps.begin_create_or_update(self._rg, app, body))
        try:
            await self._deploy(config, app, op)
        except ComputeError:
            await self._remove(app, plan["name"], op)  # no half-made function stays behind to block a retry
            raise
        assert config.code is not None
        await self._put_settings(app, functions.settings(config, 1, connection, config.code_sha256 or "", len(config.code)), op)
        return await self.get_function(config.name)

    async def update_function(self, config: FunctionConfig) -> Function:
        """New settings (and code, when given) as the next version; a new handler needs the code again."""
        op = "update_function"
        functions.check(config)
        current = await self.get_function(config.name)
        if config.code is None and config.handler != current.handler:
            raise ValidationError(
                "code: changing the handler on Azure regenerates function_app.py, so pass the code again",
                field="code",
                rule="code with a new handler",
            )
        app = self._app(config.name)
        site = await self._site(config.name, op)
        body = functions.site(
            config,
            self.region,
            site["properties"]["serverFarmId"],
            site["properties"]["functionAppConfig"]["deployment"]["storage"]["value"],
            config.name,
        )
        if config.code is not None:
            await self._deploy(config, app, op)  # first: when it fails, nothing has changed
        web = self.clients.web
        await self.clients.calls.finish(op, lambda: web.web_apps.begin_create_or_update(self._rg, app, body))
        connection = (await self._settings(app, op))["AzureWebJobsStorage"]
        sha, size = (
            (config.code_sha256, len(config.code)) if config.code is not None else (current.code_sha256, current.code_size)
        )
        await self._put_settings(app, functions.settings(config, current.version + 1, connection, sha or "", size), op)
        return await self.get_function(config.name)

    async def delete_function(self, function: str) -> None:
        op = "delete_function"
        site = await self._site(function, op)
        await self._remove(self._app(function), str(site["properties"]["serverFarmId"]).rsplit("/", 1)[-1], op)

    async def _remove(self, app: str, plan: str, operation: str) -> None:
        """Delete a Function App and its plan."""
        web = self.clients.web
        await self.clients.calls.run(operation, lambda: web.web_apps.delete(self._rg, app))
        await self.clients.calls.run(operation, lambda: web.app_service_plans.delete(self._rg, plan))

    async def get_function(self, function: str) -> Function:
        op = "get_function"
        site = await self._site(function, op)
        return functions.to_function(site, await self._settings(self._app(function), op), function, self.name)

    async def list_functions(self) -> list[Function]:
        op = "list_functions"
        web = self.clients.web
        sites = await self.clients.calls.collect(op, lambda: web.web_apps.list_by_resource_group(self._rg))
        ours = sorted(
            ((s["tags"]["clusterdb:function"], s) for s in sites if "clusterdb:function" in (s.get("tags") or {})),
            key=lambda pair: pair[0],
        )
        found = await asyncio.gather(*(self._settings(s["name"], op) for _, s in ours))
        return [functions.to_function(s, values, name, self.name) for (name, s), values in zip(ours, found)]

    async def invoke_function(self, function: str, payload: bytes) -> Invocation:
        """HTTPS POST to ``https://<app>.azurewebsites.net/api/<function>`` with the function key.

        The cost is estimated with Azure's Consumption rule on the instance memory.
        """
        import requests

        from ..function_billing import BILLING

        op = "invoke_function"
        fn = await self.get_function(function)
        app = self._app(function)
        web = self.clients.web
        keys = await self.clients.calls.run(op, lambda: web.web_apps.list_function_keys(self._rg, app, function))
        key = (keys.get("properties") or {}).get("default") or next(iter((keys.get("properties") or {}).values()), "")
        started = pd.Timestamp.now(tz="UTC")

        def post() -> Any:
            t0 = time.perf_counter()
            answer = requests.post(
                f"https://{app}.azurewebsites.net/api/{function}",
                data=payload,
                headers={"x-functions-key": key, "Content-Type": "application/json"},
                timeout=fn.timeout_sec + 30,
            )
            return answer, (time.perf_counter() - t0) * 1000.0

        answer, duration = await asyncio.to_thread(post)
        error = None
        if answer.status_code >= 400:
            try:
                error = answer.json()
            except ValueError:
                error = {"errorType": f"HTTP{answer.status_code}", "errorMessage": answer.text[:500]}
        rule = BILLING["azure"]
        billed = int(rule.billed_ms(duration))
        timed_out = answer.status_code in (408, 504) or "timeout" in str((error or {}).get("errorType", "")).lower()
        return Invocation(
            request_id=answer.headers.get("x-ms-invocation-id") or str(uuid.uuid4()),
            function=function,
            version=fn.version,
            provider=self.name,
            status="success" if error is None else "timeout" if timed_out else "error",
            payload=answer.content if error is None else json.dumps(error).encode(),
            error=error,
            duration_ms=round(duration, 3),
            billed_ms=billed,
            memory_mb=fn.memory_mb,
            started_at=started.to_pydatetime(),
            cost_usd=float(rule.cost_usd(billed, fn.memory_mb)),
        )

    # -- utilization and costs ----------------------------------------------------------
    async def _cpu(self, resource_id: str, window: str, grain: str, operation: str) -> pd.Series:
        monitor = self.clients.monitor
        found = await self.clients.calls.run(
            operation,
            lambda: monitor.metrics.list(
                resource_id, timespan=window, interval=grain, metricnames=metrics.METRIC, aggregation="Average"
            ),
        )
        return metrics.series(found)

    async def utilization(
        self, fleet: str, start: pd.Timestamp | None, end: pd.Timestamp | None, period: str = "5min", by: str = "fleet"
    ) -> pd.DataFrame:
        """ "Percentage CPU" from Azure Monitor, of the scale set or of each of its VMs.

        Azure Monitor has no instance-count metric for a scale set, so ``running`` and
        ``desired_capacity`` are the fleet's counts now, carried over the window.
        """
        op = "utilization"
        grain = metrics.interval(period)
        vmss = await self._scale_set(fleet, op)
        now = await self._cloud_now(op)
        hi = (end if end is not None else now).ceil("min")
        lo = (start if start is not None else pd.Timestamp(vmss["properties"]["timeCreated"])).tz_convert("UTC").floor("min")
        durations.check_window(lo, hi)
        if lo == hi:
            return frames.frame(frames.INSTANCE_UTILIZATION if by == "instance" else frames.UTILIZATION, [])
        window = metrics.timespan(lo, hi)
        vms = await self._vms(op, fleet)
        if by == "instance":
            found = await asyncio.gather(*(self._cpu(vm["id"], window, grain, op) for vm in vms))
            return instance_frame({vm["name"]: cpu for vm, cpu in zip(vms, found)}, fleet, self.name)
        cpu = await self._cpu(vmss["id"], window, grain, op)
        running = sum(instances.state_of(vm) is InstanceState.RUNNING for vm in vms)
        at = cpu.index[:1] if len(cpu) else pd.DatetimeIndex([lo])
        return fleet_frame(
            cpu,
            pd.Series([float(running)], index=at),
            pd.Series([float(vmss["sku"]["capacity"])], index=at),
            fleet,
            self.name,
        )

    async def costs(self, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
        """VM costs from Cost Management by resource, else the catalog estimate for running VMs (see costs.py)."""
        op = "costs"
        lo, hi = cost_window(start, end, now=await self._cloud_now(op))
        if lo == hi:
            return frames.frame(frames.COSTS, [])
        scope = f"/subscriptions/{self.config.subscription_id}/resourceGroups/{self._rg}"
        body = costs.query(lo, hi)

        async def billed() -> pd.DataFrame | None:
            pages = await self._cost_pages(scope, body, op)
            compute = self.clients.compute
            sets = await self.clients.calls.collect(op, lambda: compute.virtual_machine_scale_sets.list(self._rg))
            vms = await self._vms(op, sets=sets)
            return costs.billing_frame(costs.rows_of(pages), self.name, self.region, vms, sets)

        return await billed_else_estimated(billed, lambda: self.list_instances(None, {InstanceState.RUNNING}), lo, hi)

    async def _cost_pages(self, scope: str, body: dict[str, Any], operation: str) -> list[Any]:
        """Every page of a Cost Management query: the next one is the same body POSTed to ``nextLink``."""
        from azure.core.rest import HttpRequest

        client = self.clients.costs
        pages = [await self.clients.calls.run(operation, lambda: client.query.usage(scope, body))]
        while link := pages[-1]["properties"].get("nextLink"):

            def more(url: str = link) -> Any:
                answer = client.send_request(HttpRequest("POST", url, json=body))
                answer.raise_for_status()
                return answer.json()

            pages.append(await self.clients.calls.run(operation, more))
        return pages

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
            case plans.ConfigureAutoScaling(fleet, config):
                return call_text(
                    "autoscale_settings.create_or_update",
                    name=autoscale.setting_name(fleet),
                    minimum=config.min_capacity,
                    maximum=config.max_capacity,
                    scale_out_above=config.target_cpu_utilization,
                )
            case plans.CreateFunction(function) | plans.UpdateFunction(function) | plans.DeleteFunction(function):
                verb = {"create_function": "begin_create_or_update", "update_function": "begin_create_or_update"}
                return call_text(f"web_apps.{verb.get(request.operation, 'delete')}", name=self._app(function))
            case plans.InstanceRequest(instance_id):
                return call_text(f"virtual_machines.{INSTANCE_CALLS[request.operation]}", vm_name=instance_id)
            case _:
                return super().describe_call(request)

    async def close(self) -> None:
        self.clients.close()
