"""Network diagnosis as findings: can the fleet's ports be reached, from where, and by which path.

A cloud adapter turns its own rules into ``IngressRule`` (AWS security groups, GCP firewall rules,
Azure NSG rules, the local cloud's modelled groups) and states its path facts; the checks and the
findings table are shared::

    >>> rules = [IngressRule("sg-1", "tcp", 22, 22, "0.0.0.0/0")]
    >>> [f.severity for f in port_findings("security group sg-1", rules, [22, 443], fix_open=lambda p: "open it")]
    ['warning', 'critical']
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from .errors import ValidationError

__all__ = ["Finding", "IngressRule", "Severity", "check_ports", "frame", "is_cidr", "merge", "parse_ports", "port_findings"]

COLUMNS = ["severity", "resource", "finding", "fix"]
WORLD = ("0.0.0.0/0", "::/0")
ADMIN_PORTS = {22: "SSH", 3389: "RDP"}
DEFAULT_PORTS = (22, 443)


class Severity(str, enum.Enum):
    """How bad a finding is; the table sorts critical first."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"
    OK = "ok"

    def __str__(self) -> str:
        return self.value


ORDER = {s: i for i, s in enumerate(Severity)}


@dataclass(frozen=True)
class Finding:
    """One row of the diagnosis: how bad, which resource, what is wrong (or right), how to fix it."""

    severity: Severity
    resource: str
    finding: str
    fix: str = ""


@dataclass(frozen=True)
class IngressRule:
    """One inbound allow rule, in any cloud's words: ``protocol`` tcp/udp/all, a port range, a source."""

    group: str
    protocol: str
    from_port: int
    to_port: int
    source: str  # a CIDR, or another group's id ("from members of sg-...")

    def covers(self, port: int, protocol: str = "tcp") -> bool:
        return self.protocol in ("all", "-1", protocol) and self.from_port <= port <= self.to_port

    @property
    def from_anywhere(self) -> bool:
        return self.source in WORLD


def check_ports(ports: Iterable[object] | None) -> list[int]:
    """``ports`` as a sorted list of TCP ports 1..65535 (``DEFAULT_PORTS`` when None)."""
    if ports is None:
        return list(DEFAULT_PORTS)
    out = set()
    for p in ports:
        if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= 65535:
            raise ValidationError(
                f"ports: {p!r} is not a TCP port", field="ports", rule="integers 1..65535", solution="Pass e.g. ports=[22, 443]"
            )
        out.add(p)
    if not out:
        raise ValidationError(
            "ports: name at least one port", field="ports", rule="one or more ports", solution="Pass e.g. ports=[22, 443]"
        )
    return sorted(out)


def parse_ports(text: str) -> list[int]:
    """``"22,443"`` -> ``[22, 443]`` (the CLI's ``--port``)."""
    try:
        return check_ports(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise ValidationError(
            f"--port: {text!r} is not a comma-separated list of ports", field="--port", rule="e.g. 22,443"
        ) from None


def port_findings(
    resource: str,
    rules: Sequence[IngressRule],
    ports: Sequence[int],
    fix_open: Callable[[int], str],
    fix_narrow: Callable[[int], str] | None = None,
) -> list[Finding]:
    """For each port: closed (critical), open only from other groups (info), open to the world on an admin
    port (warning), or open from where (ok)."""
    out = []
    for port in ports:
        allowing = [r for r in rules if r.covers(port)]
        label = f"port {port}" + (f" ({ADMIN_PORTS[port]})" if port in ADMIN_PORTS else "")
        if not allowing:
            out.append(Finding(Severity.CRITICAL, resource, f"{label} is closed: no inbound rule allows it", fix_open(port)))
            continue
        sources = ", ".join(sorted({r.source for r in allowing}))
        if not any(is_cidr(r.source) for r in allowing):
            finding = f"{label} is open only from members of {sources}, not from any address range"
            out.append(Finding(Severity.INFO, resource, finding, fix_open(port)))
        elif port in ADMIN_PORTS and any(r.from_anywhere for r in allowing):
            fix = (fix_narrow or (lambda p: f"Allow port {p} only from your own network's CIDR (e.g. 203.0.113.0/24)"))(port)
            out.append(Finding(Severity.WARNING, resource, f"{label} is open to the whole internet ({sources})", fix))
        else:
            out.append(Finding(Severity.OK, resource, f"{label} is open from {sources}"))
    return out


def is_cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def merge(findings: Iterable[Finding]) -> list[Finding]:
    """One row per distinct (severity, finding, fix): six subnets sharing a route table make one row naming all six."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for f in findings:
        resources = groups.setdefault((str(f.severity), f.finding, f.fix), [])
        if f.resource not in resources:
            resources.append(f.resource)
    return [Finding(Severity(sev), ", ".join(res), finding, fix) for (sev, finding, fix), res in groups.items()]


def frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """The findings (merged) as a DataFrame (``COLUMNS``), critical first, in the order found within a severity."""
    rows = sorted(merge(findings), key=lambda f: ORDER[Severity(f.severity)])
    out: pd.DataFrame = pd.DataFrame([(str(f.severity), f.resource, f.finding, f.fix) for f in rows], columns=COLUMNS, dtype=str)
    return out
