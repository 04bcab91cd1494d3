"""The package exports exactly its documented names, and every public module says what it exports."""

import importlib
import inspect
import pkgutil
import re
import types
from pathlib import Path

import clusterdb_nb as cdb

README = Path(__file__).resolve().parents[1] / "README.md"


def documented_names() -> set[str]:
    """The backticked names of the README's "The package's names" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## The package's names", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([A-Za-z_]\w*)`", section)) - {"__all__"}


def public_modules() -> list[str]:
    found = [cdb.__name__]
    for info in pkgutil.walk_packages(cdb.__path__, prefix=f"{cdb.__name__}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found.append(info.name)
    return found


def test_the_package_exports_exactly_its_all():
    namespace = {n for n, v in vars(cdb).items() if not n.startswith("_") and not isinstance(v, types.ModuleType)}
    assert sorted(cdb.__all__) == cdb.__all__
    assert namespace - set(cdb.__all__) == set(), "public but not in __all__"
    assert set(cdb.__all__) - namespace == set(), "in __all__ but not importable"


def test_the_readme_documents_exactly_the_exported_names():
    documented = documented_names()
    assert documented - set(cdb.__all__) == set(), "documented in README but not exported"
    assert set(cdb.__all__) - documented == set(), "exported but not documented in README"


def test_every_public_module_declares_all_and_it_covers_its_classes_and_functions():
    modules = public_modules()
    assert {"clusterdb_nb.session", "clusterdb_nb.providers.capabilities", "clusterdb_nb.ui.tuner"} <= set(modules)
    for name in modules:
        module = importlib.import_module(name)
        assert isinstance(getattr(module, "__all__", None), list), f"{name} has no __all__"
        missing = [n for n in module.__all__ if not hasattr(module, n)]
        assert missing == [], f"{name}.__all__ names what it does not define: {missing}"
        defined = {
            n
            for n, v in vars(module).items()
            if not n.startswith("_") and (inspect.isclass(v) or inspect.isfunction(v)) and v.__module__ == name
        }
        assert defined - set(module.__all__) == set(), f"{name} defines these but leaves them out of __all__"


def test_the_documented_names_are_read_from_the_readme_section_only():
    # a name missing from the section is noticed (the check can fail)
    assert "connect" in documented_names() and "plots" not in documented_names()
