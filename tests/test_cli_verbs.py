"""The clusterdb CLI a platform engineer uses daily: every verb, global options on either side, outputs, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner

import clusterdb_nb as cdb
from clusterdb_nb.autoscaling import example_trace
from clusterdb_nb.cli import main

ECHO = "def handler(event, context):\n    print('got', event)\n    return {'echo': event}\n"


@pytest.fixture
def config(tmp_path, monkeypatch):
    path = tmp_path / "clusterdb.yaml"
    path.write_text(
        "compute:\n  default_provider: local\n  providers:\n    local:\n"
        f"      path: {tmp_path / 'state.db'}\n      clock: virtual\n"
    )
    monkeypatch.delenv("CLUSTERDB_CONFIG", raising=False)
    monkeypatch.delenv("CLUSTERDB_LOG", raising=False)
    return str(path)


def cli(*args, code=0, input=None):
    result = CliRunner().invoke(main, list(args), input=input)
    assert result.exit_code == code, (result.output, result.exception)
    return result


def test_version():
    assert cli("--version").output.strip() == f"clusterdb, version {cdb.__version__}"


def test_config_and_provider_before_or_after_the_verb(config):
    cli("--config", config, "fleets", "create", "web", "-t", "t3.micro", "-n", "2")
    before = cli("--config", config, "--provider", "local", "fleets", "list").output
    after = cli("fleets", "list", "--config", config, "--provider", "local").output
    middle = cli("fleets", "--config", config, "list", "-p", "local").output
    assert before == after == middle and "web" in before and "t3.micro" in before


def test_outputs_table_json_csv(config):
    cli("fleets", "create", "web", "-t", "t3.micro", "-n", "2", "-c", config)
    rows = json.loads(cli("fleets", "list", "-c", config, "-o", "json").output)
    assert rows[0]["name"] == "web" and rows[0]["capacity"] == 2
    csv = cli("instances", "list", "-c", config, "--output", "csv").output.splitlines()
    assert csv[0].startswith("id,fleet,provider") and len(csv) == 3
    assert "web" in cli("-o", "table", "fleets", "show", "web", "-c", config).output
    assert json.loads(cli("fleets", "list", "-c", config, "-o", "json", "-p", "aws").output) == []


def test_fleet_create_scale_delete_with_dry_runs(config):
    plan = cli("fleets", "create", "web", "-t", "t3.micro", "-n", "2", "--dry-run", "-c", config).output
    assert "Plan create_fleet web on local (nothing changed)" in plan
    assert json.loads(cli("fleets", "list", "-c", config, "-o", "json").output) == []
    cli("fleets", "create", "web", "-t", "t3.micro", "-n", "2", "--tag", "team=ops", "-c", config)
    plan = json.loads(cli("fleets", "scale", "web", "5", "--dry-run", "-o", "json", "-c", config).output)[0]
    assert plan["hourly_cost_delta_usd"] == pytest.approx(3 * cdb.catalog.lookup("t3.micro").on_demand_usd)
    shown = json.loads(cli("fleets", "scale", "web", "5", "-o", "json", "-c", config).output)[0]
    assert shown["capacity"] == 5 and shown["tags"] == {"team": "ops"}
    assert "terminate 5 instance(s)" in cli("fleets", "delete", "web", "--dry-run", "-c", config).output
    cli("fleets", "delete", "web", "-c", config, input="n\n", code=1)  # declined: nothing deleted
    cli("fleets", "delete", "web", "--yes", "-c", config)
    assert json.loads(cli("fleets", "list", "-c", config, "-o", "json").output) == []


def test_instances_create_list_stop_start_terminate(config):
    made = json.loads(cli("instances", "create", "bastion", "-t", "t3.micro", "-o", "json", "-c", config).output)[0]
    iid = made["id"]
    with cdb.connect(config) as s:
        s.local.advance("1min")
    listed = json.loads(cli("instances", "list", "--state", "running", "-o", "json", "-c", config).output)
    assert [i["id"] for i in listed] == [iid]
    assert "stop_instance" in cli("instances", "stop", iid, "--dry-run", "-c", config).output
    assert json.loads(cli("instances", "stop", iid, "-o", "json", "-c", config).output)[0]["state"] == "stopping"
    cli("instances", "start", iid, "-c", config, code=4)  # still stopping: a conflict
    assert json.loads(cli("instances", "terminate", iid, "-o", "json", "-c", config).output)[0]["state"] == "terminating"


def test_functions_deploy_invoke_logs_list(config, tmp_path):
    code = tmp_path / "fn.zip"
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("main.py", ECHO)
    assert "create_function" in cli("functions", "deploy", "echo", "--code", str(code), "--dry-run", "-c", config).output
    cli("functions", "deploy", "echo", "--code", str(code), "-c", config)
    again = json.loads(
        cli("functions", "deploy", "echo", "--code", str(code), "--memory", "256", "-o", "json", "-c", config).output
    )
    assert again[0]["version"] == 2 and again[0]["memory_mb"] == 256  # an existing function gets a new version
    inv = json.loads(cli("functions", "invoke", "echo", "--payload", '{"x": 1}', "-o", "json", "-c", config).output)[0]
    assert inv["status"] == "success" and json.loads(inv["result"]) == {"echo": {"x": 1}}
    assert "got {'x': 1}" in cli("functions", "logs", "echo", "-c", config).output
    assert "echo" in cli("functions", "list", "-c", config).output
    cli("functions", "invoke", "echo", "--payload", "{not json", "-c", config, code=2)


def test_costs_since_a_duration(config):
    cli("fleets", "create", "web", "-t", "t3.micro", "-n", "2", "-c", config)
    with cdb.connect(config) as s:
        s.local.advance("3h")
    rows = json.loads(cli("costs", "--by", "fleet", "--since", "2h", "-o", "json", "-c", config).output)
    assert rows[0]["fleet"] == "web" and rows[0]["running_hours"] == pytest.approx(4.0, rel=0.01)
    by_type = cli("costs", "--by", "instance_type", "-c", config).output
    assert "t3.micro" in by_type


def test_autoscaling_simulate_a_trace_from_the_shell(config):
    trace = str(example_trace())
    out = json.loads(cli("autoscaling", "simulate", trace, "--target", "60", "--provider", "gcp", "-o", "json").output)[0]
    assert out["provider"] == "gcp" and out["instance_hours"] > 0 and out["steps"] > 100
    aws = json.loads(cli("autoscaling", "simulate", trace, "--target", "60", "-o", "json").output)[0]
    assert aws["provider"] == "aws"


@pytest.mark.parametrize(
    ("args", "code", "first"),
    [
        (["fleets", "show", "nope"], 3, "NotFoundError:"),
        (["fleets", "create", "Bad_Name"], 2, "ValidationError: name:"),
        (["fleets", "scale", "web", "500"], 2, "ValidationError: [local/update_fleet_capacity] capacity:"),
        (["fleets", "create", "web", "-t", "t3.micro"], 4, "ConflictError:"),
    ],
)
def test_errors_print_the_three_line_box_and_exit_with_their_code(config, args, code, first):
    cli("fleets", "create", "web", "-t", "t3.micro", "-n", "1", "-c", config)
    result = CliRunner().invoke(main, [*args, "-c", config])
    assert result.exit_code == code
    lines = result.output.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith(first)
    assert lines[1].startswith("Cause: ") and lines[2].startswith("Solution: ")


def test_usage_errors_exit_2(config):
    assert cli("fleets", "scale", "web", "many", code=2)
    assert cli("fleets", "list", "-o", "yaml", code=2)


def test_the_installed_entry_point_prints_the_box_without_traceback(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from clusterdb_nb.cli import run; run()",
            "fleets",
            "show",
            "nope",
            "--config",
            str(tmp_path / "none.yaml"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr  # a missing config file is bad input


def test_debug_and_clusterdb_log_turn_on_logging(config, monkeypatch):
    import logging

    logger = logging.getLogger("clusterdb_nb")
    old = logger.level
    try:
        cli("--debug", "fleets", "list", "-c", config)
        assert logger.level == logging.DEBUG
        logger.setLevel(logging.WARNING)
        monkeypatch.setenv("CLUSTERDB_LOG", "info")
        cli("fleets", "list", "-c", config)
        assert logger.level == logging.INFO
        monkeypatch.setenv("CLUSTERDB_LOG", "loud")
        assert "CLUSTERDB_LOG" in cli("fleets", "list", "-c", config, code=2).output
    finally:
        logger.setLevel(old)
        for h in [h for h in logger.handlers if h.get_name() == "clusterdb_nb.cli"]:
            logger.removeHandler(h)


def test_help_documents_shell_completion():
    assert "_CLUSTERDB_COMPLETE=bash_source clusterdb" in cli("--help").output


def test_serve_refuses_0_0_0_0_without_a_token(config, monkeypatch):
    monkeypatch.delenv("CLUSTERDB_API_TOKEN", raising=False)
    out = cli("serve", "--host", "0.0.0.0", "-c", config, code=2).output
    assert out.startswith("ValidationError: --host:")


def test_invoke_reads_the_payload_from_stdin(config, tmp_path):
    code = tmp_path / "fn.zip"
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("main.py", ECHO)
    cli("functions", "deploy", "echo", "--code", str(code), "-c", config)
    inv = json.loads(cli("functions", "invoke", "echo", "--payload", "-", "-o", "json", "-c", config, input="[1, 2]").output)[0]
    assert json.loads(inv["result"]) == {"echo": [1, 2]}
