"""Every Python block of README.md, in order, as a newcomer pastes them: twice, each time in a fresh
process against the same temporary data folder, so the second run is a rerun over the first one's state."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)

# Runs the blocks like notebook cells (top-level await allowed) and prints, for every expression statement,
# what it showed: a DataFrame's rows, or the value's repr.
RUNNER = r"""
import ast, asyncio, inspect, json, sys
import pandas as pd

def shown(value):
    if isinstance(value, pd.DataFrame):
        head = value.head(30)
        data = {c: json.loads(head[c].to_json(orient="values", date_format="iso")) for c in value.columns}
        return {"rows": len(value), "columns": list(value.columns), "data": data}
    return {"repr": type(value).__name__}

ns, out = {}, []
for n, block in enumerate(json.load(open(sys.argv[1]))):
    for stmt in ast.parse(block).body:
        source = ast.get_source_segment(block, stmt)
        is_expr = isinstance(stmt, ast.Expr)
        tree = ast.Expression(stmt.value) if is_expr else ast.Module([stmt], [])
        code = compile(tree, f"<README block {n}>", "eval" if is_expr else "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        value = eval(code, ns)
        if inspect.iscoroutine(value):
            value = asyncio.run(value)
        if is_expr:
            out.append({"block": n, "source": source, **shown(value)})
print("\nRESULTS " + json.dumps(out, default=str))
"""


def python_blocks() -> list[str]:
    return BLOCK.findall((ROOT / "README.md").read_text())


def run_readme(tmp_path: Path) -> list[dict]:
    blocks = tmp_path / "blocks.json"
    blocks.write_text(json.dumps(python_blocks()))
    env = {k: v for k, v in os.environ.items() if k != "CLUSTERDB_CONFIG"}
    env.update(CLUSTERDB_HOME=str(tmp_path / "data"), PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(blocks)],
        input="y\n" * 5,  # the answers to s.local.reset()'s question
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.rpartition("RESULTS ")[2])


def shown(results: list[dict], source: str) -> dict:
    return next(r for r in results if r["source"] == source)


@pytest.mark.slow
def test_every_readme_block_runs_twice_in_a_fresh_process_and_shows_what_it_promises(tmp_path):
    assert len(python_blocks()) >= 5
    first = run_readme(tmp_path)
    second = run_readme(tmp_path)
    assert [r["source"] for r in first] == [r["source"] for r in second]

    fleets = shown(first, "s.fleets()")
    assert fleets["data"]["name"] == ["web-fleet"] and fleets["data"]["running"] == [5]
    utilization = shown(first, 's.utilization("web-fleet")')
    assert utilization["rows"] >= 24 and max(utilization["data"]["running"]) == 8
    costs = shown(first, 's.costs(by="instance_type")')
    assert costs["data"]["instance_type"] == ["t3.medium"] and costs["data"]["cost_usd"][0] > 0
    assert shown(first, "s.invocations()")["rows"] == 1
    schedules = shown(first, "s.schedules()")
    assert schedules["data"]["name"] == ["evenings", "mornings"] and schedules["data"]["capacity"] == [0, 4]
    # the quickstart is reproducible: a rerun shows the same tables
    for source in ("s.fleets()", 's.utilization("web-fleet")', 's.costs(by="instance_type")'):
        assert shown(first, source) == shown(second, source)
    # the reset block found and deleted what the first run left in the data folder
    assert (tmp_path / "data" / "local.db").exists()
