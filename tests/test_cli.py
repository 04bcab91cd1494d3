"""The clusterdb command."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

import clusterdb_nb as cdb
from clusterdb_nb.cli import main


@pytest.fixture
def config(tmp_path, monkeypatch):
    path = tmp_path / "clusterdb.yaml"
    path.write_text(f"compute:\n  default_provider: local\n  providers:\n    local:\n      path: {tmp_path / 'state.db'}\n")
    monkeypatch.setenv("CLUSTERDB_CONFIG", str(path))
    return path


def test_status_reports_each_provider(config):
    result = CliRunner().invoke(main, ["compute", "status", "--provider", "local"])
    assert result.exit_code == 0, result.output
    assert "local" in result.output and "True" in result.output and "wall clock" in result.output


def test_status_of_an_unconfigured_provider_is_a_usage_error(config):
    result = CliRunner().invoke(main, ["compute", "status", "--provider", "aws"])
    assert result.exit_code == 2 and "provider 'aws' is not configured; configured: local" in result.output


def test_fleets_lists_what_the_state_file_holds(config):
    with cdb.connect(str(config)) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=2, instance_type="m5.large"))
    result = CliRunner().invoke(main, ["compute", "--config", str(config), "fleets"])
    assert result.exit_code == 0, result.output
    assert "web" in result.output and "m5.large" in result.output


def test_compute_errors_print_the_short_table_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("compute:\n  default_provider: local\n  providers:\n    local:\n      clock: sideways\n")
    done = subprocess.run(
        [sys.executable, "-c", "from clusterdb_nb.cli import run; run()", "compute", "--config", str(bad), "status"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("ValidationError: compute.providers.local.clock:")
    assert "Solution: Correct the value (input should be" in done.stderr and "Traceback" not in done.stderr
