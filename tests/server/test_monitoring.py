"""GET /metrics (Prometheus), GET /api/v1/sd/prometheus, and logging of provider calls and requests without secrets."""

from __future__ import annotations

import base64
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families
from secret_sentinel import SENTINEL

from clusterdb_nb import code_zip

V1 = "/api/v1"


def samples(text):
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value for fam in text_string_to_metric_families(text) for s in fam.samples
    }


@pytest.fixture
def busy(api, session):
    api.post(f"{V1}/fleets", json={"name": "web", "capacity": 3, "instance_type": "t3.medium"})
    session.local.advance("20min")
    api.put(f"{V1}/fleets/web/capacity", json={"capacity": 5})
    code = base64.b64encode(code_zip.zip_files({"main.py": "def handler(e, c):\n    return e\n"})).decode()
    api.post(f"{V1}/functions", json={"name": "echo", "code": code})
    api.post(f"{V1}/functions/echo/invoke", json={"a": 1})
    api.post(f"{V1}/functions/echo/invoke", json={"a": 2})
    return api


def test_metrics_carry_fleet_capacity_by_state_cpu_cost_and_functions(busy, session):
    r = busy.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    m = samples(r.text)
    fleet = (("fleet", "web"), ("provider", "local"))

    def at(name, *extra):
        return m[(name, tuple(sorted((*fleet, *extra))))]

    assert at("clusterdb_fleet_capacity", ("state", "desired")) == 5
    assert at("clusterdb_fleet_capacity", ("state", "running")) == 3
    assert at("clusterdb_fleet_capacity", ("state", "pending")) == 2
    assert 0 < at("clusterdb_fleet_cpu_percent") <= 100
    assert at("clusterdb_fleet_hourly_cost_usd") == pytest.approx(session.fleet("web").hourly_cost_usd)
    fn = (("function", "echo"), ("provider", "local"))
    assert m[("clusterdb_function_invocations_total", fn)] == 2
    assert m[("clusterdb_function_errors_total", fn)] == 0
    assert m[("clusterdb_function_duration_seconds_count", fn)] == 2
    ok = (("operation", "update_fleet_capacity"), ("outcome", "ok"), ("provider", "local"))
    assert m[("clusterdb_provider_calls_total", ok)] == 1
    assert (
        m[("clusterdb_provider_call_duration_seconds_count", (("operation", "update_fleet_capacity"), ("provider", "local")))]
        == 1
    )
    put = (("method", "PUT"), ("route", "/api/v1/fleets/{fleet}/capacity"), ("status", "200"))
    assert m[("clusterdb_api_requests_total", put)] == 1


def test_provider_errors_are_counted_by_error_class(api):
    api.get(f"{V1}/fleets/nope")
    m = samples(api.get("/metrics").text)
    key = ("clusterdb_provider_errors_total", (("error", "NotFoundError"), ("operation", "get_fleet"), ("provider", "local")))
    assert m[key] == 1
    assert m[("clusterdb_api_requests_total", (("method", "GET"), ("route", "/api/v1/fleets/{fleet}"), ("status", "404")))] == 1


def test_metrics_need_a_token(anon):
    assert anon.get("/metrics").status_code == 401


def test_service_discovery_lists_running_instances_as_targets(busy, session):
    groups = busy.get(f"{V1}/sd/prometheus", params={"port": 9100}).json()
    assert len(groups) == 1
    assert groups[0]["labels"] == {
        "provider": "local",
        "region": "local",
        "fleet": "web",
        "instance_type": "t3.medium",
        "spot": "false",
    }
    running = session.instances(fleet="web", state="running")
    assert sorted(groups[0]["targets"]) == sorted(f"{ip}:9100" for ip in running["private_ip"])
    assert busy.get(f"{V1}/sd/prometheus", params={"port": 0}).status_code == 400


def test_provider_calls_are_logged_with_operation_duration_and_outcome(api, caplog):
    with caplog.at_level(logging.DEBUG, logger="clusterdb_nb"):
        api.get(f"{V1}/fleets/nope")
        api.get(f"{V1}/fleets")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("provider call")]
    assert any(line.startswith("provider call local.get_fleet took ") and line.endswith("ms: NotFoundError") for line in lines)
    assert any(line.startswith("provider call local.list_fleets took ") and line.endswith("ms: ok") for line in lines)


def test_tokens_and_configured_secrets_never_reach_a_log_line(tmp_path, monkeypatch, capfd):
    """The CLI at --debug with AWS keys in the config, and the server with its token: nothing secret is logged."""
    from click.testing import CliRunner

    from clusterdb_nb.cli import main
    from clusterdb_nb.logs import configure_logging

    config = tmp_path / "c.yaml"
    config.write_text(
        "compute:\n  default_provider: local\n  providers:\n"
        f"    local:\n      path: {tmp_path / 's.db'}\n"
        f"    aws:\n      endpoint_url: http://127.0.0.1:9\n      max_attempts: 1\n"
        f"      credentials: {{access_key: AKIA{SENTINEL}, secret_key: {SENTINEL}}}\n"
    )
    logger = logging.getLogger("clusterdb_nb")
    old = logger.level
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(logging.Formatter("%(message)s").format(record))  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        result = CliRunner().invoke(main, ["--debug", "compute", "status", "-c", str(config)])
        assert "aws" in result.output  # the unreachable endpoint is reported, not raised
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
        for h in [h for h in logger.handlers if h.get_name() == "clusterdb_nb.cli"]:
            logger.removeHandler(h)
    configure_logging(None)
    captured = capfd.readouterr()
    text = "\n".join(records) + captured.err + captured.out + result.output
    assert records and "provider call" in text
    assert SENTINEL not in text


def test_the_api_token_is_not_logged(api, caplog, rw_token):
    with caplog.at_level(logging.DEBUG):
        api.get(f"{V1}/fleets")
        api.get(f"{V1}/fleets", headers={"Authorization": "Bearer wrong-token-0123456789"})
    assert rw_token not in caplog.text and "wrong-token-0123456789" not in caplog.text
