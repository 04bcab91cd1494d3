"""diagnose_network on AWS (moto): the fleet's security groups, subnets and route tables, network ACLs."""

from __future__ import annotations

import pytest

import clusterdb_nb as cdb
from clusterdb_nb.providers.capabilities import Feature

pytest_plugins = ["aws_moto"]


@pytest.fixture
def vpc(raw):
    """A VPC with one subnet (public IPs on launch), an internet gateway routed from its own table, and a group."""
    ec2 = raw.ec2
    vpc_id = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)
    sg = ec2.create_security_group(GroupName="web-sg", Description="web", VpcId=vpc_id)["GroupId"]
    return {"vpc": vpc_id, "subnet": subnet, "igw": igw, "rtb": rtb, "sg": sg}


@pytest.fixture
def fleet(aws, vpc):
    networking = {"subnet_ids": [vpc["subnet"]], "security_group_ids": [vpc["sg"]]}
    aws.create_fleet(cdb.FleetConfig("web", capacity=2, instance_type="t3.micro", provider="aws", networking=networking))
    return aws


def by_resource(df, prefix):
    return df[df["resource"].str.startswith(prefix)]


def test_closed_ports_and_a_missing_internet_route_are_critical_with_the_aws_fix(fleet, vpc):
    df = fleet.diagnose_network("web", ports=[22, 443])
    groups = by_resource(df, "security group")
    assert list(groups["severity"]) == ["critical", "critical"]
    assert groups.iloc[1]["fix"] == (
        f"aws ec2 authorize-security-group-ingress --group-id {vpc['sg']} --protocol tcp --port 443 --cidr YOUR_CIDR"
    )
    subnet = by_resource(df, "subnet").iloc[0]
    assert subnet["severity"] == "critical" and "no route to an internet gateway" in subnet["finding"]
    assert vpc["rtb"] in subnet["fix"]
    assert df.iloc[0]["severity"] == "critical"  # critical first


def test_open_ports_a_route_and_ssh_from_anywhere(fleet, vpc, raw):
    raw.ec2.create_route(RouteTableId=vpc["rtb"], DestinationCidrBlock="0.0.0.0/0", GatewayId=vpc["igw"])
    raw.ec2.authorize_security_group_ingress(
        GroupId=vpc["sg"],
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        ],
    )
    df = fleet.diagnose_network("web", ports=[22, 443]).set_index("finding")
    assert df.loc["port 443 is open from 0.0.0.0/0", "severity"] == "ok"
    ssh = df.loc["port 22 (SSH) is open to the whole internet (0.0.0.0/0)"]
    assert ssh["severity"] == "warning" and "revoke-security-group-ingress" in ssh["fix"]
    public = [f for f in df.index if f.startswith("public: route table")]
    assert public and vpc["igw"] in public[0] and df.loc[public[0], "severity"] == "ok"


def test_a_network_acl_denying_the_port_is_critical(fleet, vpc, raw):
    acl = raw.ec2.create_network_acl(VpcId=vpc["vpc"])["NetworkAcl"]["NetworkAclId"]
    current = raw.ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [vpc["subnet"]]}])
    assoc = next(
        a["NetworkAclAssociationId"] for a in current["NetworkAcls"][0]["Associations"] if a["SubnetId"] == vpc["subnet"]
    )
    raw.ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=acl)
    raw.ec2.create_network_acl_entry(
        NetworkAclId=acl,
        RuleNumber=100,
        Protocol="6",
        RuleAction="allow",
        Egress=False,
        CidrBlock="0.0.0.0/0",
        PortRange={"From": 22, "To": 22},
    )
    df = by_resource(fleet.diagnose_network("web", ports=[22, 443]), f"network ACL {acl}").set_index("finding")
    assert df.loc["allows port 22 in from anywhere (rule 100)", "severity"] == "ok"
    denied = df.loc["denies port 443 in from anywhere (the final deny-all rule)"]
    assert denied["severity"] == "critical" and "--port-range From=443,To=443" in denied["fix"]
    assert df.loc[[f for f in df.index if "ephemeral" in f][0], "severity"] == "critical"  # nothing allowed back out


def test_a_private_subnet_is_information_not_an_error(aws, vpc, raw):
    raw.ec2.modify_subnet_attribute(SubnetId=vpc["subnet"], MapPublicIpOnLaunch={"Value": False})
    networking = {"subnet_ids": [vpc["subnet"]], "security_group_ids": [vpc["sg"]]}
    aws.create_fleet(cdb.FleetConfig("db", capacity=1, instance_type="t3.micro", provider="aws", networking=networking))
    subnet = by_resource(aws.diagnose_network("db", ports=[5432]), "subnet").iloc[0]
    assert subnet["severity"] == "info" and subnet["finding"].startswith("private:")


def test_aws_declares_network_diagnosis_and_an_unknown_fleet_is_not_found(aws):
    assert aws.capabilities().loc[Feature.NETWORK_DIAGNOSIS.value, "aws"] == "✓"
    with pytest.raises(cdb.NotFoundError):
        aws.diagnose_network("nope")
