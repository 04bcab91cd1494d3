"""The local cloud's modelled network: security groups you set, checked like a real cloud's.

A fleet's instances carry the groups in ``FleetConfig.networking["security_groups"]`` (default: the
group ``default``, which, as on AWS, lets nothing in from outside until you add a rule)::

    >>> s.local.allow_ingress("default", 443, source="0.0.0.0/0")
    >>> s.diagnose_network("web", ports=[22, 443])
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from ...errors import NotFoundError, ValidationError
from ...models import NAME_RULE
from ...network import Finding, IngressRule, Severity, is_cidr, port_findings

__all__ = ["check_group_name", "diagnose", "groups_of", "ingress_of", "port_range", "set_group"]

DEFAULT_GROUP = "default"
_GROUP = re.compile(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?")


def _rule(group: str, spec: dict[str, Any]) -> IngressRule:
    """``{"port": 443, "source": "0.0.0.0/0"}`` or ``{"ports": "8000-8080", "source": ..., "protocol": "udp"}``."""
    unknown = set(spec) - {"port", "ports", "source", "protocol"}
    if unknown or ("port" in spec) == ("ports" in spec) or "source" not in spec:
        raise ValidationError(
            f"ingress: {spec!r} is not a rule",
            field="ingress",
            rule="{'port' or 'ports', 'source', 'protocol'}",
            solution="Give rules like {'port': 443, 'source': '0.0.0.0/0'} or {'ports': '8000-8080', 'source': '10.0.0.0/8'}",
        )
    low, _, high = str(spec.get("port", spec.get("ports"))).partition("-")
    try:
        lo, hi = int(low), int(high or low)
    except ValueError:
        lo = hi = 0
    protocol = str(spec.get("protocol", "tcp"))
    source = str(spec["source"])
    if not 1 <= lo <= hi <= 65535 or protocol not in ("tcp", "udp", "all") or not (is_cidr(source) or _is_group(source)):
        raise ValidationError(
            f"ingress: {spec!r} needs ports 1..65535, protocol tcp/udp/all and a CIDR or group name as source",
            field="ingress",
            rule="ports 1..65535, protocol tcp|udp|all, source CIDR or group",
        )
    return IngressRule(group, protocol, lo, hi, source)


def _is_group(name: str) -> bool:
    return bool(_GROUP.fullmatch(name))


def check_group_name(name: str) -> str:
    if not _is_group(name):
        raise ValidationError(f"group: {name!r} must be {NAME_RULE}", field="group", rule=NAME_RULE)
    return name


def set_group(db: sqlite3.Connection, name: str, ingress: list[dict[str, Any]]) -> None:
    """Create or replace security group ``name`` with these inbound rules."""
    rules = [_rule(check_group_name(name), spec) for spec in ingress]
    stored = json.dumps([{"protocol": r.protocol, "ports": port_range(r), "source": r.source} for r in rules])
    db.execute(
        "INSERT INTO security_groups VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET ingress = excluded.ingress", (name, stored)
    )


def port_range(rule: IngressRule) -> str:
    """``"443"`` or ``"8000-8080"``."""
    return str(rule.from_port) if rule.from_port == rule.to_port else f"{rule.from_port}-{rule.to_port}"


def ingress_of(db: sqlite3.Connection, name: str) -> list[IngressRule] | None:
    """The group's rules; None when it does not exist (``default`` always does)."""
    row = db.execute("SELECT ingress FROM security_groups WHERE name = ?", (name,)).fetchone()
    if row is None:
        return [] if name == DEFAULT_GROUP else None
    return [_rule(name, spec) for spec in json.loads(row[0])]


def groups_of(db: sqlite3.Connection, fleet: str, provider: str) -> list[str]:
    row = db.execute("SELECT networking FROM fleets WHERE name = ?", (fleet,)).fetchone()
    if row is None:
        raise NotFoundError(f"no fleet named {fleet!r}", provider=provider, operation="diagnose_network")
    groups = json.loads(row[0]).get("security_groups") or [DEFAULT_GROUP]
    return [groups] if isinstance(groups, str) else list(groups)


def diagnose(db: sqlite3.Connection, fleet: str, ports: list[int], provider: str) -> list[Finding]:
    """The fleet's security groups against ``ports``, and whether anything runs to be reached."""
    findings: list[Finding] = []
    rules: list[IngressRule] = []
    present = []
    for group in groups_of(db, fleet, provider):
        found = ingress_of(db, group)
        if found is None:
            findings.append(
                Finding(
                    Severity.CRITICAL,
                    f"security group {group}",
                    "the fleet names a security group that does not exist, so its instances get no rules from it",
                    f"s.local.set_security_group({group!r}, ingress=[{{'port': 443, 'source': '10.0.0.0/8'}}])",
                )
            )
            continue
        present.append(group)
        rules += found
    if present:
        target = present[0]
        label = f"security group{'s' if len(present) > 1 else ''} {', '.join(present)}"
        findings += port_findings(
            label,
            rules,
            ports,
            fix_open=lambda p: f"s.local.allow_ingress({target!r}, {p}, source='YOUR_CIDR')  # e.g. '203.0.113.0/24'",
            fix_narrow=lambda p: (
                f"s.local.revoke_ingress({target!r}, {p}, source='0.0.0.0/0'); "
                f"s.local.allow_ingress({target!r}, {p}, source='YOUR_CIDR')"
            ),
        )
    running = db.execute("SELECT COUNT(*) FROM instances WHERE fleet = ? AND state = 'running'", (fleet,)).fetchone()[0]
    if not running:
        findings.append(
            Finding(
                Severity.INFO,
                f"fleet {fleet}",
                "no instance is running, so nothing answers yet",
                "Scale the fleet up or wait for boot",
            )
        )
    return findings
