"""Fleet <-> Auto Scaling group + launch template.

A fleet ``web`` is the Auto Scaling group ``web`` launching from the launch
template ``clusterdb-web`` (``kit.naming``, tagged ``clusterdb:fleet = web``):
the template holds the instance type, image, security groups and the
description (as its version description); the group holds capacity, bounds,
subnets and tags (propagated to instances). Spot is a MixedInstancesPolicy
with no on-demand share::

    >>> group_params(cfg, template_id="lt-0abc", version=1, subnets=["subnet-1"])["MixedInstancesPolicy"]
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ... import catalog
from ...errors import ValidationError
from ...models import AutoScalingConfig, Fleet, FleetConfig
from .instances import TAGS

__all__ = [
    "AMI_PARAMETER",
    "default_image_parameter",
    "GROUP_METRICS",
    "group_params",
    "group_tags",
    "instance_type_of",
    "is_spot",
    "launch_spec",
    "POLICY_NAME",
    "scaling_of",
    "security_group_ids",
    "subnet_ids",
    "target_tracking",
    "template_data",
    "template_of",
    "to_fleet",
]

AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
POLICY_NAME = "clusterdb-target-cpu"
GROUP_METRICS = ["GroupInServiceInstances", "GroupDesiredCapacity"]


def default_image_parameter(instance_type: str) -> str:
    """The public SSM parameter holding the latest Amazon Linux 2023 AMI for the type's CPU architecture."""
    arch = catalog.lookup(instance_type, provider="aws").arch
    return AMI_PARAMETER.format(arch="arm64" if arch == "arm64" else "x86_64")


def _id_list(networking: dict[str, Any], key: str, prefix: str) -> list[str]:
    value = networking.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.startswith(prefix) for v in value):
        raise ValidationError(
            f"networking.{key}: must be a list of {prefix}... ids (got {value!r})",
            field=f"networking.{key}",
            rule=f"list of {prefix}... ids",
        )
    return value


def subnet_ids(config: FleetConfig) -> list[str]:
    """``networking.subnet_ids`` checked, before any call."""
    return _id_list(config.networking, "subnet_ids", "subnet-")


def security_group_ids(config: FleetConfig) -> list[str]:
    """``networking.security_group_ids`` checked, before any call."""
    return _id_list(config.networking, "security_group_ids", "sg-")


def template_data(config: FleetConfig, image_id: str) -> dict[str, Any]:
    """``LaunchTemplateData`` for ``config`` (instance type, image, security groups)."""
    data: dict[str, Any] = {"InstanceType": config.instance_type, "ImageId": image_id}
    groups = security_group_ids(config)
    if groups:
        data["SecurityGroupIds"] = groups
    return data


def group_tags(fleet: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    """Group tags, propagated to the instances it launches."""
    return [
        {"ResourceId": fleet, "ResourceType": "auto-scaling-group", "Key": k, "Value": v, "PropagateAtLaunch": True}
        for k, v in tags.items()
    ]


def launch_spec(template_id: str, version: int, instance_type: str, spot: bool) -> dict[str, Any]:
    """The group's ``LaunchTemplate`` (on-demand) or ``MixedInstancesPolicy`` (spot) parameters."""
    spec = {"LaunchTemplateId": template_id, "Version": str(version)}
    if not spot:
        return {"LaunchTemplate": spec}
    return {
        "MixedInstancesPolicy": {
            "LaunchTemplate": {"LaunchTemplateSpecification": spec, "Overrides": [{"InstanceType": instance_type}]},
            "InstancesDistribution": {
                "OnDemandBaseCapacity": 0,
                "OnDemandPercentageAboveBaseCapacity": 0,
                "SpotAllocationStrategy": "price-capacity-optimized",
            },
        }
    }


def group_params(config: FleetConfig, template_id: str, version: int, subnets: list[str]) -> dict[str, Any]:
    """CreateAutoScalingGroup parameters for a resolved ``config``."""
    assert config.instance_type is not None
    return {
        "AutoScalingGroupName": config.name,
        "MinSize": config.min_capacity,
        "MaxSize": config.max_capacity,
        "DesiredCapacity": config.capacity,
        "VPCZoneIdentifier": ",".join(subnets),
        "Tags": group_tags(config.name, config.tags),
        **launch_spec(template_id, version, config.instance_type, bool(config.spot)),
    }


def target_tracking(fleet: str, config: AutoScalingConfig) -> dict[str, Any]:
    """PutScalingPolicy parameters: target tracking on average CPU, warmup = ``cooldown_seconds``."""
    return {
        "AutoScalingGroupName": fleet,
        "PolicyName": POLICY_NAME,
        "PolicyType": "TargetTrackingScaling",
        "EstimatedInstanceWarmup": config.cooldown_seconds,
        "TargetTrackingConfiguration": {
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
            "TargetValue": config.target_cpu_utilization,
        },
    }


def template_of(group: dict[str, Any]) -> dict[str, str] | None:
    """The group's launch template specification, plain or inside its MixedInstancesPolicy."""
    if "LaunchTemplate" in group:
        return dict(group["LaunchTemplate"])
    mixed = group.get("MixedInstancesPolicy", {}).get("LaunchTemplate", {})
    return dict(mixed["LaunchTemplateSpecification"]) if "LaunchTemplateSpecification" in mixed else None


def is_spot(group: dict[str, Any]) -> bool:
    """True when the group buys only spot capacity."""
    dist = group.get("MixedInstancesPolicy", {}).get("InstancesDistribution")
    if not dist:
        return False
    return int(dist.get("OnDemandBaseCapacity", 0)) == 0 and int(dist.get("OnDemandPercentageAboveBaseCapacity", 100)) == 0


def instance_type_of(group: dict[str, Any], template: dict[str, Any] | None) -> str:
    """Overrides first, then the template version's type, then what the members run."""
    overrides = group.get("MixedInstancesPolicy", {}).get("LaunchTemplate", {}).get("Overrides", [])
    if overrides and overrides[0].get("InstanceType"):
        return str(overrides[0]["InstanceType"])
    if template and template.get("InstanceType"):
        return str(template["InstanceType"])
    types = [i["InstanceType"] for i in group.get("Instances", []) if i.get("InstanceType")]
    return types[0] if types else "unknown"


def scaling_of(group: dict[str, Any], policies: list[dict[str, Any]]) -> AutoScalingConfig | None:
    """The group's CPU target-tracking policy as the seed's AutoScalingConfig."""
    for p in policies:
        spec = p.get("TargetTrackingConfiguration", {})
        metric = spec.get("PredefinedMetricSpecification", {}).get("PredefinedMetricType")
        if p.get("PolicyType") == "TargetTrackingScaling" and metric == "ASGAverageCPUUtilization":
            return AutoScalingConfig(
                min_capacity=group["MinSize"],
                max_capacity=group["MaxSize"],
                target_cpu_utilization=float(spec["TargetValue"]),
                cooldown_seconds=int(p.get("EstimatedInstanceWarmup", group.get("DefaultCooldown", 300))),
            )
    return None


def to_fleet(
    group: dict[str, Any],
    template: dict[str, Any] | None,
    policies: list[dict[str, Any]],
    provider: str,
    region: str,
    price: float,
) -> Fleet:
    """A Fleet from DescribeAutoScalingGroups' ``group`` and its launch template version's data."""
    running = sum(1 for i in group.get("Instances", []) if i.get("LifecycleState") == "InService")
    created = group.get("CreatedTime")
    return Fleet(
        id=group["AutoScalingGroupName"],
        name=group["AutoScalingGroupName"],
        provider=provider,
        region=region,
        instance_type=instance_type_of(group, template),
        capacity=group["DesiredCapacity"],
        min_capacity=group["MinSize"],
        max_capacity=group["MaxSize"],
        running=running,
        description=(template or {}).get("VersionDescription", ""),
        spot=is_spot(group),
        tags=TAGS.user_tags({t["Key"]: t["Value"] for t in group.get("Tags", [])}),
        auto_scaling=scaling_of(group, policies),
        created_at=created.astimezone(timezone.utc) if isinstance(created, datetime) else None,
        hourly_cost_usd=round(running * price, 6),
    )
