"""Benchmark: the cost of ``import clusterdb_nb`` vs its notebook stack, and of ``connect()``.

Run from the repository root::

    python tests/benchmarks/bench_import.py [--repeat 7]

Every figure is the median of ``--repeat`` fresh interpreters (``sys.executable
-c ...``), each timing its own import with ``time.perf_counter`` (interpreter
start-up is not counted). Candidates are interleaved round by round so that
background load hits them alike, and each is run once untimed first.

Bytecode: the subprocesses write and read ``.pyc`` files under a private
``PYTHONPYCACHEPREFIX`` (a temp dir), even if ``PYTHONDONTWRITEBYTECODE`` is set
in this shell, so that ``clusterdb_nb`` (a source checkout) and the installed
libraries are both imported from cached bytecode, as on a user's machine. Pass
``--inherit-env`` to run with this shell's environment unchanged.

Rows:

* ``import clusterdb_nb`` vs ``import pandas, plotly, ipywidgets`` -- the target
  (<= 1.2x): the toolkit should cost no more than the notebook stack it sits on.
* the same vs each library alone -- for orientation (pandas is a hard
  dependency, so the pandas row shows the toolkit's own cost on top of it).
* ``connect()`` to the local cloud (":memory:" and a file) in a fresh process
  right after the import, vs a bare ``sqlite3.connect`` of the same target.

This is a script, not a test: it prints figures and never asserts on them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from report import print_table  # tests/benchmarks/report.py, beside this script

ROOT = Path(__file__).resolve().parents[2]

TIMED_IMPORT = "import time; t0 = time.perf_counter(); import {mod}; print(time.perf_counter() - t0)"

# connect(): one line of output each, "ours baseline" in seconds; the import is done before the clock starts.
TIMED_CONNECT = """
import os, sqlite3, sys, tempfile, time
import clusterdb_nb as cdb
where = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="cdb-bench-")
path = ":memory:" if where == "memory" else os.path.join(tmp, "state.db")
t0 = time.perf_counter()
s = cdb.connect(local={"clock": "virtual", "seed": 7, "path": path})
ours = time.perf_counter() - t0
s.close()
bare_path = ":memory:" if where == "memory" else os.path.join(tmp, "bare.db")
t0 = time.perf_counter()
db = sqlite3.connect(bare_path, isolation_level=None)
if where != "memory":
    db.execute("PRAGMA journal_mode = WAL")
base = time.perf_counter() - t0
db.close()
print(ours, base)
"""


def run_python(code: str, env: dict[str, str], *args: str) -> str:
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"subprocess failed ({code.strip().splitlines()[0]} ...):\n{out.stderr}")
    return out.stdout.strip().splitlines()[-1]


def subprocess_env(tmp: str, inherit: bool) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    if not inherit:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
    return env


def own_modules(env: dict[str, str], top: int = 6) -> list[tuple[float, float, str]]:
    """clusterdb_nb's own modules from ``-X importtime``: (self ms, cumulative ms, name), by self time."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import clusterdb_nb"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "self" in line:
            continue
        self_us, cum_us, name = line.removeprefix("import time:").split("|")
        if name.strip().startswith("clusterdb_nb"):
            rows.append((int(self_us) / 1000, int(cum_us) / 1000, name.strip()))
    return sorted(rows, reverse=True)[:top]


HEADER = ("what", "ours (ms)", "baseline (ms)", "ratio", "target")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="fresh interpreters per figure (median reported; default 7)")
    parser.add_argument(
        "--inherit-env", action="store_true", help="keep this shell's bytecode settings (see the module docstring)"
    )
    args = parser.parse_args(argv)

    stack = "pandas, plotly, ipywidgets"
    imports = ["clusterdb_nb", stack, "pandas", "plotly", "ipywidgets"]
    with tempfile.TemporaryDirectory(prefix="cdb-bench-import-") as tmp:
        env = subprocess_env(tmp, args.inherit_env)
        for mod in imports:  # warm-up: fills the bytecode cache and the OS file cache
            run_python(TIMED_IMPORT.format(mod=mod), env)
        for where in ("memory", "file"):
            run_python(TIMED_CONNECT, env, where)

        samples: dict[str, list[float]] = {mod: [] for mod in imports}
        connects: dict[str, list[tuple[float, float]]] = {"memory": [], "file": []}
        for _ in range(args.repeat):
            for mod in imports:
                samples[mod].append(float(run_python(TIMED_IMPORT.format(mod=mod), env)))
            for where in connects:
                ours_s, base_s = run_python(TIMED_CONNECT, env, where).split()
                connects[where].append((float(ours_s), float(base_s)))
        own = own_modules(env)

    ms = {mod: statistics.median(v) * 1000 for mod, v in samples.items()}
    ours = ms["clusterdb_nb"]
    rows: list[tuple[str, ...]] = []
    for mod, target in ((stack, "<= 1.2x"), ("pandas", "(info)"), ("plotly", "(info)"), ("ipywidgets", "(info)")):
        rows.append((f"import clusterdb_nb  vs  import {mod}", f"{ours:.1f}", f"{ms[mod]:.1f}", f"{ours / ms[mod]:.2f}x", target))
    for where, label in (
        ("memory", 'connect(local={"path": ":memory:"})  vs  sqlite3.connect'),
        ("file", "connect(local={path: file})  vs  sqlite3.connect + WAL"),
    ):
        o = statistics.median(x[0] for x in connects[where]) * 1000
        b = statistics.median(x[1] for x in connects[where]) * 1000
        rows.append((label, f"{o:.2f}", f"{b:.2f}", f"{o / b:.1f}x", "(info)"))

    bytecode = "inherited environment" if args.inherit_env else "cached bytecode (private PYTHONPYCACHEPREFIX)"
    print(f"Python {sys.version.split()[0]}; median of {args.repeat} fresh interpreters; {bytecode}")
    print_table(HEADER, rows)
    print("\nclusterdb_nb's own modules by import self time (one -X importtime run; ms self / cumulative):")
    for self_ms, cum_ms, name in own:
        print(f"  {self_ms:7.1f} {cum_ms:8.1f}  {name}")


if __name__ == "__main__":
    main()
