"""diagnose_network: findings (severity, resource, finding, fix) on the local cloud's modelled network, and the shared checks."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import clusterdb_nb as cdb
from clusterdb_nb.cli import main
from clusterdb_nb.network import COLUMNS, Finding, IngressRule, Severity, check_ports, frame, parse_ports, port_findings
from clusterdb_nb.providers.capabilities import Feature


def fix(p):
    return f"open {p}"


def test_port_findings_closed_open_world_and_group_only():
    rules = [
        IngressRule("g", "tcp", 22, 22, "0.0.0.0/0"),
        IngressRule("g", "tcp", 8000, 8080, "10.0.0.0/8"),
        IngressRule("g", "all", 0, 65535, "sg-self"),
    ]
    found = port_findings("sg g", rules[:2], [22, 443, 8080, 3389], fix_open=fix)
    assert [(str(f.severity), f.finding.split(" is ")[0]) for f in found] == [
        ("warning", "port 22 (SSH)"),
        ("critical", "port 443"),
        ("ok", "port 8080"),
        ("critical", "port 3389 (RDP)"),
    ]
    assert found[1].fix == "open 443" and "10.0.0.0/8" in found[2].finding
    only_group = port_findings("sg g", rules[2:], [443], fix_open=fix)[0]
    assert only_group.severity == Severity.INFO and "only from members of sg-self" in only_group.finding


def test_frame_sorts_critical_first_and_merges_repeats():
    rows = [
        Finding(Severity.OK, "a", "fine"),
        Finding(Severity.CRITICAL, "subnet-1", "no route", "add it"),
        Finding(Severity.CRITICAL, "subnet-2", "no route", "add it"),
    ]
    df = frame(rows)
    assert list(df.columns) == COLUMNS and list(df["severity"]) == ["critical", "ok"]
    assert df.iloc[0]["resource"] == "subnet-1, subnet-2"
    empty = frame([])
    assert list(empty.columns) == COLUMNS and len(empty) == 0


@pytest.mark.parametrize("bad", [[0], [70000], ["22"], [True], []])
def test_ports_are_checked(bad):
    with pytest.raises(cdb.ValidationError) as err:
        check_ports(bad)
    assert err.value.field == "ports"


def test_parse_ports():
    assert parse_ports("443, 22,22") == [22, 443]
    with pytest.raises(cdb.ValidationError):
        parse_ports("ssh")


def test_local_default_group_lets_nothing_in_until_a_rule_is_added(web):
    df = web.diagnose_network("web-fleet", ports=[22, 443])
    assert list(df.columns) == COLUMNS
    assert list(df["severity"]) == ["critical", "critical"]
    assert df.iloc[1]["resource"] == "security group default" and "port 443 is closed" in df.iloc[1]["finding"]
    assert df.iloc[1]["fix"].startswith("s.local.allow_ingress('default', 443")
    web.local.allow_ingress("default", 443, source="0.0.0.0/0")
    web.local.allow_ingress("default", 22, source="0.0.0.0/0")
    df = web.diagnose_network("web-fleet", ports=[22, 443]).set_index("finding")
    assert df.loc["port 443 is open from 0.0.0.0/0", "severity"] == "ok"
    world = df.loc["port 22 (SSH) is open to the whole internet (0.0.0.0/0)"]
    assert world["severity"] == "warning" and "revoke_ingress('default', 22" in world["fix"]
    web.local.revoke_ingress("default", 22, source="0.0.0.0/0")
    web.local.allow_ingress("default", 22, source="203.0.113.0/24")
    assert set(web.diagnose_network("web-fleet")["severity"]) == {"ok"}
    rules = web.local.security_groups()
    assert list(rules.columns) == ["group", "protocol", "ports", "source"] and len(rules) == 2


def test_a_fleet_naming_a_missing_group_and_no_running_instance(s):
    s.create_fleet(cdb.FleetConfig("api", capacity=1, instance_type="t3.micro", networking={"security_groups": ["api-sg"]}))
    df = s.diagnose_network("api", ports=[443])
    assert list(df["severity"]) == ["critical", "info"]
    assert df.iloc[0]["resource"] == "security group api-sg" and "does not exist" in df.iloc[0]["finding"]
    assert "no instance is running" in df.iloc[1]["finding"]
    s.local.set_security_group("api-sg", ingress=[{"ports": "440-450", "source": "10.0.0.0/8"}])
    s.local.advance("1min")
    assert list(s.diagnose_network("api", ports=[443])["severity"]) == ["ok"]


@pytest.mark.parametrize(
    "rule",
    [
        {"port": 0, "source": "0.0.0.0/0"},
        {"port": 22},
        {"port": 22, "source": "nowhere!"},
        {"port": 22, "ports": "1-2", "source": "a"},
    ],
)
def test_bad_security_group_rules_are_refused(s, rule):
    with pytest.raises(cdb.ValidationError) as err:
        s.local.set_security_group("web", ingress=[rule])
    assert err.value.field == "ingress"


def test_unknown_fleet_and_capability(s):
    with pytest.raises(cdb.NotFoundError):
        s.diagnose_network("nope")
    assert s.capabilities().loc[Feature.NETWORK_DIAGNOSIS.value, "local"] == "✓"


def test_cli_diagnose_network(tmp_path, monkeypatch):
    config = tmp_path / "c.yaml"
    config.write_text(f"compute:\n  providers:\n    local:\n      path: {tmp_path / 's.db'}\n      clock: virtual\n")
    with cdb.connect(str(config)) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=1, instance_type="t3.micro"))
        s.local.advance("1min")
    result = CliRunner().invoke(
        main, ["compute", "diagnose-network", "--fleet-id", "web", "--port", "443", "-c", str(config), "-o", "json"]
    )
    assert result.exit_code == 1  # a critical finding
    rows = json.loads(result.output)
    assert rows[0]["severity"] == "critical" and "443" in rows[0]["finding"]
    with cdb.connect(str(config)) as s:
        s.local.allow_ingress("default", 443, source="10.0.0.0/8")
    result = CliRunner().invoke(main, ["compute", "diagnose-network", "--fleet-id", "web", "--port", "443", "-c", str(config)])
    assert result.exit_code == 0 and "port 443 is open from 10.0.0.0/8" in result.output
    bad = CliRunner().invoke(main, ["compute", "diagnose-network", "--fleet-id", "web", "--port", "ssh", "-c", str(config)])
    assert bad.exit_code == 2 and bad.output.startswith("ValidationError: --port")
