"""An AWS fleet's network, as findings: security groups, subnets and route tables, network ACLs.

Pure functions over the EC2 ``Describe*`` answers, so each check reads like the console::

    >>> sg_rules([{"GroupId": "sg-1", "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
    ...            "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}])
    [IngressRule(group='sg-1', protocol='tcp', from_port=22, to_port=22, source='0.0.0.0/0')]
"""

from __future__ import annotations

from typing import Any

from ...network import WORLD, Finding, IngressRule, Severity, port_findings

__all__ = ["acl_findings", "acl_of", "group_findings", "internet_gateway", "route_table_of", "sg_rules", "subnet_findings"]

PROTOCOLS = {"-1": "all", "6": "tcp", "17": "udp"}
EPHEMERAL = (1024, 65535)


def sg_rules(groups: list[dict[str, Any]]) -> list[IngressRule]:
    """Every inbound permission of ``groups`` (DescribeSecurityGroups items) as one rule per source."""
    out = []
    for group in groups:
        for perm in group.get("IpPermissions", []):
            protocol = PROTOCOLS.get(perm["IpProtocol"], perm["IpProtocol"])
            lo, hi = (0, 65535) if protocol == "all" else (perm.get("FromPort", 0), perm.get("ToPort", 65535))
            sources = [r["CidrIp"] for r in perm.get("IpRanges", [])]
            sources += [r["CidrIpv6"] for r in perm.get("Ipv6Ranges", [])]
            sources += [p["GroupId"] for p in perm.get("UserIdGroupPairs", [])]
            sources += [p["PrefixListId"] for p in perm.get("PrefixListIds", [])]
            out += [IngressRule(group["GroupId"], protocol, lo, hi, src) for src in sources]
    return out


def group_findings(groups: list[dict[str, Any]], ports: list[int]) -> list[Finding]:
    """Is each port open in the (additive) security groups, and from where."""
    ids = [g["GroupId"] for g in groups]
    names = ", ".join(f"{g['GroupId']} ({g.get('GroupName', '')})" for g in groups)
    first = ids[0]
    return port_findings(
        f"security group{'s' if len(ids) > 1 else ''} {names}",
        sg_rules(groups),
        ports,
        fix_open=lambda p: (
            f"aws ec2 authorize-security-group-ingress --group-id {first} --protocol tcp --port {p} --cidr YOUR_CIDR"
        ),
        fix_narrow=lambda p: (
            f"aws ec2 revoke-security-group-ingress --group-id {first} --protocol tcp --port {p} --cidr 0.0.0.0/0; "
            f"aws ec2 authorize-security-group-ingress --group-id {first} --protocol tcp --port {p} --cidr YOUR_CIDR"
        ),
    )


def route_table_of(subnet: dict[str, Any], tables: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The subnet's explicitly associated route table, else its VPC's main one."""
    for table in tables:
        if any(a.get("SubnetId") == subnet["SubnetId"] for a in table.get("Associations", [])):
            return table
    for table in tables:
        if table.get("VpcId") == subnet["VpcId"] and any(a.get("Main") for a in table.get("Associations", [])):
            return table
    return None


def internet_gateway(table: dict[str, Any] | None) -> str | None:
    """The internet gateway of the table's active default route, if any."""
    for route in (table or {}).get("Routes", []):
        gateway = route.get("GatewayId", "")
        if route.get("DestinationCidrBlock") in WORLD and gateway.startswith("igw-") and route.get("State", "active") == "active":
            return str(gateway)
    return None


def subnet_findings(subnet: dict[str, Any], tables: list[dict[str, Any]], public_ip: bool) -> list[Finding]:
    """A route to an internet gateway and public addresses go together, or the instances cannot be reached from outside."""
    sid = subnet["SubnetId"]
    table = route_table_of(subnet, tables)
    igw = internet_gateway(table)
    assigns = bool(subnet.get("MapPublicIpOnLaunch")) or public_ip
    rtb = (table or {}).get("RouteTableId", "no route table")
    if igw and assigns:
        return [
            Finding(Severity.OK, f"subnet {sid}", f"public: route table {rtb} sends 0.0.0.0/0 to {igw}; instances get public IPs")
        ]
    if igw:
        return [
            Finding(
                Severity.WARNING,
                f"subnet {sid}",
                f"route table {rtb} reaches the internet through {igw}, but instances get no public IP",
                f"aws ec2 modify-subnet-attribute --subnet-id {sid} --map-public-ip-on-launch "
                "(or reach them through a load balancer or bastion)",
            )
        ]
    if assigns:
        return [
            Finding(
                Severity.CRITICAL,
                f"subnet {sid}",
                f"instances get public IPs but route table {rtb} has no route to an internet gateway",
                f"aws ec2 create-route --route-table-id {rtb} --destination-cidr-block 0.0.0.0/0 --gateway-id igw-...",
            )
        ]
    return [
        Finding(
            Severity.INFO,
            f"subnet {sid}",
            f"private: route table {rtb} has no internet gateway route and instances get no public IP",
            "Reach them from inside the VPC, through a bastion, VPN or Session Manager",
        )
    ]


def acl_of(subnet: dict[str, Any], acls: list[dict[str, Any]]) -> dict[str, Any] | None:
    for acl in acls:
        if any(a.get("SubnetId") == subnet["SubnetId"] for a in acl.get("Associations", [])):
            return acl
    return next((a for a in acls if a.get("VpcId") == subnet["VpcId"] and a.get("IsDefault")), None)


def _decision(acl: dict[str, Any], port: int, egress: bool) -> tuple[str, int | None]:
    """The first rule (by number) that matches traffic from/to anywhere on ``port``: (allow|deny, rule number)."""
    for entry in sorted((e for e in acl.get("Entries", []) if e.get("Egress") == egress), key=lambda e: e["RuleNumber"]):
        if entry.get("CidrBlock", entry.get("Ipv6CidrBlock")) not in WORLD:
            continue
        protocol = PROTOCOLS.get(entry["Protocol"], entry["Protocol"])
        span = entry.get("PortRange") or {"From": 0, "To": 65535}
        if protocol in ("all", "tcp") and span["From"] <= port <= span["To"]:
            return entry["RuleAction"], entry["RuleNumber"]
    return "deny", None  # the implicit final rule


def acl_findings(subnet: dict[str, Any], acl: dict[str, Any] | None, ports: list[int]) -> list[Finding]:
    """Network ACLs are stateless: each port must be allowed in, and the ephemeral ports back out."""
    if acl is None:
        return []
    aid = acl["NetworkAclId"]
    out = []
    for port in ports:
        action, number = _decision(acl, port, egress=False)
        rule = f"rule {number}" if number is not None else "the final deny-all rule"
        if action == "allow":
            out.append(Finding(Severity.OK, f"network ACL {aid}", f"allows port {port} in from anywhere ({rule})"))
        else:
            out.append(
                Finding(
                    Severity.CRITICAL,
                    f"network ACL {aid}",
                    f"denies port {port} in from anywhere ({rule})",
                    f"aws ec2 create-network-acl-entry --network-acl-id {aid} --ingress "
                    f"--rule-number {max(1, (number or 100) - 1)} --protocol tcp --port-range From={port},To={port} "
                    "--cidr-block YOUR_CIDR --rule-action allow",
                )
            )
    if all(_decision(acl, p, egress=True)[0] != "allow" for p in EPHEMERAL):
        out.append(
            Finding(
                Severity.CRITICAL,
                f"network ACL {aid}",
                "denies the ephemeral ports 1024-65535 out, so replies never leave (ACLs are stateless)",
                f"aws ec2 create-network-acl-entry --network-acl-id {aid} --egress --rule-number 100 --protocol tcp "
                "--port-range From=1024,To=65535 --cidr-block 0.0.0.0/0 --rule-action allow",
            )
        )
    return out
