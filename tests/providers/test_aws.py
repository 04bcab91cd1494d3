"""The AWS provider against moto: fleets as Auto Scaling groups, and EC2 instances.

Each test checks with separate boto3 clients (``raw``) what the adapter really
created in the mocked account, not only what it returned.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace
from urllib.parse import parse_qs

import numpy as np
import pandas as pd
import pytest
from aws_moto import (
    ACCOUNT,
    AMI_ARM,
    AMI_X86,
    REGION,
    aws_error,
    dropped,
    fail_first,
    group,
    live_instances,
    provider,
    ssm_value,
    template_version,
)

import clusterdb_nb as cdb
from clusterdb_nb import catalog
from clusterdb_nb.frames import FLEETS, INSTANCES
from clusterdb_nb.providers import registry
from clusterdb_nb.providers.aws import AwsProvider
from clusterdb_nb.providers.aws.instances import to_instance

pytest_plugins = ["aws_moto"]  # moto fixtures: aws_env, mocked, raw, role, aws

WEB = cdb.FleetConfig("web", "Web Application Fleet", capacity=3, instance_type="t3.medium", tags={"env": "dev"})


def default_subnets(raw: SimpleNamespace) -> list[str]:
    found = raw.ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    return sorted(s["SubnetId"] for s in found)


# -- registry -------------------------------------------------------------------------------
def test_aws_is_a_builtin_provider_created_from_its_config_section(aws_env):
    assert registry.provider_class("aws") is AwsProvider
    with cdb.connect(aws={"region": "eu-west-1", "retry_mode": "adaptive", "max_attempts": 7}) as s:
        p = provider(s)
        assert isinstance(p, AwsProvider) and p.region == "eu-west-1"
        ec2 = p.clients.client("ec2")  # created lazily, no call made
        assert ec2.meta.region_name == "eu-west-1"
        assert ec2.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 7}


def test_missing_boto3_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)  # as if boto3 were not installed
    for name in [m for m in sys.modules if m.startswith("clusterdb_nb.providers.aws")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(cdb.NotSupportedError, match="needs boto3") as err:
        registry.provider_class("aws")
    assert err.value.solution == "pip install 'clusterdb-nb[aws]'"


# -- create ---------------------------------------------------------------------------------
def test_create_fleet_makes_a_group_launching_from_a_template(aws, raw):
    fleet = aws.create_fleet(WEB.with_provider("aws"))
    assert (fleet.provider, fleet.capacity, fleet.running, fleet.instance_type) == ("aws", 3, 3, "t3.medium")

    g = group(raw, "web")
    assert (g["MinSize"], g["MaxSize"], g["DesiredCapacity"], len(g["Instances"])) == (0, 100, 3, 3)
    assert g["VPCZoneIdentifier"].split(",") == default_subnets(raw)
    assert g["LaunchTemplate"]["LaunchTemplateName"] == "clusterdb-web" and "MixedInstancesPolicy" not in g
    assert {m["Metric"] for m in g["EnabledMetrics"]} == {"GroupInServiceInstances", "GroupDesiredCapacity"}
    assert [(t["Key"], t["Value"], t["PropagateAtLaunch"]) for t in g["Tags"]] == [("env", "dev", True)]

    version = template_version(raw, g["LaunchTemplate"])
    data = version["LaunchTemplateData"]
    assert data["InstanceType"] == "t3.medium"
    assert data["ImageId"] == ssm_value(raw, AMI_X86)  # the latest Amazon Linux 2023, x86_64
    assert version["VersionDescription"] == "Web Application Fleet"

    members = live_instances(raw, **{"tag:aws:autoscaling:groupName": "web"})
    assert len(members) == 3
    assert all({"Key": "env", "Value": "dev"} in i["Tags"] and i["InstanceType"] == "t3.medium" for i in members)


def test_arm_types_get_the_arm64_image_and_an_explicit_image_wins(aws, raw):
    aws.create_fleet(cdb.FleetConfig("graviton", capacity=1, instance_type="m7g.large", provider="aws"))
    assert catalog.lookup("m7g.large").arch == "arm64"
    arm = template_version(raw, group(raw, "graviton")["LaunchTemplate"])["LaunchTemplateData"]
    assert arm["ImageId"] == ssm_value(raw, AMI_ARM) != ssm_value(raw, AMI_X86)

    aws.create_fleet(
        cdb.FleetConfig("custom", capacity=1, instance_type="t3.small", image="ami-0123456789abcdef0", provider="aws")
    )
    custom = template_version(raw, group(raw, "custom")["LaunchTemplate"])["LaunchTemplateData"]
    assert custom["ImageId"] == "ami-0123456789abcdef0"


def test_subnets_and_security_groups_come_from_the_config_fleet_defaults(raw, role):
    subnets = default_subnets(raw)[:2]
    sg = raw.ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    config = {
        "compute": {"providers": {"aws": {"region": REGION}}},
        "fleet": {"networking": {"subnet_ids": subnets, "security_group_ids": [sg]}},
    }
    with cdb.connect(config) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=2, instance_type="t3.micro"))
    g = group(raw, "web")
    assert g["VPCZoneIdentifier"].split(",") == subnets
    assert template_version(raw, g["LaunchTemplate"])["LaunchTemplateData"]["SecurityGroupIds"] == [sg]
    assert {i["SubnetId"] for i in live_instances(raw)} <= set(subnets)


def test_spot_fleet_is_a_mixed_instances_policy_with_no_on_demand_share(aws, raw):
    fleet = aws.create_fleet(cdb.FleetConfig("batch", capacity=2, instance_type="c5.large", spot=True, provider="aws"))
    assert fleet.spot and fleet.instance_type == "c5.large"
    assert fleet.hourly_cost_usd == pytest.approx(2 * catalog.lookup("c5.large", REGION).spot_usd)
    g = group(raw, "batch")
    assert "LaunchTemplate" not in g
    policy = g["MixedInstancesPolicy"]
    assert policy["InstancesDistribution"]["OnDemandBaseCapacity"] == 0
    assert policy["InstancesDistribution"]["OnDemandPercentageAboveBaseCapacity"] == 0
    assert policy["LaunchTemplate"]["Overrides"] == [{"InstanceType": "c5.large"}]
    assert policy["LaunchTemplate"]["LaunchTemplateSpecification"]["LaunchTemplateName"] == "clusterdb-batch"
    assert len(g["Instances"]) == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"networking": {"subnet_ids": ["nope"]}}, "networking.subnet_ids"),
        ({"networking": {"security_group_ids": "default"}}, "networking.security_group_ids"),
        ({"instance_type": "t3.mediun"}, "instance_type"),
    ],
)
def test_bad_input_is_rejected_before_anything_is_created(aws, raw, change, field):
    with pytest.raises(cdb.ValidationError) as err:
        aws.create_fleet(WEB.model_copy(update={"provider": "aws", **change}))
    assert err.value.field == field
    assert raw.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"] == []
    assert raw.ec2.describe_launch_templates()["LaunchTemplates"] == []


def test_a_tag_aws_reserves_is_rejected_before_anything_is_created(aws, raw):
    with pytest.raises(cdb.ValidationError) as err:
        aws.create_fleet(WEB.with_tags({"aws:team": "web"}).with_provider("aws"))
    assert err.value.field == "tags.aws:team" and "aws:" in err.value.rule
    assert raw.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"] == []
    assert raw.ec2.describe_launch_templates()["LaunchTemplates"] == []


def test_the_launch_template_carries_the_ownership_tag(aws, raw):
    aws.create_fleet(WEB.with_provider("aws"))
    template = raw.ec2.describe_launch_templates(LaunchTemplateNames=["clusterdb-web"])["LaunchTemplates"][0]
    assert {"Key": "clusterdb:fleet", "Value": "web"} in template["Tags"]


def test_a_fleet_name_that_exists_is_a_conflict_and_leaves_it_alone(aws, raw):
    aws.create_fleet(WEB.with_provider("aws"))
    with pytest.raises(cdb.ConflictError, match="already exists"):
        aws.create_fleet(WEB.with_capacity(9).with_provider("aws"))
    assert group(raw, "web")["DesiredCapacity"] == 3
    assert len(raw.ec2.describe_launch_templates()["LaunchTemplates"]) == 1


def test_a_retried_create_sends_the_same_client_token_and_makes_one_template(aws, raw):
    ec2 = provider(aws).clients.client("ec2")
    attempts = fail_first(ec2, "CreateLaunchTemplate", dropped)
    aws.create_fleet(WEB.with_provider("aws"))
    tokens = [parse_qs(str(r.body))["ClientToken"] for r in attempts]
    assert len(tokens) == 2 and tokens[0] == tokens[1] and tokens[0]  # botocore's retry resent the same token
    assert [t["LaunchTemplateName"] for t in raw.ec2.describe_launch_templates()["LaunchTemplates"]] == ["clusterdb-web"]


def test_a_group_that_cannot_be_created_leaves_no_template_behind(aws, raw):
    asg = provider(aws).clients.client("autoscaling")
    fail_first(
        asg, "CreateAutoScalingGroup", aws_error("LimitExceeded", "You have 200 Auto Scaling groups", "CreateAutoScalingGroup")
    )
    with pytest.raises(cdb.QuotaExceededError) as err:
        aws.create_fleet(WEB.with_provider("aws"))
    assert err.value.cause == "Resource quota exceeded"
    assert err.value.solution == "Request quota increase or cleanup unused resources"
    assert raw.ec2.describe_launch_templates()["LaunchTemplates"] == []
    assert raw.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"] == []


# -- read -----------------------------------------------------------------------------------
def test_fleets_frame_lists_every_group_across_pages(aws, raw):
    aws.create_fleet(WEB.with_provider("aws"))
    template = raw.ec2.describe_launch_templates()["LaunchTemplates"][0]["LaunchTemplateId"]
    for k in range(55):  # DescribeAutoScalingGroups answers 50 groups a page
        raw.autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=f"other-{k:02d}",
            MinSize=0,
            MaxSize=1,
            DesiredCapacity=0,
            LaunchTemplate={"LaunchTemplateId": template, "Version": "1"},
            AvailabilityZones=[f"{REGION}a"],
        )
    df = aws.fleets()
    assert list(df.columns) == list(FLEETS) and len(df) == 56
    web = df.set_index("name").loc["web"]
    assert (web["capacity"], web["running"], web["instance_type"], web["description"]) == (
        3,
        3,
        "t3.medium",
        "Web Application Fleet",
    )
    assert str(df["created_at"].dt.tz) == "UTC"
    assert set(df.loc[df["name"] != "web", "instance_type"]) == {"t3.medium"}


def test_unknown_fleet_is_not_found(aws):
    with pytest.raises(cdb.NotFoundError, match="no fleet 'nope'"):
        aws.fleet("nope")


# -- change ---------------------------------------------------------------------------------
def test_update_fleet_capacity_sets_the_desired_capacity(aws, raw):
    aws.create_fleet(WEB.with_provider("aws"))
    fleet = aws.update_fleet_capacity("web", 5)
    assert (fleet.capacity, fleet.running) == (5, 5)
    assert group(raw, "web")["DesiredCapacity"] == 5
    assert len(live_instances(raw, **{"tag:aws:autoscaling:groupName": "web"})) == 5
    with pytest.raises(cdb.ValidationError) as err:
        aws.update_fleet_capacity("web", 101)
    assert err.value.field == "capacity" and group(raw, "web")["DesiredCapacity"] == 5


def test_dry_run_names_the_aws_call_and_its_cost_and_changes_nothing(aws, raw):
    aws.create_fleet(WEB.with_provider("aws"))
    plan = aws.update_fleet_capacity("web", 20, dry_run=True)
    assert [c.call for c in plan.calls] == ["autoscaling:SetDesiredCapacity(AutoScalingGroupName='web', DesiredCapacity=20)"]
    price = catalog.lookup("t3.medium", REGION).on_demand_usd
    assert plan.hourly_cost_delta_usd == pytest.approx(17 * price)
    assert group(raw, "web")["DesiredCapacity"] == 3
    delete = aws.delete_fleet("web", dry_run=True)
    assert delete.calls[0].call == (
        "autoscaling:DeleteAutoScalingGroup(AutoScalingGroupName='web', ForceDelete=True); "
        "ec2:DeleteLaunchTemplate(LaunchTemplateName='clusterdb-web')"
    )
    assert group(raw, "web")["DesiredCapacity"] == 3


def test_dry_runs_of_create_update_and_instance_calls_name_the_aws_calls(aws, raw):
    plan = aws.create_fleet(WEB.with_provider("aws"), dry_run=True)
    assert [c.call for c in plan.calls] == [
        "ec2:CreateLaunchTemplate(LaunchTemplateName='clusterdb-web', InstanceType='t3.medium'); "
        "autoscaling:CreateAutoScalingGroup(AutoScalingGroupName='web', DesiredCapacity=3)"
    ]
    assert raw.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"] == []
    aws.create_fleet(WEB.with_provider("aws"))
    assert aws.update_fleet(cdb.FleetConfig("web", max_capacity=6), dry_run=True).calls[0].call == (
        "ec2:CreateLaunchTemplateVersion(LaunchTemplateName='clusterdb-web'); "
        "autoscaling:UpdateAutoScalingGroup(AutoScalingGroupName='web')"
    )
    iid = aws.instances(fleet="web")["id"].iloc[0]
    assert aws.stop_instance(iid, dry_run=True).calls[0].call == f"ec2:StopInstances(InstanceIds=['{iid}'])"
    assert aws.start_instance(iid, dry_run=True).calls[0].call == f"ec2:StartInstances(InstanceIds=['{iid}'])"


def test_update_fleet_publishes_a_template_version_and_merges_tags(aws, raw):
    aws.create_fleet(WEB.with_provider("aws"))
    fleet = aws.update_fleet(
        cdb.FleetConfig("web", "Web on Graviton", instance_type="m7g.large", max_capacity=6, tags={"team": "web"})
    )
    assert (fleet.instance_type, fleet.description, fleet.max_capacity) == ("m7g.large", "Web on Graviton", 6)
    assert fleet.tags == {"env": "dev", "team": "web"}
    g = group(raw, "web")
    assert g["LaunchTemplate"]["Version"] == "2" and g["MaxSize"] == 6 and g["DesiredCapacity"] == 3
    data = template_version(raw, g["LaunchTemplate"])["LaunchTemplateData"]
    assert data["InstanceType"] == "m7g.large"
    assert data["ImageId"] == ssm_value(raw, AMI_ARM)  # a new architecture gets its own default image
    assert {t["Key"]: (t["Value"], t["PropagateAtLaunch"]) for t in g["Tags"]} == {"env": ("dev", True), "team": ("web", True)}


def test_update_fleet_to_spot_switches_to_a_mixed_instances_policy(aws, raw):
    aws.create_fleet(WEB.with_provider("aws"))
    assert aws.update_fleet(cdb.FleetConfig("web", spot=True)).spot
    g = group(raw, "web")
    assert g["MixedInstancesPolicy"]["InstancesDistribution"]["OnDemandPercentageAboveBaseCapacity"] == 0
    assert g["MixedInstancesPolicy"]["LaunchTemplate"]["LaunchTemplateSpecification"]["Version"] == "1"  # nothing else changed


def test_configure_auto_scaling_puts_a_cpu_target_tracking_policy(aws, raw):
    aws.create_fleet(WEB.with_capacity(12).with_provider("aws"))
    policy = cdb.AutoScalingConfig(min_capacity=2, max_capacity=8, target_cpu_utilization=55.0, cooldown_seconds=120)
    fleet = aws.configure_auto_scaling("web", policy)
    assert fleet.auto_scaling == policy and fleet.capacity == 8
    g = group(raw, "web")
    assert (g["MinSize"], g["MaxSize"], g["DesiredCapacity"]) == (2, 8, 8)
    [p] = raw.autoscaling.describe_policies(AutoScalingGroupName="web")["ScalingPolicies"]
    assert p["PolicyType"] == "TargetTrackingScaling" and p["EstimatedInstanceWarmup"] == 120
    tt = p["TargetTrackingConfiguration"]
    assert tt["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ASGAverageCPUUtilization"
    assert tt["TargetValue"] == 55.0
    assert aws.fleets().set_index("name").loc["web", "target_cpu"] == 55.0

    plan = aws.configure_auto_scaling("web", policy.model_copy(update={"target_cpu_utilization": 40.0}), dry_run=True)
    assert (
        "autoscaling:PutScalingPolicy(AutoScalingGroupName='web', PolicyName='clusterdb-target-cpu', "
        "PolicyType='TargetTrackingScaling', TargetValue=40.0, EstimatedInstanceWarmup=120)" in plan.calls[0].call
    )


def test_delete_fleet_removes_group_and_template_and_terminates_instances(aws, raw):
    aws.create_fleet(WEB.with_provider("aws"))
    members = [i["InstanceId"] for i in live_instances(raw)]
    assert aws.delete_fleet("web") is None
    assert raw.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"] == []
    assert raw.ec2.describe_launch_templates()["LaunchTemplates"] == []
    states = {
        i["InstanceId"]: i["State"]["Name"]
        for r in raw.ec2.describe_instances(InstanceIds=members)["Reservations"]
        for i in r["Instances"]
    }
    assert set(states.values()) == {"terminated"}
    assert set(aws.instances(state="all")["state"]) == {"terminated"}
    with pytest.raises(cdb.NotFoundError):
        aws.fleet("web")


# -- instances -----------------------------------------------------------------------------
def test_instances_frame_holds_fleet_members_and_standalone_instances(aws, raw):
    aws.create_fleet(WEB.with_capacity(2).with_provider("aws"))
    alone = raw.ec2.run_instances(
        ImageId="ami-12345678",
        InstanceType="m5.large",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "db"}]}],
    )
    alone_id = alone["Instances"][0]["InstanceId"]
    df = aws.instances()
    assert list(df.columns) == list(INSTANCES) and len(df) == 3
    assert df["spot"].dtype == np.bool_ and df["hourly_cost_usd"].dtype == np.float64
    assert str(df["launched_at"].dt.tz) == "UTC" and str(df["state_since"].dt.tz) == "UTC"
    row = df.set_index("id").loc[alone_id]
    assert pd.isna(row["fleet"]) and row["instance_type"] == "m5.large" and row["tags"] == {"Name": "db"}
    assert row["hourly_cost_usd"] == catalog.lookup("m5.large", REGION).on_demand_usd
    members = df[df["fleet"] == "web"]
    assert len(members) == 2 and all(t == {"env": "dev"} for t in members["tags"])
    assert set(aws.instances(fleet="web")["id"]) == set(members["id"])
    empty = aws.instances(state="stopping")
    assert len(empty) == 0 and list(empty.columns) == list(INSTANCES) and (empty.dtypes == df.dtypes).all()
    assert df["private_ip"].notna().all()


def test_instances_are_listed_across_pages(aws, raw):
    for _ in range(105):  # DescribeInstances answers 100 reservations a page
        raw.ec2.run_instances(ImageId="ami-12345678", InstanceType="t3.micro", MinCount=1, MaxCount=1)
    df = aws.instances()
    assert len(df) == 105 and df["id"].is_unique


def test_stop_start_terminate_follow_ec2(aws, raw):
    iid = raw.ec2.run_instances(ImageId="ami-12345678", InstanceType="t3.small", MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"
    ]

    def ec2_state() -> str:
        return raw.ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]["Name"]

    stopped = aws.stop_instance(iid)
    assert stopped.state is cdb.InstanceState.STOPPED and ec2_state() == "stopped"
    assert stopped.state_since >= stopped.launched_at
    assert aws.instances(state="stopped")["hourly_cost_usd"].tolist() == [0.0]
    assert aws.start_instance(iid).state is cdb.InstanceState.RUNNING and ec2_state() == "running"
    assert aws.terminate_instance(iid).state is cdb.InstanceState.TERMINATED and ec2_state() == "terminated"
    assert iid not in set(aws.instances()["id"]) and iid in set(aws.instances(state="terminated")["id"])


def test_a_terminated_fleet_member_is_replaced_by_its_group(aws, raw):
    aws.create_fleet(WEB.with_provider("aws"))
    victim = aws.instances()["id"].iloc[0]
    plan = aws.terminate_instance(victim, dry_run=True)
    assert plan.calls[0].call == f"ec2:TerminateInstances(InstanceIds=['{victim}'])"
    aws.terminate_instance(victim)
    members = {i["InstanceId"] for i in live_instances(raw, **{"tag:aws:autoscaling:groupName": "web"})}
    assert len(members) == 3 and victim not in members


def test_unknown_instance_is_not_found(aws):
    with pytest.raises(cdb.NotFoundError, match="i-0123456789abcdef0"):
        aws.instance("i-0123456789abcdef0")


def test_ec2_states_map_to_ours_including_shutting_down():
    item = {
        "InstanceId": "i-1",
        "InstanceType": "t3.micro",
        "LaunchTime": pd.Timestamp("2026-01-05T10:00Z").to_pydatetime(),
        "State": {"Name": "shutting-down"},
        "InstanceLifecycle": "spot",
        "StateTransitionReason": "User initiated (2026-01-05 11:30:00 GMT)",
        "Tags": [{"Key": "aws:autoscaling:groupName", "Value": "web"}, {"Key": "env", "Value": "dev"}],
    }
    inst = to_instance(item, "aws", REGION)
    assert (inst.state, inst.fleet, inst.spot, inst.tags) == (cdb.InstanceState.TERMINATING, "web", True, {"env": "dev"})
    assert inst.state_since == pd.Timestamp("2026-01-05T11:30Z")


def test_cli_status_for_aws_names_the_account_and_region(mocked, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from clusterdb_nb.cli import main

    config = tmp_path / "clusterdb.yaml"
    config.write_text("compute:\n  default_provider: aws\n  providers:\n    aws:\n      region: us-east-1\n")
    monkeypatch.setenv("CLUSTERDB_CONFIG", str(config))
    result = CliRunner().invoke(main, ["compute", "status", "--provider", "aws"])
    assert result.exit_code == 0, result.output
    assert "aws" in result.output and "us-east-1" in result.output and ACCOUNT in result.output
