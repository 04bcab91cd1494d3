"""The session, its widgets and its figures point one way.

The widgets (``clusterdb_nb.ui``) call the session's public API only, described by ``ui.protocol.SessionAPI``;
they import nothing from ``session.py`` (nor the manager or the providers behind it), and the session builds
them by a lazy import, so ``import clusterdb_nb.session`` loads neither the widgets nor Plotly. Every figure
lives in ``plots.py``: nothing under ``autoscaling/`` imports Plotly, even for type hints.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from moto import mock_aws

import clusterdb_nb as cdb
from clusterdb_nb.session import ComputeSession
from clusterdb_nb.ui import Scaler
from clusterdb_nb.ui.protocol import SessionAPI

PACKAGE = Path(cdb.__file__).parent
ROOT = PACKAGE.parent
# What a widget may not import: the session and what stands behind it.
BEHIND_THE_SESSION = ("clusterdb_nb.session", "clusterdb_nb.manager", "clusterdb_nb.providers", "clusterdb_nb.waiting",
                      "clusterdb_nb.catalog")  # fmt: skip


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str, module: str) -> set[str]:
    """Every module ``source`` (the text of ``module``) imports: top level, in functions and under TYPE_CHECKING."""
    package = module.rpartition(".")[0] if not module.endswith("__init__") else module
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)  # `from .. import catalog` imports a module
    return found


def under(module: str, roots: tuple[str, ...]) -> bool:
    return any(module == r or module.startswith(r + ".") for r in roots)


def session_reaches(source: str) -> list[str]:
    """``session.manager`` and ``session._private`` (also on ``self.session``) used in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not (node.attr == "manager" or node.attr.startswith("_")):
            continue
        owner = node.value
        named = isinstance(owner, ast.Name) and owner.id == "session"
        held = isinstance(owner, ast.Attribute) and owner.attr == "session"
        if named or held:
            found.append(f"{ast.unparse(owner)}.{node.attr}")
    return found


def modules_under(folder: str) -> dict[str, str]:
    return {module_name(p): p.read_text() for p in sorted((PACKAGE / folder).rglob("*.py"))}


# -- the checks check --------------------------------------------------------------------------------------------
def test_the_import_reader_sees_relative_lazy_and_type_checking_imports():
    source = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..session import ComputeSession\n"
        "def f():\n    from .. import catalog\n    import plotly.graph_objects as go\n"
    )
    found = imports(source, "clusterdb_nb.ui.form")
    assert {"clusterdb_nb.session", "clusterdb_nb.catalog", "plotly.graph_objects"} <= found
    assert imports("from .tables import x", "clusterdb_nb.ui.form") >= {"clusterdb_nb.ui.tables"}
    assert session_reaches("def f(self, session):\n    self.session.manager.x; session._now(); self.session.fleets()") == [
        "self.session.manager",
        "session._now",
    ]


# -- one way: session -> ui, never back ------------------------------------------------------------------------
def test_importing_the_session_loads_no_widget_and_no_plotly():
    probe = "import json, sys\nimport clusterdb_nb.session\nprint(json.dumps(sorted(sys.modules)))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERDB_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "clusterdb_nb.session" in loaded  # the probe ran
    assert [m for m in loaded if under(m, ("clusterdb_nb.ui", "plotly", "ipywidgets"))] == []


def test_the_widgets_import_nothing_behind_the_session():
    found = {
        name: sorted(m for m in imports(src, name) if under(m, BEHIND_THE_SESSION)) for name, src in modules_under("ui").items()
    }
    assert "clusterdb_nb.ui.fleet_form" in found
    assert {name: hit for name, hit in found.items() if hit} == {}


def test_the_widgets_use_no_session_manager_and_no_private_session_attribute():
    found = {name: session_reaches(src) for name, src in modules_under("ui").items()}
    assert {name: hit for name, hit in found.items() if hit} == {}


def test_the_session_imports_widgets_and_figures_only_inside_the_methods_that_build_them():
    tree = ast.parse((PACKAGE / "session.py").read_text())
    module_level = [ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    loaded = set().union(*(imports(line, "clusterdb_nb.session") for line in module_level))
    assert "clusterdb_nb.manager" in loaded
    assert sorted(m for m in loaded if under(m, ("clusterdb_nb.ui", "clusterdb_nb.plots", "plotly"))) == []


def test_nothing_under_autoscaling_imports_plotly():
    found = {
        name: sorted(m for m in imports(src, name) if under(m, ("plotly",))) for name, src in modules_under("autoscaling").items()
    }
    assert "clusterdb_nb.autoscaling.simulate" in found
    assert {name: hit for name, hit in found.items() if hit} == {}


# -- the protocol is the session's public API ------------------------------------------------------------------
PROTOCOL_METHODS = sorted(n for n, v in vars(SessionAPI).items() if inspect.isfunction(v) and not n.startswith("_"))


@pytest.mark.parametrize("name", PROTOCOL_METHODS)
def test_each_protocol_method_is_a_public_session_method_with_the_same_parameters(name):
    wanted = inspect.signature(getattr(SessionAPI, name)).parameters
    have = inspect.signature(getattr(ComputeSession, name)).parameters
    assert [(p.name, p.kind, p.default) for p in have.values()] == [(p.name, p.kind, p.default) for p in wanted.values()]


def test_a_widget_works_on_any_object_with_the_protocols_methods(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=3, min_capacity=1, max_capacity=8))

    class OnlyThePublicApi:
        """A session reduced to the protocol's methods: no manager, nothing private."""

        def __getattr__(self, name: str):
            if name not in PROTOCOL_METHODS:
                raise AttributeError(f"a widget asked for {name!r}, which is not in SessionAPI")
            return getattr(s, name)

    scaler = Scaler(OnlyThePublicApi(), "web")  # type: ignore[arg-type]
    scaler.capacity.value = 5
    assert "3 → 5 instances" in scaler.delta.value
    scaler.apply.click()
    assert s.fleet("web").capacity == 5


# -- the small public methods the widgets needed ---------------------------------------------------------------
@pytest.fixture
def two_clouds(monkeypatch, tmp_path):
    """AWS (moto, fake credentials: nothing reaches the network) beside the local cloud, the default."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        session = cdb.connect(aws={"region": "eu-west-1"}, local={"clock": "virtual", "seed": 7, "path": ":memory:"})
        yield session
        session.close()


def test_fleet_defaults_say_what_a_new_fleet_gets_on_each_provider(two_clouds):
    d = two_clouds.fleet_defaults().set_index("provider")
    assert list(d.index) == ["aws", "local"] and d["default"].tolist() == [False, True]
    assert d.loc["aws", "region"] == "eu-west-1" and d.loc["aws", "kind"] == "aws"
    created = two_clouds.create_fleet(cdb.FleetConfig("plain"))  # what a fleet that says nothing gets
    assert (created.instance_type, created.capacity) == (d.loc["local", "instance_type"], d.loc["local", "capacity"])


def test_instance_types_are_priced_where_the_provider_runs(two_clouds):
    aws = two_clouds.instance_types("aws")
    assert set(aws["region"]) == {"eu-west-1"} and set(aws["provider"]) == {"aws"}
    assert aws["on_demand_usd"].is_monotonic_increasing
    m5 = aws.set_index("instance_type").loc["m5.large"]
    assert (
        m5["on_demand_usd"]
        == two_clouds.hourly_price("m5.large", provider="aws")
        == cdb.catalog.lookup("m5.large", "eu-west-1").on_demand_usd
    )
    local = two_clouds.instance_types()  # the default provider: the local cloud offers every cloud's types
    assert set(local["provider"]) == {"aws", "gcp", "azure"}
    assert two_clouds.hourly_price("m5.large") == cdb.catalog.lookup("m5.large").on_demand_usd


def test_hourly_price_names_a_type_not_sold_as_spot(s):
    assert s.hourly_price("Standard_B2s") == cdb.catalog.lookup("Standard_B2s").on_demand_usd
    with pytest.raises(cdb.ValidationError, match="Standard_B2s is not offered as spot") as err:
        s.hourly_price("Standard_B2s", spot=True)  # Azure sells no spot B-series
    assert err.value.field == "spot"
    with pytest.raises(cdb.ValidationError, match="provider: 'gcp' is not configured"):
        s.hourly_price("m5.large", provider="gcp")


def test_now_and_the_virtual_clock(s, two_clouds):
    assert s.now() == s.local.now
    s.local.advance("1h")
    assert s.now() == s.local.now
    assert s.on_virtual_clock() is True
    assert two_clouds.on_virtual_clock() is False  # aws runs on the wall clock
    s.create_fleet(cdb.FleetConfig("web", capacity=2))
    assert two_clouds.on_virtual_clock(s.instances()) is True  # only those instances' provider counts


def test_wait_reports_progress_to_a_callback(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=3))
    seen: list[tuple[int, int]] = []
    rows = s.wait("web", progress=False, on_progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 3) and seen[-1] == (3, 3) and (rows["state"] == "running").all()


def test_the_closed_session_refuses_the_new_methods(s):
    s.close()
    for call in (s.fleet_defaults, s.instance_types, s.on_virtual_clock, lambda: s.hourly_price("m5.large")):
        with pytest.raises(cdb.ConflictError, match="closed"):
            call()


def test_the_costs_tab_spans_the_sessions_own_clock(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=2))
    launched = s.now()
    s.local.advance("3h")
    d = s.dashboard()
    bars = pd.to_datetime(d.costs_chart.outputs[0]["data"]["application/vnd.plotly.v1+json"]["data"][0]["x"], utc=True)
    assert launched <= bars.min() and bars.max() <= s.now()  # the virtual clock's 3 hours, not the wall clock's day


def test_plots_and_display_import_none_of_the_modules_that_call_them():
    callers = ("clusterdb_nb.autoscaling", "clusterdb_nb.session", "clusterdb_nb.ui", "clusterdb_nb.manager")
    plots = imports((PACKAGE / "plots.py").read_text(), "clusterdb_nb.plots")
    assert "clusterdb_nb.models.AutoScalingConfig" in plots  # the reader saw its imports
    assert sorted(m for m in plots if under(m, callers)) == []
    display = imports((PACKAGE / "display.py").read_text(), "clusterdb_nb.display")
    assert sorted(m for m in display if under(m, (*callers, "clusterdb_nb.models", "clusterdb_nb.plots"))) == []
