"""Resetting the local cloud: s.local.reset() asks first; `clusterdb local reset` too."""

import builtins

from click.testing import CliRunner

import clusterdb_nb as cdb
from clusterdb_nb.cli import main


def test_reset_asks_and_keeps_everything_on_no(web, monkeypatch, capsys):
    monkeypatch.setattr(builtins, "input", lambda prompt: "n")
    assert web.local.reset() is None
    assert "Nothing deleted" in capsys.readouterr().out
    assert len(web.fleets()) == 1


def test_reset_on_yes_deletes_every_fleet_and_rewinds_the_virtual_clock(web, monkeypatch):
    prompts = []
    monkeypatch.setattr(builtins, "input", lambda prompt: prompts.append(prompt) or "y")
    start = web.local.now - __import__("pandas").Timedelta("1min")
    assert web.local.reset() == {"fleets": 1, "instances": 5, "functions": 0, "invocations": 0}
    assert "local cloud state at :memory:: 1 fleets, 5 instances" in prompts[0]
    assert web.fleets().empty and web.instances(state="all").empty and web.local.history().empty
    assert web.local.now == start
    web.create_fleet(cdb.FleetConfig("web-fleet").with_capacity(2))  # the name is free again
    assert web.fleets()["capacity"].tolist() == [2]


def test_state_lives_in_clusterdb_home_and_survives_a_new_session(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERDB_HOME", str(tmp_path))
    with cdb.connect(local={"clock": "virtual"}) as s:
        assert s.local.path == str(tmp_path / "local.db")
        s.create_fleet(cdb.FleetConfig("kept").with_capacity(1))
    with cdb.connect(local={"clock": "virtual"}) as s:
        assert s.fleets()["name"].tolist() == ["kept"]
        s.local.reset(confirm=True)
    with cdb.connect(local={"clock": "virtual"}) as s:
        assert s.fleets().empty


def test_cli_reset_confirms_then_deletes(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERDB_HOME", str(tmp_path))
    monkeypatch.delenv("CLUSTERDB_CONFIG", raising=False)
    with cdb.connect() as s:
        s.create_fleet(cdb.FleetConfig("web").with_capacity(2))
    runner = CliRunner()
    assert runner.invoke(main, ["local", "path"]).output.strip() == str(tmp_path / "local.db")
    refused = runner.invoke(main, ["local", "reset"], input="n\n")
    assert refused.exit_code == 1 and "1 fleets, 2 instances" in refused.output and "Aborted" in refused.output
    done = runner.invoke(main, ["local", "reset"], input="y\n")
    assert done.exit_code == 0, done.output
    assert "Deleted 1 fleets, 2 instances, 0 functions, 0 invocations" in done.output
    with cdb.connect() as s:
        assert s.fleets().empty
