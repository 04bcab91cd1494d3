"""The sdist and the wheel build, and the wheel carries the data the package reads and its licences."""

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source") / "clusterdb_nb"  # a copy: building writes build/ and *.egg-info
    junk = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "artifacts", "*.db*")
    shutil.copytree(ROOT, source, ignore=junk)
    # no isolation (no network): build with the setuptools installed here
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--sdist",
            "--wheel",
            "--no-isolation",
            "--skip-dependency-check",
            "--outdir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


@pytest.mark.slow
def test_the_wheel_carries_catalog_traces_their_licence_and_py_typed(dist):
    (wheel,) = dist.glob("clusterdb_nb-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in [
        "clusterdb_nb/py.typed",
        "clusterdb_nb/autoscaling/data/LICENSE-NAB.txt",
        "clusterdb_nb/autoscaling/data/README.md",
    ]:
        assert path in names
    for cloud in ("aws", "gcp", "azure"):
        assert f"clusterdb_nb/catalog/data/{cloud}.csv" in names
    traces = [n for n in names if n.startswith("clusterdb_nb/autoscaling/data/") and n.endswith(".csv")]
    assert len(traces) == len(list((ROOT / "clusterdb_nb/autoscaling/data").glob("*.csv"))) >= 3
    (licence,) = [n for n in names if ".dist-info/" in n and Path(n).name == "LICENSE"]
    text = zipfile.ZipFile(wheel).read(licence).decode()
    assert "Apache License" in text and "Numenta" in text and "LICENSE-NAB.txt" in text
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "Provides-Extra: testing" in metadata and "Apache-2.0" in metadata
    assert not [n for n in names if n.startswith("tests/") or "__pycache__" in n]


@pytest.mark.slow
def test_the_sdist_carries_the_licences_and_the_data(dist):
    (sdist,) = dist.glob("clusterdb[-_]nb-*.tar.gz")
    names = {n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n}
    assert {"LICENSE", "README.md", "pyproject.toml", "clusterdb_nb/py.typed", "clusterdb_nb/catalog/data/aws.csv"} <= names
