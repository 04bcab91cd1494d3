"""The Google Cloud provider: a fleet is a regional managed instance group plus its instance template.

    >>> s = clusterdb_nb.connect(gcp={"project_id": "my-project", "region": "us-central1"})
    >>> s.create_fleet(FleetConfig("web", capacity=3, provider="gcp"))     # e2-medium, debian-12

Both resources are named ``clusterdb-<fleet>``; the fleet name and the tags that fit GCE's label
rules are labels, the others ride in the template's metadata (``clusterdb-tags``, JSON), with the
fleet's bounds (``clusterdb-min`` / ``clusterdb-max``). ``stop``/``start`` use the group's
``stopInstances``/``startInstances``, so the group keeps the stopped VM (its ``targetStoppedSize``)
and does not recreate it; ``terminate`` is the group's ``deleteInstances``, which removes the VM and
lowers the target size by one (the group does not replace it, as a fleet member terminated by hand
is gone). Every call goes through google-cloud-compute's REST clients in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from ... import catalog, durations, frames
from ...config import GcpConfig
from ...errors import ConflictError, NotFoundError, NotSupportedError
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
from ..kit.cost_estimate import cost_window, estimate
from ..kit.naming import fleet_of, resource_name
from ..kit.plans import call_text
from ..kit.pricing import price_or_nan
from . import functions, instances, metrics
from . import schedules as gcp_schedules
from .clients import Clients
from .instances import LABELS, TAGS_METADATA

__all__ = ["GcpProvider"]

QUOTA_FACTS = ("CPUS", "INSTANCES", "INSTANCE_GROUP_MANAGERS")
INSTANCE_CALLS = {"start_instance": "startInstances", "stop_instance": "stopInstances", "terminate_instance": "deleteInstances"}


def _policy(scaler: Any) -> AutoScalingConfig | None:
    """Our policy from a Compute Engine autoscaler (``utilizationTarget`` 0..1 -> percent)."""
    if scaler is None:
        return None
    p = scaler.autoscaling_policy
    return AutoScalingConfig(
        min_capacity=p.min_num_replicas,
        max_capacity=p.max_num_replicas,
        target_cpu_utilization=round(p.cpu_utilization.utilization_target * 100, 6),
        cooldown_seconds=p.cool_down_period_sec,
    )


def _name(link: str) -> str:
    """The last part of a resource URL (``.../instanceTemplates/clusterdb-web`` -> ``clusterdb-web``)."""
    return str(link).rsplit("/", 1)[-1]


class GcpProvider(ComputeProvider):
    """Google Cloud in one project and region (``kind = "gcp"``), configured by ``GcpConfig``."""

    kind = "gcp"
    config_model = GcpConfig
    config: GcpConfig
    # a regional managed instance group holds at most 2,000 VMs (Compute Engine docs, "Creating MIGs")
    max_group_size = 2_000

    def not_supported(self, request: object | None = None) -> dict[Feature, str]:
        """What Google Cloud does not offer through this adapter, with the reason."""
        out = {
            Feature.BILLED_COSTS: "Google bills through a BigQuery export, which this toolkit does not require; "
            "costs are the catalog estimate",
            Feature.INVOCATION_HISTORY: "Cloud Functions keeps no list of past invocations (they are in Cloud Logging)",
        }
        if isinstance(request, plans.PutSchedule) and request.current is not None:
            now = pd.Timestamp(self.current_time(), unit="s", tz="UTC")
            reason = gcp_schedules.refusal(request.current, request.schedule, list(request.others), now)
            if reason:
                out[Feature.SCHEDULES] = reason
        return out

    # -- functions ------------------------------------------------------------------------------
    def _function_name(self, function: str) -> str:
        return f"{self.clients.location}/functions/{function}"

    async def _upload(self, config: FunctionConfig, operation: str) -> dict[str, Any]:
        """``generateUploadUrl``, then PUT the zip (with the generated adapter) there; the ``storageSource`` to build from."""
        assert config.code is not None
        found = await self.clients.call("functions", "generate_upload_url", operation, parent=self.clients.location)
        code = functions.with_adapter(config.code, config.handler)

        def put() -> None:
            import requests

            answer = requests.put(found.upload_url, data=code, headers={"Content-Type": "application/zip"}, timeout=300)
            answer.raise_for_status()

        await self.clients.calls.run(operation, put)
        return {"bucket": found.storage_source.bucket, "object": found.storage_source.object_}

    async def create_function(self, config: FunctionConfig) -> Function:
        from google.cloud import functions_v2

        op = "create_function"
        source = await self._upload(config, op)
        body = functions.body(config, source)
        fn = await self.clients.wait(
            "functions",
            "create_function",
            op,
            parent=self.clients.location,
            function=functions_v2.Function.from_json(json.dumps(body)),
            function_id=config.name,
        )
        return functions.to_function(fn, self.name)

    async def update_function(self, config: FunctionConfig) -> Function:
        """Upload new code (when given) and patch the fields set in ``config``; Cloud Run rolls a new revision."""
        from google.cloud import functions_v2

        op = "update_function"
        current = await self.clients.call("functions", "get_function", op, name=self._function_name(config.name))
        now = functions.to_function(current, self.name)
        env = {k: v for k, v in current.service_config.environment_variables.items() if not k.startswith("CLUSTERDB_")}
        set_ = config.model_fields_set
        merged = config._replace(
            runtime=config.runtime if "runtime" in set_ else now.runtime,
            handler=config.handler if "handler" in set_ else now.handler,
            memory_mb=config.memory_mb if "memory_mb" in set_ else now.memory_mb,
            timeout_sec=config.timeout_sec if "timeout_sec" in set_ else now.timeout_sec,
            environment=config.environment if "environment" in set_ else env,
            reserved_concurrency=config.reserved_concurrency if "reserved_concurrency" in set_ else now.reserved_concurrency,
        )
        source = await self._upload(merged, op) if config.code is not None else None
        body = functions.body(merged, source)
        body["name"] = self._function_name(config.name)
        paths = [
            "service_config.available_memory",
            "service_config.timeout_seconds",
            "service_config.environment_variables",
            "build_config.runtime",
        ]
        if merged.reserved_concurrency is not None:
            paths.append("service_config.max_instance_count")
        if config.code is not None:
            paths += ["build_config.source", "build_config.environment_variables", "build_config.entry_point"]
        fn = await self.clients.wait(
            "functions",
            "update_function",
            op,
            function=functions_v2.Function.from_json(json.dumps(body)),
            update_mask={"paths": paths},
        )
        return functions.to_function(fn, self.name)

    async def delete_function(self, function: str) -> None:
        await self.clients.wait("functions", "delete_function", "delete_function", name=self._function_name(function))

    async def get_function(self, function: str) -> Function:
        fn = await self.clients.call("functions", "get_function", "get_function", name=self._function_name(function))
        return functions.to_function(fn, self.name)

    async def list_functions(self) -> list[Function]:
        found = await self.clients.collect("functions", "list_functions", "list_functions", parent=self.clients.location)
        return [functions.to_function(f, self.name) for f in found]

    async def invoke_function(self, function: str, payload: bytes) -> Invocation:
        """POST the payload to the function's URI with an ID token for it; the answer as Lambda reports one."""
        op = "invoke_function"
        fn = await self.clients.call("functions", "get_function", op, name=self._function_name(function))
        current = functions.to_function(fn, self.name)
        uri = fn.service_config.uri

        def post() -> Any:
            import requests

            headers = {"Content-Type": "application/json"}
            if self.config.credentials != "anonymous":
                import google.auth.transport.requests
                from google.oauth2 import id_token

                token = id_token.fetch_id_token(google.auth.transport.requests.Request(), uri)
                headers["Authorization"] = f"Bearer {token}"
            return requests.post(uri, data=payload, headers=headers, timeout=current.timeout_sec + 30)

        started = datetime.now(timezone.utc)
        t0 = time.perf_counter()
        answer = await self.clients.calls.run(op, post)
        return functions.to_invocation(answer, current, started, (time.perf_counter() - t0) * 1000, self.name)

    def __init__(self, config: GcpConfig, name: str | None = None) -> None:
        super().__init__(config, name)
        self.clients = Clients(config, self.name)

    # -- helpers ------------------------------------------------------------------
    async def _group(self, fleet: str, operation: str) -> Any:
        try:
            return await self.clients.call("groups", "get", operation, instance_group_manager=resource_name(fleet))
        except NotFoundError:
            raise NotFoundError(
                f"no fleet (managed instance group {resource_name(fleet)!r}) in {self.region}",
                provider=self.name,
                operation=operation,
            ) from None

    async def _fleet(self, group: Any, operation: str) -> Fleet:
        name = _name(group.instance_template)
        template, managed, scaler = await asyncio.gather(
            self.clients.call("templates", "get", operation, instance_template=name),
            self.clients.collect("groups", "list_managed_instances", operation, instance_group_manager=group.name),
            self._autoscaler(group.name, operation),
        )
        policy = _policy(scaler)
        props = template.properties
        meta = {i.key: i.value for i in props.metadata.items} if props.metadata else {}
        itype = props.machine_type
        spot = props.scheduling.provisioning_model == "SPOT" if props.scheduling else False
        running = sum(1 for m in managed if m.instance_status == "RUNNING")
        tags = {**LABELS.user_tags(dict(props.labels)), **json.loads(meta.get(TAGS_METADATA, "{}"))}
        return Fleet(
            id=str(fleet_of(group.name)),
            name=str(fleet_of(group.name)),
            provider=self.name,
            region=self.region,
            instance_type=itype,
            capacity=group.target_size,
            min_capacity=policy.min_capacity if policy else int(meta.get("clusterdb-min", 0)),
            max_capacity=policy.max_capacity if policy else int(meta.get("clusterdb-max", max(group.target_size, 1))),
            auto_scaling=policy,
            running=running,
            description=group.description,
            spot=spot,
            tags=tags,
            created_at=pd.Timestamp(group.creation_timestamp).tz_convert("UTC").to_pydatetime(),
            hourly_cost_usd=price_or_nan(self.hourly_price)(itype, spot) * running,
        )

    def _template(self, config: FleetConfig, min_capacity: int, max_capacity: int) -> dict[str, Any]:
        """The instance template's JSON body (Compute Engine's own field names)."""
        labels, others = LABELS.split(config.tags)
        net = config.networking
        interface = {"network": net.get("network") or "global/networks/default"}
        if net.get("subnetwork"):
            interface["subnetwork"] = net["subnetwork"]
        meta = {"clusterdb-min": str(min_capacity), "clusterdb-max": str(max_capacity)}
        if others:
            meta[TAGS_METADATA] = json.dumps(others, sort_keys=True)
        props: dict[str, Any] = {
            "machineType": config.instance_type,
            "labels": {**labels, **LABELS.owner(config.name)},
            "disks": [
                {
                    "boot": True,
                    "autoDelete": True,
                    "initializeParams": {"sourceImage": config.image or self.config.rules.default_image},
                }
            ],
            "networkInterfaces": [interface],
            "metadata": {"items": [{"key": k, "value": v} for k, v in meta.items()]},
        }
        if config.spot:
            # a preempted Spot VM is deleted, so the group recreates it and keeps the fleet's capacity
            props["scheduling"] = {"provisioningModel": "SPOT", "instanceTerminationAction": "DELETE"}
        return {"name": resource_name(config.name), "description": config.description[:2048], "properties": props}

    # -- status -----------------------------------------------------------------------
    async def status(self) -> ProviderStatus:
        region = await self.clients.call("regions", "get", "status")
        quotas = {q.metric: {"limit": q.limit, "usage": q.usage} for q in region.quotas if q.metric in QUOTA_FACTS}
        cpus = quotas.get("CPUS", {})
        who = (
            "anonymous (offline fake)"
            if self.config.credentials == "anonymous"
            else (self.config.credentials_file or "Application Default Credentials")
        )
        return ProviderStatus(
            provider=self.name,
            ok=True,
            region=self.region,
            account=self.config.project_id,
            detail=f"project {self.config.project_id} as {who} in {self.region}; "
            f"CPUS quota {cpus.get('usage', 0):g}/{cpus.get('limit', 0):g}",
            facts={"credentials": who, "quotas": quotas, "zones": sorted(z.rsplit("/", 1)[-1] for z in region.zones)},
        )

    # -- fleets -------------------------------------------------------------------------
    async def create_fleet(self, config: FleetConfig) -> Fleet:
        from google.cloud import compute_v1

        assert config.instance_type is not None and config.capacity is not None
        op = "create_fleet"
        catalog.lookup(config.instance_type, provider="gcp").price(bool(config.spot))
        lo = config.min_capacity if config.min_capacity is not None else 0
        hi = config.max_capacity if config.max_capacity is not None else max(config.capacity, 1)
        body = self._template(config, lo, hi)
        template = compute_v1.InstanceTemplate.from_json(json.dumps(body))
        try:
            await self.clients.wait("templates", "insert", op, instance_template_resource=template)
        except Exception as err:
            if type(err).__name__ == "ConflictError":
                raise self.already_exists("fleet", config.name, op) from err
            raise
        group: dict[str, Any] = {
            "name": resource_name(config.name),
            "baseInstanceName": resource_name(config.name),
            "description": config.description,
            "instanceTemplate": f"projects/{self.config.project_id}/global/instanceTemplates/{resource_name(config.name)}",
            "targetSize": config.capacity,
            # new templates reach new VMs only: a fleet update never recreates running VMs by surprise
            "updatePolicy": {"type": "OPPORTUNISTIC", "minimalAction": "REPLACE"},
        }
        if self.config.zones:
            group["distributionPolicy"] = {"zones": [{"zone": f"zones/{z}"} for z in self.config.zones]}
        try:
            await self.clients.wait(
                "groups",
                "insert",
                op,
                instance_group_manager_resource=compute_v1.InstanceGroupManager.from_json(json.dumps(group)),
            )
        except Exception:
            await self._delete_group_and_template(config.name, op)
            raise
        return await self.get_fleet(config.name)

    async def _delete_group_and_template(self, fleet: str, operation: str) -> None:
        for service, key in (("groups", "instance_group_manager"), ("templates", "instance_template")):
            try:
                await self.clients.wait(service, "delete", operation, **{key: resource_name(fleet)})
            except NotFoundError:
                pass

    async def update_fleet(self, config: FleetConfig) -> Fleet:
        """Roll a new instance template (templates never change) into the group, opportunistically.

        The group's ``updatePolicy`` is ``OPPORTUNISTIC``: VMs the group creates from now on (scaling
        out, repairs) use the new template, running VMs are not recreated, as an Auto Scaling group's
        new launch template version reaches only new instances. Fields left unset keep their value.
        """
        from google.cloud import compute_v1

        op = "update_fleet"
        if config.instance_type is not None:
            catalog.lookup(config.instance_type, provider="gcp")
        group = await self._group(config.name, op)
        current = await self._fleet(group, op)
        old = (await self.clients.call("templates", "get", op, instance_template=_name(group.instance_template))).properties
        lo = config.min_capacity if config.min_capacity is not None else current.min_capacity
        hi = config.max_capacity if config.max_capacity is not None else current.max_capacity
        capacity = config.capacity if config.capacity is not None else min(max(current.capacity, lo), hi)
        FleetConfig(name=config.name, capacity=capacity, min_capacity=lo, max_capacity=hi)  # bounds check
        itype = config.instance_type or current.instance_type
        spot = current.spot if config.spot is None else config.spot
        catalog.lookup(itype, provider="gcp").price(spot)
        nic = old.network_interfaces[0] if old.network_interfaces else None
        networking = config.networking or {
            k: v for k, v in {"network": nic and nic.network, "subnetwork": nic and nic.subnetwork}.items() if v
        }
        merged = config._replace(
            instance_type=itype,
            spot=spot,
            image=config.image or old.disks[0].initialize_params.source_image,
            networking=networking,
            tags=config.tags or current.tags,
            description=config.description or current.description,
        )
        body = self._template(merged, lo, hi)
        body["name"] = f"{resource_name(config.name)}-{int(pd.Timestamp.now(tz='UTC').timestamp() * 1000):x}"
        await self.clients.wait(
            "templates", "insert", op, instance_template_resource=compute_v1.InstanceTemplate.from_json(json.dumps(body))
        )
        link = f"projects/{self.config.project_id}/global/instanceTemplates/{body['name']}"
        patch = {
            "instanceTemplate": link,
            "versions": [{"instanceTemplate": link}],
            "updatePolicy": {"type": "OPPORTUNISTIC", "minimalAction": "REPLACE"},
            "targetSize": capacity,
            "description": merged.description,
        }
        await self.clients.wait(
            "groups",
            "patch",
            op,
            instance_group_manager=group.name,
            instance_group_manager_resource=compute_v1.InstanceGroupManager.from_json(json.dumps(patch)),
        )
        await self.clients.wait("templates", "delete", op, instance_template=_name(group.instance_template))
        return await self.get_fleet(config.name)

    async def update_fleet_capacity(self, fleet: str, capacity: int) -> Fleet:
        op = "update_fleet_capacity"
        await self.clients.wait("groups", "resize", op, instance_group_manager=resource_name(fleet), size=capacity)
        return await self.get_fleet(fleet)

    async def delete_fleet(self, fleet: str) -> None:
        op = "delete_fleet"
        group = await self._group(fleet, op)
        if await self._autoscaler(group.name, op) is not None:  # a group with an autoscaler cannot be deleted
            await self.clients.wait("autoscalers", "delete", op, autoscaler=group.name)
        await self.clients.wait("groups", "delete", op, instance_group_manager=resource_name(fleet))
        await self.clients.wait("templates", "delete", op, instance_template=_name(group.instance_template))

    async def get_fleet(self, fleet: str) -> Fleet:
        return await self._fleet(await self._group(fleet, "get_fleet"), "get_fleet")

    async def list_fleets(self) -> list[Fleet]:
        groups = [g for g in await self.clients.collect("groups", "list", "list_fleets") if fleet_of(g.name)]
        return list(await asyncio.gather(*(self._fleet(g, "list_fleets") for g in groups)))

    async def _autoscaler(self, group: str, operation: str) -> Any:
        try:
            return await self.clients.call("autoscalers", "get", operation, autoscaler=group)
        except NotFoundError:
            return None

    async def configure_auto_scaling(self, fleet: str, config: AutoScalingConfig) -> Fleet:
        """A regional autoscaler on the group: CPU target (0..1), bounds and the initialization period.

        ``cooldown_seconds`` is ``coolDownPeriodSec``, the time a new VM needs before its CPU counts.
        """
        from google.cloud import compute_v1

        op = "configure_auto_scaling"
        group = await self._group(fleet, op)
        body = {
            "name": group.name,
            "target": group.self_link,
            "autoscalingPolicy": {
                "minNumReplicas": config.min_capacity,
                "maxNumReplicas": config.max_capacity,
                "coolDownPeriodSec": config.cooldown_seconds,
                "cpuUtilization": {"utilizationTarget": config.target_cpu_utilization / 100.0},
                "mode": "ON",
            },
        }
        existing = await self._autoscaler(group.name, op)
        if existing is not None:  # its scaling schedules (s.schedule_capacity) stay
            kept = json.loads(compute_v1.Autoscaler.to_json(existing))["autoscalingPolicy"].get("scalingSchedules")
            body["autoscalingPolicy"] |= {"scalingSchedules": kept} if kept else {}
        resource = compute_v1.Autoscaler.from_json(json.dumps(body))
        if existing is None:
            await self.clients.wait("autoscalers", "insert", op, autoscaler_resource=resource)
        else:
            await self.clients.wait("autoscalers", "update", op, autoscaler=group.name, autoscaler_resource=resource)
        return await self.get_fleet(fleet)

    async def scaling_activities(self, fleet: str) -> pd.DataFrame:
        """Each change of the group's size (Cloud Monitoring's ``instance_group/size``), with the autoscaler's target."""
        op = "scaling_activities"
        group = await self._group(fleet, op)
        scaler = await self._autoscaler(group.name, op)
        policy = _policy(scaler)
        since = pd.Timestamp(scaler.creation_timestamp).tz_convert("UTC") if scaler is not None else None
        lo = pd.Timestamp(group.creation_timestamp).tz_convert("UTC").floor("min")
        hi = pd.Timestamp.now(tz="UTC").ceil("min")
        size = await self.clients.time_series(
            op, metrics.query(metrics.SIZE, f'resource.labels.instance_group_name = "{group.name}"', lo, hi, 60)
        )
        reason = (
            f"autoscaler: target {policy.target_cpu_utilization:g}% CPU, {policy.min_capacity}-{policy.max_capacity} VMs"
            if policy
            else "resize"
        )
        return metrics.activities(size, fleet, self.name, reason, since)

    # -- metrics and costs ----------------------------------------------------------------
    async def utilization(
        self, fleet: str, start: pd.Timestamp | None, end: pd.Timestamp | None, period: str = "5min", by: str = "fleet"
    ) -> pd.DataFrame:
        op = "utilization"
        seconds = metrics.period_seconds(period)
        group = await self._group(fleet, op)
        hi = (end if end is not None else pd.Timestamp.now(tz="UTC")).ceil("min")
        lo = (start if start is not None else pd.Timestamp(group.creation_timestamp).tz_convert("UTC")).floor("min")
        durations.check_window(lo, hi)
        if lo == hi:
            return frames.frame(frames.INSTANCE_UTILIZATION if by == "instance" else frames.UTILIZATION, [])
        cpu, size = await asyncio.gather(
            self.clients.time_series(
                op, metrics.query(metrics.CPU, f'metadata.user_labels."{LABELS.owner_key}" = "{fleet}"', lo, hi, seconds)
            ),
            self.clients.time_series(
                op, metrics.query(metrics.SIZE, f'resource.labels.instance_group_name = "{group.name}"', lo, hi, seconds)
            ),
        )
        return metrics.utilization(cpu, size, fleet, self.name, by)

    async def costs(self, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
        """The catalog estimate (running time x list price, ``source="estimate"``): Google bills through a
        BigQuery export, which this toolkit does not require."""
        lo, hi = cost_window(start, end)
        if lo == hi:
            return frames.frame(frames.COSTS, [])
        return estimate(await self.list_instances(None, {InstanceState.RUNNING}), lo, hi)

    # -- instances ------------------------------------------------------------------------
    async def list_instances(self, fleet: str | None = None, states: set[InstanceState] | None = None) -> pd.DataFrame:
        """The project's instances in this region, of ``fleet`` (by its label) when given.

        One ``aggregatedList`` call answers for every zone; with ``zones`` configured, each zone's
        ``list`` runs concurrently, so the wall time is the slowest zone's, not the sum.
        """
        op = "list_instances"
        flt = f'labels.{LABELS.owner_key} = "{fleet}"' if fleet else ""
        if self.config.zones:
            found = await asyncio.gather(
                *(self.clients.collect("instances", "list", op, zone=z, filter=flt) for z in self.config.zones)
            )
            items = [i for zone in found for i in zone]
        else:
            scoped = await self.clients.collect("instances", "aggregated_list", op, filter=flt)
            prefix = f"zones/{self.region}-"
            items = [i for key, part in scoped if key.startswith(prefix) for i in part.instances]
        return instances.to_frame(items, self.name, self.region, self.hourly_price, states)

    async def _find(self, instance_id: str, operation: str) -> Any:
        found = await self.clients.collect("instances", "aggregated_list", operation, filter=f'name = "{instance_id}"')
        items = [i for _, scoped in found for i in scoped.instances if i.name == instance_id]
        if not items:
            raise NotFoundError(
                f"no instance {instance_id!r} in project {self.config.project_id}", provider=self.name, operation=operation
            )
        return items[0]

    async def get_instance(self, instance_id: str) -> Instance:
        return instances.to_instance(await self._find(instance_id, "get_instance"), self.name, self.region)

    async def _through_group(self, instance_id: str, verb: str, operation: str) -> Any:
        inst = await self._find(instance_id, operation)
        fleet = dict(inst.labels).get(LABELS.owner_key)
        if fleet is None:
            raise NotFoundError(
                f"instance {instance_id!r} belongs to no fleet of clusterdb",
                provider=self.name,
                operation=operation,
                solution="Manage instances outside fleets with gcloud",
            )
        from google.cloud import compute_v1

        body = {"instances": [inst.self_link]}
        requests: dict[str, tuple[str, Any]] = {
            "stop_instances": (
                "region_instance_group_managers_stop_instances_request_resource",
                compute_v1.RegionInstanceGroupManagersStopInstancesRequest,
            ),
            "start_instances": (
                "region_instance_group_managers_start_instances_request_resource",
                compute_v1.RegionInstanceGroupManagersStartInstancesRequest,
            ),
            "delete_instances": (
                "region_instance_group_managers_delete_instances_request_resource",
                compute_v1.RegionInstanceGroupManagersDeleteInstancesRequest,
            ),
        }
        key, cls = requests[verb]
        await self.clients.wait(
            "groups", verb, operation, instance_group_manager=resource_name(fleet), **{key: cls.from_json(json.dumps(body))}
        )
        return inst

    async def stop_instance(self, instance_id: str) -> Instance:
        await self._through_group(instance_id, "stop_instances", "stop_instance")
        return await self.get_instance(instance_id)

    async def start_instance(self, instance_id: str) -> Instance:
        await self._through_group(instance_id, "start_instances", "start_instance")
        return await self.get_instance(instance_id)

    async def terminate_instance(self, instance_id: str) -> Instance:
        """Delete through the group (its target size drops by one); the deleted VM is reported terminated."""
        inst = await self._through_group(instance_id, "delete_instances", "terminate_instance")
        gone = instances.to_instance(inst, self.name, self.region)
        return gone.model_copy(
            update={"state": InstanceState.TERMINATED, "state_since": pd.Timestamp.now(tz="UTC").to_pydatetime()}
        )

    # -- plans ----------------------------------------------------------------------------------
    def describe_call(self, request: plans.PlanRequest) -> str:
        """The Compute Engine / Cloud Functions calls ``request`` makes, as a plan shows them.

        >>> provider.describe_call(plans.UpdateFleetCapacity("web", 20))
        "regionInstanceGroupManagers.resize(instanceGroupManager='clusterdb-web', size=20)"
        """
        group = "regionInstanceGroupManagers"
        match request:
            case plans.CreateFleet(fleet, instance_type, capacity):
                calls = [
                    call_text("instanceTemplates.insert", name=resource_name(fleet), machineType=instance_type),
                    call_text(f"{group}.insert", name=resource_name(fleet), targetSize=capacity),
                ]
            case plans.UpdateFleet(fleet):
                calls = [
                    call_text("instanceTemplates.insert", name=f"{resource_name(fleet)}-<new>"),
                    call_text(f"{group}.patch", instanceGroupManager=resource_name(fleet), updatePolicy="OPPORTUNISTIC"),
                ]
            case plans.UpdateFleetCapacity(fleet, capacity):
                calls = [call_text(f"{group}.resize", instanceGroupManager=resource_name(fleet), size=capacity)]
            case plans.DeleteFleet(fleet):
                calls = [
                    call_text(f"{group}.delete", instanceGroupManager=resource_name(fleet)),
                    call_text("instanceTemplates.delete", instanceTemplate=resource_name(fleet)),
                ]
            case plans.ConfigureAutoScaling(fleet, config):
                calls = [
                    call_text(
                        "regionAutoscalers.insert",
                        name=resource_name(fleet),
                        minNumReplicas=config.min_capacity,
                        maxNumReplicas=config.max_capacity,
                        utilizationTarget=config.target_cpu_utilization / 100,
                        coolDownPeriodSec=config.cooldown_seconds,
                    )
                ]
            case plans.InstanceRequest(instance_id):
                verb = INSTANCE_CALLS[request.operation]
                calls = [call_text(f"{group}.{verb}", instances=[instance_id])]
            case plans.CreateFunction(function) | plans.UpdateFunction(function) | plans.DeleteFunction(function):
                verb = {"create_function": "create", "update_function": "patch", "delete_function": "delete"}[request.operation]
                calls = [call_text(f"functions.{verb}", function=function)]
            case plans.PutSchedule(fleet, schedule):
                calls = [
                    call_text(
                        "regionAutoscalers.update",
                        autoscaler=resource_name(fleet),
                        scalingSchedule=schedule.name,
                        schedule=schedule.cron,
                        timeZone=schedule.timezone,
                        minRequiredReplicas=schedule.capacity,
                    )
                ]
            case plans.DeleteSchedule(fleet, name):
                calls = [call_text("regionAutoscalers.update", autoscaler=resource_name(fleet), removeScalingSchedule=name)]
            case _:
                return super().describe_call(request)
        return "; ".join(calls)

    # -- capacity schedules: the autoscaler's scaling schedules ------------------------------
    async def _scaling(self, fleet: str, operation: str) -> tuple[Any, dict[str, Any]]:
        """The group, and its autoscaler as JSON (NotSupportedError when the group has none)."""
        from google.cloud import compute_v1

        group = await self._group(fleet, operation)
        scaler = await self._autoscaler(group.name, operation)
        if scaler is None:
            raise NotSupportedError(
                f"fleet {fleet!r} has no autoscaler, and GCP scaling schedules belong to one",
                provider=self.name,
                operation=operation,
                solution="configure_auto_scaling(...) first",
            )
        return group, json.loads(compute_v1.Autoscaler.to_json(scaler))

    async def _write_schedules(self, group: Any, scaler: dict[str, Any], mine: list[CapacitySchedule], op: str) -> None:
        from google.cloud import compute_v1

        policy = scaler["autoscalingPolicy"]
        kept = {
            k: v
            for k, v in policy.get("scalingSchedules", {}).items()
            if not v.get("description", "").startswith(gcp_schedules.OURS)
        }
        now = pd.Timestamp(self.current_time(), unit="s", tz="UTC")
        try:
            ours = gcp_schedules.entries(mine, int(policy.get("minNumReplicas", 0)), now)
        except gcp_schedules.MappingRefused as exc:
            raise NotSupportedError(str(exc), provider=self.name, operation=op) from None
        body = {
            "name": group.name,
            "target": group.self_link,
            "autoscalingPolicy": {**policy, "scalingSchedules": {**kept, **ours}},
        }
        resource = compute_v1.Autoscaler.from_json(json.dumps(body))
        await self.clients.wait("autoscalers", "update", op, autoscaler=group.name, autoscaler_resource=resource)

    async def put_schedule(self, schedule: CapacitySchedule) -> CapacitySchedule:
        op = "put_schedule"
        group, scaler = await self._scaling(schedule.fleet, op)
        found = gcp_schedules.from_entries(scaler["autoscalingPolicy"].get("scalingSchedules", {}), schedule.fleet, self.name)
        await self._write_schedules(group, scaler, [*(s for s in found if s.name != schedule.name), schedule], op)
        return schedule._replace(provider=self.name, min_capacity=None, max_capacity=None)

    async def list_schedules(self, fleet: str | None = None) -> list[CapacitySchedule]:
        op = "list_schedules"
        names = [fleet] if fleet else [f.name for f in await self.list_fleets() if f.auto_scaling is not None]
        out: list[CapacitySchedule] = []
        for name in names:
            scaler = await self._autoscaler((await self._group(name, op)).name, op)
            if scaler is not None:
                found = json.loads(type(scaler).to_json(scaler))["autoscalingPolicy"].get("scalingSchedules", {})
                out += gcp_schedules.from_entries(found, name, self.name)
        return out

    async def delete_schedule(self, fleet: str, name: str) -> None:
        """Remove the scaling schedule; the windows of the others are computed again.

        The schedule that ends another's window (the lowering one of a pair) cannot go first: that window
        would then have no end on GCP.
        """
        op = "delete_schedule"
        group, scaler = await self._scaling(fleet, op)
        found = gcp_schedules.from_entries(scaler["autoscalingPolicy"].get("scalingSchedules", {}), fleet, self.name)
        rest = [s for s in found if s.name != name]
        floor = int(scaler["autoscalingPolicy"].get("minNumReplicas", 0))
        raised = [s.name for s in rest if s.capacity > floor]
        if len(rest) < len(found) and raised and all(s.capacity > floor for s in rest):
            raise ConflictError(
                f"schedule {name!r} ends the window of {', '.join(map(repr, raised))} on GCP",
                provider=self.name,
                operation=op,
                cause="a GCP scaling schedule raises the minimum for a fixed duration, which its lowering schedule sets",
                solution=f"Delete {' and '.join(map(repr, raised))} first, then {name!r}",
            )
        await self._write_schedules(group, scaler, rest, op)

    async def close(self) -> None:
        self.clients.close()
