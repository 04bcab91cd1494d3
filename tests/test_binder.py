"""Every runbook runs on Binder: what each notebook imports is installed by binder/requirements.txt."""

import ast
import json
import re
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest brings tomli
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "clusterdb-nb"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# what the session's widgets and charts import, beyond the notebooks' own import statements
USED_BY_EVERY_RUNBOOK = ["ipywidgets", "plotly", "ipykernel"]


def imported_modules(path: Path) -> set[str]:
    """Top-level names of the modules the notebook's code cells import (shell and magic lines skipped)."""
    found = set()
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "\n".join(ln for ln in "".join(cell["source"]).splitlines() if not ln.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"clusterdb_nb"}


def project_requirements(extras: set[str]) -> list[Requirement]:
    """The project's dependencies plus those of ``extras``, self-references (``clusterdb-nb[aws]``) expanded."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional = project["optional-dependencies"]
    out = [Requirement(r) for r in project["dependencies"]]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        assert extra in optional, f"binder asks for the extra {extra!r}, which pyproject.toml does not define"
        seen.add(extra)
        for req in map(Requirement, optional[extra]):
            if canonicalize_name(req.name) == PROJECT:
                todo += req.extras
            else:
                out.append(req)
    return out


def installed_closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution those requirements install (as installed here), by canonical name."""
    names: set[str] = set()
    todo = list(requirements)
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in names:
            continue
        names |= {name, key}
        try:
            requires = metadata.distribution(req.name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for dep in map(Requirement, requires):
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in (req.extras or {""})):
                todo.append(dep)
    return {n for n in names if "[" not in n}


def binder_extras() -> set[str]:
    lines = [ln.strip() for ln in (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    local = [ln for ln in lines if ln.startswith(".")]
    assert len(local) == 1, "binder/requirements.txt installs the project itself, once"
    match = re.fullmatch(r"\.(?:\[([\w,\- ]+)\])?", local[0])
    assert match, local[0]
    return {e.strip() for e in (match.group(1) or "").split(",") if e.strip()}


@cache
def _packages() -> dict[str, list[str]]:
    return metadata.packages_distributions()


def distributions_of(module: str) -> set[str]:
    return {canonicalize_name(d) for d in _packages().get(module, [module])}


@pytest.fixture(scope="module")
def binder_installs() -> set[str]:
    return installed_closure(project_requirements(binder_extras()))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_binder_installs_what_the_runbook_imports(path, binder_installs):
    missing = {m for m in imported_modules(path) | set(USED_BY_EVERY_RUNBOOK) if not distributions_of(m) & binder_installs}
    assert not missing, f"{path.name} imports {sorted(missing)}, which binder/requirements.txt does not install"


def test_the_check_sees_a_missing_extra():
    without_testing = installed_closure(project_requirements({"notebook", "aws"}))
    assert not distributions_of("moto") & without_testing
    assert "moto" in imported_modules(ROOT / "notebooks" / "06-aws-with-moto.ipynb")
