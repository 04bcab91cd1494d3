"""The package's layers point one way: no import cycles, and the generic layers never import a provider."""

from __future__ import annotations

import ast
from pathlib import Path

import clusterdb_nb

ROOT = Path(clusterdb_nb.__file__).parent
PACKAGE = "clusterdb_nb"
# None left: the widgets depend on a session protocol (ui.protocol.SessionAPI), not on session.py.
KNOWN_CYCLES: set[frozenset[str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The package modules ``path`` imports, including imports inside functions and ``TYPE_CHECKING`` blocks."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)  # `from . import x` imports module x
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    return {name: {m for m in imports_of(path) if m in modules and m != name} for name, path in modules.items()}


def collapse(name: str) -> str:
    """A subpackage counts as one node for the known-cycle list (``clusterdb_nb.ui.scaler`` -> ``clusterdb_nb.ui``)."""
    return "clusterdb_nb.ui" if name.startswith("clusterdb_nb.ui") else name


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def without_package_inits(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop edges into a package's own ``__init__`` from its submodules: ``from . import x`` names x, not a cycle."""
    return {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in edges.items()}


def test_the_import_graph_sees_the_packages_modules_and_a_cycle():
    edges = graph()
    assert "clusterdb_nb.models" in edges["clusterdb_nb.manager"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    unexpected = [c for c in cycles(without_package_inits(graph())) if frozenset(map(collapse, c)) not in KNOWN_CYCLES]
    assert unexpected == []


def test_generic_layers_do_not_import_providers():
    edges = graph()
    for generic in ("models", "config", "frames", "errors", "cloud_rules", "code_zip"):
        upward = sorted(m for m in edges[f"{PACKAGE}.{generic}"] if m.startswith(f"{PACKAGE}.providers"))
        assert upward == [], f"{generic}.py imports {upward}"


def test_session_uses_the_local_clouds_public_handle_only():
    upward = sorted(m for m in graph()[f"{PACKAGE}.session"] if m.startswith(f"{PACKAGE}.providers.local."))
    assert upward == []
