"""The AWS provider: fleets are Auto Scaling groups, functions are Lambda functions.

    >>> s = clusterdb_nb.connect(aws={"region": "us-east-1"})
    >>> s.create_fleet(FleetConfig("web", capacity=3, instance_type="t3.medium", provider="aws"))
    >>> s.instances(fleet="web")

Every call goes through boto3 in a worker thread (``asyncio.to_thread``);
listings use botocore's paginators, retries its retry modes, and Lambda's
updates its waiters.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from ... import catalog, durations, frames
from ...config import AwsConfig
from ...errors import ComputeError, ConflictError, NetworkError, NotFoundError, ValidationError
from ...models import (
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
)
from ...network import Finding, Severity
from ..base import ComputeProvider, ProviderStatus
from ..capabilities import Feature
from ..kit import plans
from ..kit.cost_estimate import billed_else_estimated, cost_window
from ..kit.naming import resource_name
from ..kit.plans import call_text
from ..kit.pricing import price_or_nan
from . import costs, fleets, functions, instances, metrics
from . import network as aws_network
from . import schedules as aws_schedules
from .clients import Clients

__all__ = ["AwsProvider", "FUNCTION_CALLS", "INSTANCE_CALLS", "VCPU_QUOTA"]

log = logging.getLogger("clusterdb_nb.aws")
VCPU_QUOTA = ("ec2", "L-1216C47A")  # Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances, in vCPUs
INSTANCE_CALLS = {
    "start_instance": "StartInstances",
    "stop_instance": "StopInstances",
    "terminate_instance": "TerminateInstances",
}
FUNCTION_CALLS = {
    "create_function": ("CreateFunction",),
    "update_function": ("UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion"),
    "delete_function": ("DeleteFunction",),
}


class AwsProvider(ComputeProvider):
    """AWS in one region (``kind = "aws"``), configured by ``AwsConfig``."""

    kind = "aws"
    config_model = AwsConfig
    config: AwsConfig
    # An Auto Scaling group's MaxSize has no documented cap of its own; groups launch through EC2 Fleet,
    # whose "Target capacity per EC2 Fleet" quota is 10,000 (EC2 User Guide, "Quotas for EC2 Fleet and
    # Spot Fleet", docs.aws.amazon.com/AWSEC2/latest/UserGuide/fleet-quotas.html).
    max_group_size = 10_000

    def not_supported(self, request: object | None = None) -> dict[Feature, str]:
        """What this adapter does not offer; stopping a spot instance of a fleet depends on the instance."""
        out = {
            Feature.INVOCATION_HISTORY: "Lambda keeps no list of past invocations (they are in CloudWatch Logs)",
            Feature.SCALING_ACTIVITIES: "the AWS adapter does not read the group's DescribeScalingActivities yet",
        }
        if isinstance(request, plans.PutSchedule) and (reason := aws_schedules.refusal(request.schedule)):
            out[Feature.SCHEDULES] = reason
        if isinstance(request, Instance) and request.spot and request.fleet:
            # EC2 Auto Scaling launches spot capacity through one-time Spot requests, and EC2 can stop
            # only instances of persistent Spot requests (EC2 User Guide, "Stop a Spot Instance").
            out[Feature.STOP_START] = (
                "spot instances of an Auto Scaling group cannot be stopped or started: the group launches them "
                "from one-time Spot requests, and EC2 stops only instances of persistent Spot requests; terminate it instead"
            )
        return out

    def __init__(self, config: AwsConfig, name: str | None = None) -> None:
        super().__init__(config, name)
        self.clients = Clients(config, self.name)
        self._versions: dict[tuple[str, str, str], dict[str, Any]] = {}  # numbered template versions never change

    # -- helpers -----------------------------------------------------------
    async def _groups(self, operation: str, names: list[str] | None = None) -> list[dict[str, Any]]:
        params = {"AutoScalingGroupNames": names} if names else {}
        result = await self.clients.pages("autoscaling", "describe_auto_scaling_groups", operation, **params)
        return list(result.get("AutoScalingGroups", []))

    async def _group(self, fleet: str, operation: str) -> dict[str, Any]:
        found = await self._groups(operation, [fleet])
        if not found:
            raise NotFoundError(
                f"no fleet (Auto Scaling group) named {fleet!r} in {self.region}", provider=self.name, operation=operation
            )
        return found[0]

    @staticmethod
    def _template_key(group: dict[str, Any]) -> tuple[str, str, str] | None:
        """(``LaunchTemplateId`` or ``LaunchTemplateName``, its value, version) of the group's template."""
        spec = fleets.template_of(group)
        if spec is None:
            return None
        by = "LaunchTemplateId" if "LaunchTemplateId" in spec else "LaunchTemplateName"
        return by, spec[by], spec.get("Version", "$Default")

    async def _template(self, group: dict[str, Any], operation: str) -> dict[str, Any] | None:
        """The launch template version a group launches from: its data plus VersionDescription/VersionNumber."""
        key = self._template_key(group)
        if key is None:
            return None
        if key in self._versions:
            return self._versions[key]
        by, ref, version = key
        try:
            found = await self.clients.call(
                "ec2", "describe_launch_template_versions", operation, Versions=[version], **{by: ref}
            )
        except NotFoundError:
            return None
        v = found["LaunchTemplateVersions"][0]
        data = {
            **v["LaunchTemplateData"],
            "VersionDescription": v.get("VersionDescription", ""),
            "VersionNumber": v["VersionNumber"],
        }
        if version.isdigit():
            self._versions[key] = data
        return data

    async def _fleets(self, groups: list[dict[str, Any]], operation: str) -> list[Fleet]:
        policy_params = {"AutoScalingGroupName": groups[0]["AutoScalingGroupName"]} if len(groups) == 1 else {}
        first_of = {key: g for g in groups if (key := self._template_key(g)) is not None}  # one lookup per template version
        found, policies = await asyncio.gather(
            asyncio.gather(*(self._template(g, operation) for g in first_of.values())),
            self.clients.pages(
                "autoscaling", "describe_policies", operation, PolicyTypes=["TargetTrackingScaling"], **policy_params
            ),
        )
        by_group: dict[str, list[dict[str, Any]]] = {}
        for p in policies.get("ScalingPolicies", []):
            by_group.setdefault(p["AutoScalingGroupName"], []).append(p)
        templates = dict(zip(first_of, found))
        price = price_or_nan(self.hourly_price)
        out = []
        for group in groups:
            key = self._template_key(group)
            template = templates.get(key) if key else None
            spot = fleets.is_spot(group)
            itype = fleets.instance_type_of(group, template)
            policies_of = by_group.get(group["AutoScalingGroupName"], [])
            out.append(fleets.to_fleet(group, template, policies_of, self.name, self.region, price(itype, spot)))
        return out

    async def _image(self, instance_type: str, image: str | None, operation: str) -> str:
        if image:
            return image
        name = fleets.default_image_parameter(instance_type)
        return str((await self.clients.call("ssm", "get_parameter", operation, Name=name))["Parameter"]["Value"])

    async def _default_subnets(self, operation: str) -> list[str]:
        found = await self.clients.pages(
            "ec2", "describe_subnets", operation, Filters=[{"Name": "default-for-az", "Values": ["true"]}]
        )
        subnets = sorted(s["SubnetId"] for s in found.get("Subnets", []))
        if not subnets:
            raise ValidationError(
                f"networking.subnet_ids: {self.region} has no default VPC; give the fleet's subnets",
                field="networking.subnet_ids",
                rule="subnets required without a default VPC",
                solution="Pass FleetConfig(..., networking={'subnet_ids': [...]}) or set fleet.networking.subnet_ids",
            )
        return subnets

    # -- status ------------------------------------------------------------
    async def quotas(self) -> dict[str, float]:
        """The account's on-demand vCPU quota in this region, from Service Quotas."""
        q = await self.clients.call(
            "service-quotas", "get_service_quota", "quotas", ServiceCode=VCPU_QUOTA[0], QuotaCode=VCPU_QUOTA[1]
        )
        return {"on_demand_vcpu_quota": float(q["Quota"]["Value"])}

    async def status(self) -> ProviderStatus:
        me = await self.clients.call("sts", "get_caller_identity", "status")
        quota: float | None = None
        try:
            quota = (await self.quotas())["on_demand_vcpu_quota"]
            quota_text = f"on-demand vCPU quota {quota:g}"
        except NetworkError:
            raise
        except ComputeError as err:
            quota_text = f"on-demand vCPU quota not readable ({type(err).__name__})"
        return ProviderStatus(
            provider=self.name,
            ok=True,
            region=self.region,
            account=me["Account"],
            detail=f"authenticated as {me['Arn']} in {self.region}; {quota_text}",
            facts={
                "arn": me["Arn"],
                "on_demand_vcpu_quota": quota,
                "endpoint_url": self.config.endpoint_url,
                "retry_mode": self.config.retry_mode,
                "max_attempts": self.config.max_attempts,
            },
        )

    # -- fleets ------------------------------------------------------------
    async def create_fleet(self, config: FleetConfig) -> Fleet:
        assert config.instance_type is not None and config.capacity is not None
        op = "create_fleet"
        catalog.lookup(config.instance_type, provider="aws").price(bool(config.spot))  # unknown type / no spot -> ValidationError
        subnets = fleets.subnet_ids(config)
        fleets.security_group_ids(config)
        instances.TAGS.check(config.tags)
        if await self._groups(op, [config.name]):
            raise self.already_exists("fleet", config.name, op)
        image = await self._image(config.instance_type, config.image, op)
        subnets = subnets or await self._default_subnets(op)
        template = (
            await self.clients.call(
                "ec2",
                "create_launch_template",
                op,
                LaunchTemplateName=resource_name(config.name),
                ClientToken=uuid.uuid4().hex,  # botocore's retries resend it, so a retried call creates one template
                VersionDescription=config.description[:255],
                LaunchTemplateData=fleets.template_data(config, image),
                TagSpecifications=[
                    {
                        "ResourceType": "launch-template",
                        "Tags": [{"Key": k, "Value": v} for k, v in instances.TAGS.owner(config.name).items()],
                    }
                ],
            )
        )["LaunchTemplate"]
        params = fleets.group_params(config, template["LaunchTemplateId"], template["LatestVersionNumber"], subnets)
        try:
            await self.clients.call("autoscaling", "create_auto_scaling_group", op, **params)
        except ConflictError:
            # a retried CreateAutoScalingGroup whose first attempt succeeded finds its own group
            mine = await self._groups(op, [config.name])
            if not mine or (fleets.template_of(mine[0]) or {}).get("LaunchTemplateId") != template["LaunchTemplateId"]:
                await self._delete_template(template["LaunchTemplateId"], op)
                raise
        except Exception:
            await self._delete_template(template["LaunchTemplateId"], op)
            raise
        await self.clients.call(
            "autoscaling",
            "enable_metrics_collection",
            op,
            AutoScalingGroupName=config.name,
            Granularity="1Minute",
            Metrics=fleets.GROUP_METRICS,
        )
        return await self.get_fleet(config.name)

    async def _delete_template(self, template_id: str, operation: str) -> None:
        try:
            await self.clients.call("ec2", "delete_launch_template", operation, LaunchTemplateId=template_id)
        except ComputeError as err:
            log.warning("could not remove launch template %s: %s", template_id, err)

    @staticmethod
    def _same_arch(old: str, new: str) -> bool:
        if old == new:
            return True
        try:
            return catalog.lookup(old, provider="aws").arch == catalog.lookup(new, provider="aws").arch
        except ValidationError:  # a type outside the catalog: assume the architecture changed
            return False

    async def update_fleet(self, config: FleetConfig) -> Fleet:
        op = "update_fleet"
        if config.instance_type is not None:
            catalog.lookup(config.instance_type, provider="aws")
        subnets = fleets.subnet_ids(config)
        fleets.security_group_ids(config)
        instances.TAGS.check(config.tags)
        group = await self._group(config.name, op)
        current = await self._template(group, op)
        spec = fleets.template_of(group)
        if spec is None or current is None:
            raise ConflictError(
                f"fleet {config.name!r} does not launch from a launch template",
                provider=self.name,
                operation=op,
                cause="The Auto Scaling group uses a launch configuration, which cannot be changed in place",
                solution="Migrate the group to a launch template in the AWS console, then update it here",
            )
        lo = config.min_capacity if config.min_capacity is not None else group["MinSize"]
        hi = config.max_capacity if config.max_capacity is not None else group["MaxSize"]
        capacity = config.capacity if config.capacity is not None else min(max(group["DesiredCapacity"], lo), hi)
        FleetConfig(name=config.name, capacity=capacity, min_capacity=lo, max_capacity=hi)  # bounds check
        old_type = fleets.instance_type_of(group, current)
        itype = config.instance_type or old_type
        spot = fleets.is_spot(group) if config.spot is None else config.spot
        if config.instance_type is not None or config.spot is not None:
            catalog.lookup(itype, provider="aws").price(spot)  # no spot offer -> ValidationError
        image = config.image or (
            current.get("ImageId") if self._same_arch(old_type, itype) else None
        )  # else the new arch's default
        new = config._replace(instance_type=itype)
        data = fleets.template_data(new, await self._image(itype, image, op))
        if "SecurityGroupIds" not in data and current.get("SecurityGroupIds"):
            data["SecurityGroupIds"] = current["SecurityGroupIds"]
        description = (config.description or current.get("VersionDescription", ""))[:255]
        version = current["VersionNumber"]
        unchanged = all(current.get(k) == v for k, v in data.items()) and description == current.get("VersionDescription")
        if not unchanged:
            created = await self.clients.call(
                "ec2",
                "create_launch_template_version",
                op,
                LaunchTemplateId=spec["LaunchTemplateId"],
                SourceVersion=str(version),
                VersionDescription=description,
                LaunchTemplateData=data,
            )
            version = created["LaunchTemplateVersion"]["VersionNumber"]
        update: dict[str, Any] = {"AutoScalingGroupName": config.name, "MinSize": lo, "MaxSize": hi, "DesiredCapacity": capacity}
        if subnets:
            update["VPCZoneIdentifier"] = ",".join(subnets)
        update.update(fleets.launch_spec(spec["LaunchTemplateId"], version, itype, spot))
        await self.clients.call("autoscaling", "update_auto_scaling_group", op, **update)
        if config.tags:
            await self.clients.call("autoscaling", "create_or_update_tags", op, Tags=fleets.group_tags(config.name, config.tags))
        return await self.get_fleet(config.name)

    async def update_fleet_capacity(self, fleet: str, capacity: int) -> Fleet:
        await self.clients.call(
            "autoscaling",
            "set_desired_capacity",
            "update_fleet_capacity",
            AutoScalingGroupName=fleet,
            DesiredCapacity=capacity,
            HonorCooldown=False,
        )
        return await self.get_fleet(fleet)

    async def delete_fleet(self, fleet: str) -> None:
        op = "delete_fleet"
        spec = fleets.template_of(await self._group(fleet, op))
        await self.clients.call("autoscaling", "delete_auto_scaling_group", op, AutoScalingGroupName=fleet, ForceDelete=True)
        if spec and spec.get("LaunchTemplateName") == resource_name(fleet):
            await self._delete_template(spec["LaunchTemplateId"], op)

    async def get_fleet(self, fleet: str) -> Fleet:
        return (await self._fleets([await self._group(fleet, "get_fleet")], "get_fleet"))[0]

    async def list_fleets(self) -> list[Fleet]:
        groups = await self._groups("list_fleets")
        return await self._fleets(groups, "list_fleets") if groups else []

    async def configure_auto_scaling(self, fleet: str, config: AutoScalingConfig) -> Fleet:
        op = "configure_auto_scaling"
        group = await self._group(fleet, op)
        await self.clients.call(
            "autoscaling",
            "update_auto_scaling_group",
            op,
            AutoScalingGroupName=fleet,
            MinSize=config.min_capacity,
            MaxSize=config.max_capacity,
            DesiredCapacity=min(max(group["DesiredCapacity"], config.min_capacity), config.max_capacity),
        )
        await self.clients.call("autoscaling", "put_scaling_policy", op, **fleets.target_tracking(fleet, config))
        return await self.get_fleet(fleet)

    # -- instances -----------------------------------------------------------
    async def list_instances(self, fleet: str | None = None, states: set[InstanceState] | None = None) -> pd.DataFrame:
        filters = instances.state_filters(fleet, states)
        params = {"Filters": filters} if filters else {}
        found = await self.clients.pages("ec2", "describe_instances", "list_instances", **params)
        return instances.to_frame(found.get("Reservations", []), self.name, self.region, self.hourly_price)

    async def get_instance(self, instance_id: str, operation: str = "get_instance") -> Instance:
        found = await self.clients.call("ec2", "describe_instances", operation, InstanceIds=[instance_id])
        items = [i for r in found.get("Reservations", []) for i in r["Instances"]]
        if not items:
            raise NotFoundError(f"no instance {instance_id!r}", provider=self.name, operation=operation)
        return instances.to_instance(items[0], self.name, self.region)

    async def create_instance(self, config: InstanceConfig) -> Instance:
        op = "create_instance"
        catalog.lookup(config.instance_type, provider="aws").price(config.spot)  # unknown type / no spot -> ValidationError
        instances.TAGS.check(config.tags)
        live = [s for s in instances.EC2_STATES.values() if s != "terminated"]
        taken = await self.clients.pages(
            "ec2",
            "describe_instances",
            op,
            Filters=[{"Name": "tag:Name", "Values": [config.name]}, {"Name": "instance-state-name", "Values": live}],
        )
        if any(r["Instances"] for r in taken.get("Reservations", [])):
            raise self.already_exists("instance", config.name, op)
        params: dict[str, Any] = {
            "ImageId": await self._image(config.instance_type, config.image, op),
            "InstanceType": config.instance_type,
            "MinCount": 1,
            "MaxCount": 1,
            "ClientToken": uuid.uuid4().hex,  # a retried RunInstances launches one instance
            "TagSpecifications": [
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": k, "Value": v} for k, v in {**config.tags, "Name": config.name}.items()],
                }
            ],
        }
        if config.spot:
            params["InstanceMarketOptions"] = {"MarketType": "spot"}
        found = await self.clients.call("ec2", "run_instances", op, **params)
        return instances.to_instance(found["Instances"][0], self.name, self.region)

    async def _instance_call(self, method: str, instance_id: str, operation: str) -> Instance:
        await self.clients.call("ec2", method, operation, InstanceIds=[instance_id])
        return await self.get_instance(instance_id, operation)

    async def start_instance(self, instance_id: str) -> Instance:
        return await self._instance_call("start_instances", instance_id, "start_instance")

    async def stop_instance(self, instance_id: str) -> Instance:
        return await self._instance_call("stop_instances", instance_id, "stop_instance")

    async def terminate_instance(self, instance_id: str) -> Instance:
        """Terminate; a fleet member is replaced by its Auto Scaling group to keep the desired capacity."""
        return await self._instance_call("terminate_instances", instance_id, "terminate_instance")

    async def diagnose_network(self, fleet: str, ports: list[int]) -> list[Finding]:
        """The fleet's security groups, subnets with their route tables, and network ACLs, against ``ports``."""
        op = "diagnose_network"
        group = await self._group(fleet, op)
        template = await self._template(group, op) or {}
        ids = [i["InstanceId"] for i in group.get("Instances", [])]
        members: list[dict[str, Any]] = []
        if ids:
            found = await self.clients.pages("ec2", "describe_instances", op, InstanceIds=ids)
            members = [i for r in found.get("Reservations", []) for i in r["Instances"]]
        subnet_ids = [s for s in group.get("VPCZoneIdentifier", "").split(",") if s] or sorted(
            {i["SubnetId"] for i in members if i.get("SubnetId")}
        )
        subnets = (await self.clients.pages("ec2", "describe_subnets", op, SubnetIds=subnet_ids)).get("Subnets", [])
        vpcs = sorted({s["VpcId"] for s in subnets})
        sg_ids = sorted({g["GroupId"] for i in members for g in i.get("SecurityGroups", [])}) or template.get(
            "SecurityGroupIds", []
        )
        sg_filter = (
            {"GroupIds": sg_ids}
            if sg_ids
            else {"Filters": [{"Name": "group-name", "Values": ["default"]}, {"Name": "vpc-id", "Values": vpcs}]}
        )
        in_vpcs = [{"Name": "vpc-id", "Values": vpcs}]
        groups, tables, acls = await asyncio.gather(
            self.clients.pages("ec2", "describe_security_groups", op, **sg_filter),
            self.clients.pages("ec2", "describe_route_tables", op, Filters=in_vpcs),
            self.clients.pages("ec2", "describe_network_acls", op, Filters=in_vpcs),
        )
        findings = aws_network.group_findings(groups.get("SecurityGroups", []), ports)
        for subnet in subnets:
            public = any(i.get("PublicIpAddress") for i in members if i.get("SubnetId") == subnet["SubnetId"])
            findings += aws_network.subnet_findings(subnet, tables.get("RouteTables", []), public)
            findings += aws_network.acl_findings(subnet, aws_network.acl_of(subnet, acls.get("NetworkAcls", [])), ports)
        if not any(i["State"]["Name"] == "running" for i in members):
            findings.append(
                Finding(
                    Severity.INFO,
                    f"fleet {fleet}",
                    "no instance is running, so nothing answers yet",
                    "Scale the fleet up or wait for boot",
                )
            )
        return findings

    # -- functions -------------------------------------------------------------
    async def _wait(self, waiter: str, function: str, operation: str) -> None:
        await self.clients.calls.run(
            operation, lambda: self.clients.client("lambda").get_waiter(waiter).wait(FunctionName=function)
        )

    async def create_function(self, config: FunctionConfig) -> Function:
        op = "create_function"
        assert config.code is not None  # the manager's pre-flight: FunctionConfig.require_code
        if not self.config.function_role_arn:
            raise ValidationError(
                "function_role_arn: the aws config needs the Lambda execution role's ARN to create functions",
                field="function_role_arn",
                rule="set for create_function",
                solution="Add function_role_arn: arn:aws:iam::<account>:role/<role> to compute.providers.aws",
            )
        await self.clients.call(
            "lambda",
            "create_function",
            op,
            FunctionName=config.name,
            Role=self.config.function_role_arn,
            Code={"ZipFile": config.code},
            Publish=True,
            **functions.settings(config),
        )
        if config.reserved_concurrency is not None:
            await self._set_concurrency(config.name, config.reserved_concurrency, op)
        await self._wait("function_active_v2", config.name, op)
        return await self.get_function(config.name)

    async def _set_concurrency(self, function: str, reserved: int | None, operation: str) -> None:
        if reserved is None:
            await self.clients.call("lambda", "delete_function_concurrency", operation, FunctionName=function)
        else:
            await self.clients.call(
                "lambda", "put_function_concurrency", operation, FunctionName=function, ReservedConcurrentExecutions=reserved
            )

    async def update_function(self, config: FunctionConfig) -> Function:
        """Apply the fields set in ``config`` (code and/or configuration) and publish them as a new version."""
        op = "update_function"
        changed = config.model_fields_set & {*functions.SETTINGS, "environment"}
        if config.code is not None:
            await self.clients.call("lambda", "update_function_code", op, FunctionName=config.name, ZipFile=config.code)
            await self._wait("function_updated_v2", config.name, op)
        if changed:
            await self.clients.call(
                "lambda", "update_function_configuration", op, FunctionName=config.name, **functions.settings(config, changed)
            )
            await self._wait("function_updated_v2", config.name, op)
        if "reserved_concurrency" in config.model_fields_set:
            await self._set_concurrency(config.name, config.reserved_concurrency, op)
        if config.code is not None or changed:
            await self.clients.call("lambda", "publish_version", op, FunctionName=config.name)
        return await self.get_function(config.name)

    async def delete_function(self, function: str) -> None:
        await self.clients.call("lambda", "delete_function", "delete_function", FunctionName=function)

    async def _reserved(self, function: str, operation: str) -> int | None:
        found = await self.clients.call("lambda", "get_function_concurrency", operation, FunctionName=function)
        reserved = found.get("ReservedConcurrentExecutions")
        return int(reserved) if reserved is not None else None

    async def get_function(self, function: str) -> Function:
        op = "get_function"
        versions, reserved = await asyncio.gather(
            self.clients.pages("lambda", "list_versions_by_function", op, FunctionName=function),
            self._reserved(function, op),
        )
        return functions.to_function(functions.newest_versions(versions["Versions"])[0], self.name, reserved)

    async def list_functions(self) -> list[Function]:
        op = "list_functions"
        found = await self.clients.pages("lambda", "list_functions", op, FunctionVersion="ALL")
        newest = functions.newest_versions(found.get("Functions", []))
        reserved = await asyncio.gather(*(self._reserved(c["FunctionName"], op) for c in newest))
        return [functions.to_function(c, self.name, r) for c, r in zip(newest, reserved)]

    async def invoke_function(self, function: str, payload: bytes) -> Invocation:
        """Invoke synchronously with the log tail; a FunctionError is an error result, not an exception."""

        def invoke() -> dict[str, Any]:
            out = self.clients.client("lambda").invoke(
                FunctionName=function, InvocationType="RequestResponse", LogType="Tail", Payload=payload
            )
            return {**out, "Payload": out["Payload"].read()}

        started = datetime.now(timezone.utc)
        current, out = await asyncio.gather(self.get_function(function), self.clients.calls.run("invoke_function", invoke))
        return functions.to_invocation(out, current, started)

    # -- metrics -------------------------------------------------------------
    async def utilization(
        self, fleet: str, start: pd.Timestamp | None, end: pd.Timestamp | None, period: str = "5min", by: str = "fleet"
    ) -> pd.DataFrame:
        op = "utilization"
        seconds = metrics.period_seconds(period)
        group = await self._group(fleet, op)
        hi = (end if end is not None else pd.Timestamp.now(tz="UTC")).ceil("min")
        lo = (start if start is not None else pd.Timestamp(group["CreatedTime"]).tz_convert("UTC")).floor("min")
        durations.check_window(lo, hi)
        if lo == hi:  # an empty window: nothing to measure (CloudWatch refuses StartTime == EndTime)
            return frames.frame(frames.INSTANCE_UTILIZATION if by == "instance" else frames.UTILIZATION, [])
        window = {"StartTime": lo.to_pydatetime(), "EndTime": hi.to_pydatetime(), "ScanBy": "TimestampAscending"}
        if by == "instance":
            found = await self.clients.pages("ec2", "describe_instances", op, Filters=instances.state_filters(fleet, None))
            ids = sorted(i["InstanceId"] for r in found.get("Reservations", []) for i in r["Instances"])
            queries = metrics.instance_queries(ids, seconds)
            chunks = [queries[k : k + metrics.MAX_QUERIES] for k in range(0, len(queries), metrics.MAX_QUERIES)]
            pages = await asyncio.gather(
                *(self.clients.pages("cloudwatch", "get_metric_data", op, MetricDataQueries=c, **window) for c in chunks)
            )
            return metrics.instance_frame([r for p in pages for r in p["MetricDataResults"]], ids, fleet, self.name)
        found = await self.clients.pages(
            "cloudwatch", "get_metric_data", op, MetricDataQueries=metrics.fleet_queries(fleet, seconds), **window
        )
        return metrics.fleet_frame(found["MetricDataResults"], fleet, self.name)

    async def costs(self, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
        """Billed EC2 compute per fleet from Cost Explorer, else the catalog estimate per running instance (see costs.py)."""
        lo, hi = cost_window(start, end)
        if lo == hi:  # an empty window costs nothing (Cost Explorer refuses Start == End)
            return frames.frame(frames.COSTS, [])
        request = costs.request(self.region, lo, hi)

        def page(token: str | None) -> dict[str, Any]:  # GetCostAndUsage has no botocore paginator
            return dict(self.clients.client("ce").get_cost_and_usage(**request, **({"NextPageToken": token} if token else {})))

        async def billed() -> pd.DataFrame | None:
            pages = await self.clients.calls.follow("costs", page, lambda p: p.get("NextPageToken"))
            results = [r for p in pages for r in p.get("ResultsByTime", [])]
            if not results:
                return None
            spot_fleets = {f.name for f in await self.list_fleets() if f.spot}
            return costs.billing_frame(results, self.name, self.region, spot_fleets)

        return await billed_else_estimated(billed, lambda: self.list_instances(None, {InstanceState.RUNNING}), lo, hi)

    # -- plans and lifecycle ---------------------------------------------------
    def describe_call(self, request: plans.PlanRequest) -> str:
        """The AWS API calls ``request`` makes, as a plan shows them.

        >>> provider.describe_call(plans.UpdateFleetCapacity("web", 20))
        "autoscaling:SetDesiredCapacity(AutoScalingGroupName='web', DesiredCapacity=20)"
        """
        match request:
            case plans.CreateFleet(fleet, instance_type, capacity):
                calls = [
                    call_text("ec2:CreateLaunchTemplate", LaunchTemplateName=resource_name(fleet), InstanceType=instance_type),
                    call_text("autoscaling:CreateAutoScalingGroup", AutoScalingGroupName=fleet, DesiredCapacity=capacity),
                ]
            case plans.UpdateFleet(fleet):
                calls = [
                    call_text("ec2:CreateLaunchTemplateVersion", LaunchTemplateName=resource_name(fleet)),
                    call_text("autoscaling:UpdateAutoScalingGroup", AutoScalingGroupName=fleet),
                ]
            case plans.UpdateFleetCapacity(fleet, capacity):
                calls = [call_text("autoscaling:SetDesiredCapacity", AutoScalingGroupName=fleet, DesiredCapacity=capacity)]
            case plans.DeleteFleet(fleet):
                calls = [
                    call_text("autoscaling:DeleteAutoScalingGroup", AutoScalingGroupName=fleet, ForceDelete=True),
                    call_text("ec2:DeleteLaunchTemplate", LaunchTemplateName=resource_name(fleet)),
                ]
            case plans.ConfigureAutoScaling(fleet, config):
                calls = [
                    call_text(
                        "autoscaling:UpdateAutoScalingGroup",
                        AutoScalingGroupName=fleet,
                        MinSize=config.min_capacity,
                        MaxSize=config.max_capacity,
                    ),
                    call_text(
                        "autoscaling:PutScalingPolicy",
                        AutoScalingGroupName=fleet,
                        PolicyName=fleets.POLICY_NAME,
                        PolicyType="TargetTrackingScaling",
                        TargetValue=config.target_cpu_utilization,
                        EstimatedInstanceWarmup=config.cooldown_seconds,
                    ),
                ]
            case plans.CreateInstance(name, instance_type, spot):
                market = {"InstanceMarketOptions": {"MarketType": "spot"}} if spot else {}
                calls = [call_text("ec2:RunInstances", InstanceType=instance_type, MinCount=1, MaxCount=1, Name=name, **market)]
            case plans.InstanceRequest(instance_id):
                calls = [call_text(f"ec2:{INSTANCE_CALLS[request.operation]}", InstanceIds=[instance_id])]
            case plans.CreateFunction(function) | plans.UpdateFunction(function) | plans.DeleteFunction(function):
                calls = [call_text(f"lambda:{api}", FunctionName=function) for api in FUNCTION_CALLS[request.operation]]
            case plans.PutSchedule(_, schedule):
                calls = [call_text("autoscaling:PutScheduledUpdateGroupAction", **aws_schedules.put_params(schedule))]
            case plans.DeleteSchedule(fleet, name):
                calls = [call_text("autoscaling:DeleteScheduledAction", AutoScalingGroupName=fleet, ScheduledActionName=name)]
            case _:
                return super().describe_call(request)
        return "; ".join(calls)

    # -- capacity schedules: Auto Scaling scheduled actions ------------------------------
    async def put_schedule(self, schedule: CapacitySchedule) -> CapacitySchedule:
        op = "put_schedule"
        await self._group(schedule.fleet, op)  # NotFoundError for a group that is gone
        await self.clients.call("autoscaling", "put_scheduled_update_group_action", op, **aws_schedules.put_params(schedule))
        return schedule._replace(provider=self.name)

    async def list_schedules(self, fleet: str | None = None) -> list[CapacitySchedule]:
        params = {"AutoScalingGroupName": fleet} if fleet else {}
        found = await self.clients.pages("autoscaling", "describe_scheduled_actions", "list_schedules", **params)
        listed = (aws_schedules.from_action(a, self.name) for a in found.get("ScheduledUpdateGroupActions", []))
        return sorted((s for s in listed if s is not None), key=lambda s: (s.fleet, s.name))

    async def delete_schedule(self, fleet: str, name: str) -> None:
        await self.clients.call(
            "autoscaling", "delete_scheduled_action", "delete_schedule", AutoScalingGroupName=fleet, ScheduledActionName=name
        )

    async def close(self) -> None:
        self.clients.close()
