"""What ``import clusterdb_nb`` and a local session load.

Cloud SDKs are imported lazily inside their adapters, so ``import clusterdb_nb``
and a session on the local cloud never import boto3/botocore, google.* or
azure.*; the notebook UI libraries (plotly.graph_objects, ipywidgets) load only
when the UI is used. Each check runs in a fresh interpreter, since this test
process has long imported whatever other tests needed.

The probe can run one extra statement right after ``import clusterdb_nb``, as
if the package itself ran it; the self-checks use that to show a stray
``import boto3`` (or a UI import) would really make these tests fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
import clusterdb_nb
exec(sys.argv[1])  # the self-checks' stand-in for an import added to clusterdb_nb
after_import = sorted(sys.modules)
s = clusterdb_nb.connect(local={"path": ":memory:", "clock": "virtual"})
s.create_fleet(clusterdb_nb.FleetConfig("probe", capacity=3, instance_type="t3.medium"))
df = s.instances()
s.close()
print(json.dumps({"after_import": after_import, "after_session": sorted(sys.modules), "rows": len(df)}))
"""

UI_MODULES = ("plotly.graph_objects", "ipywidgets")


def cloud_sdks(modules: Iterable[str]) -> list[str]:
    """The cloud-SDK modules among ``modules``: boto3, botocore, google(.*), azure(.*)."""
    found = []
    for name in modules:
        top = name.partition(".")[0]
        if top in ("boto3", "botocore", "google", "azure"):
            found.append(name)
    return sorted(found)


def ui_modules(modules: Iterable[str]) -> list[str]:
    """The notebook-UI modules among ``modules`` (a UI module or any of its submodules)."""
    return sorted(m for m in modules if any(m == ui or m.startswith(ui + ".") for ui in UI_MODULES))


def probe(inject: str = "pass") -> dict[str, Any]:
    """Run PROBE in a fresh interpreter on this checkout; its module lists and row count."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERDB_")}  # no user config, no state dir
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    out = subprocess.run(
        [sys.executable, "-c", PROBE, inject], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, f"probe failed:\n{out.stderr}"
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture(scope="module")
def clean() -> dict[str, object]:
    return probe()


def test_probe_really_ran_a_local_session(clean: dict[str, object]) -> None:
    assert clean["rows"] == 3
    assert "clusterdb_nb" in clean["after_import"]
    assert "sqlite3" in clean["after_session"]


def test_import_and_local_session_load_no_cloud_sdk(clean: dict[str, object]) -> None:
    assert cloud_sdks(clean["after_session"]) == []


def test_import_loads_no_notebook_ui(clean: dict[str, object]) -> None:
    assert ui_modules(clean["after_import"]) == []


# -- the detection itself ------------------------------------------------------------
def test_detectors_match_the_sdk_and_ui_namespaces_only() -> None:
    names = [
        "boto3",
        "boto3.session",
        "botocore",
        "botocore.client",
        "google",
        "google.cloud.compute_v1",
        "google.auth",
        "azure",
        "azure.mgmt.compute",
        "azure.identity",
        "clusterdb_nb.providers.azure",
        "clusterdb_nb.providers.gcp",
        "googly",
        "azurelib",
        "boto3x",
        "plotly",
        "plotly.io",
        "plotly.graph_objects",
        "plotly.graph_objects._figure",
        "ipywidgets",
        "ipywidgets.widgets",
        "ipywidgetsx",
        "pandas",
    ]
    assert cloud_sdks(names) == [
        "azure",
        "azure.identity",
        "azure.mgmt.compute",
        "boto3",
        "boto3.session",
        "botocore",
        "botocore.client",
        "google",
        "google.auth",
        "google.cloud.compute_v1",
    ]
    assert ui_modules(names) == ["ipywidgets", "ipywidgets.widgets", "plotly.graph_objects", "plotly.graph_objects._figure"]


def test_a_stray_boto3_import_would_be_caught() -> None:
    found = cloud_sdks(probe("import boto3")["after_session"])
    assert "boto3" in found and "botocore" in found


@pytest.mark.parametrize("module", UI_MODULES)
def test_a_stray_ui_import_would_be_caught(module: str) -> None:
    assert module in ui_modules(probe(f"import {module}")["after_import"])
