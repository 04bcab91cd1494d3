"""What readers see in the runbooks and the README: no test markers, no internal wording."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NBVAL_TAGS = ("nbval-ignore-output", "nbval-skip", "nbval-raises-exception")
INTERNAL = re.compile(r"\bthe seed'?s?\b|Compute Manager", re.I)


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_nbval_marker_shows_in_a_cell_and_ignored_outputs_are_tagged(path):
    code = [c for c in cells(path) if c["cell_type"] == "code"]
    assert not [c for c in code if "NBVAL" in "".join(c["source"])]
    for cell in code:
        tags = cell.get("metadata", {}).get("tags", [])
        assert not [t for t in tags if t.startswith("nbval") and t not in NBVAL_TAGS]


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if not p.name.startswith("03")], ids=lambda p: p.name)
def test_runbook_text_speaks_the_users_words(path):
    text = "\n".join("".join(c["source"]) for c in cells(path) if c["cell_type"] == "markdown")
    assert not INTERNAL.findall(text)


def test_readme_speaks_the_users_words():
    assert not INTERNAL.findall((ROOT / "README.md").read_text())
