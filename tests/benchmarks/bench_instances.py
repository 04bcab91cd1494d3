"""Benchmark: a 1,000-instance fleet and ``s.instances()`` vs bare sqlite3 + pandas.

Run from the repository root::

    python tests/benchmarks/bench_instances.py [--repeat 7]

What is compared (medians over ``--repeat`` runs, ours and baseline interleaved, each on a fresh
database; the last column is the ratio of the fastest runs, the figure least disturbed by machine load):

* ours     -- ``s.create_fleet(FleetConfig("big", capacity=1000, ...))`` then
  ``s.instances()`` (the session is opened before the clock starts).
* baseline -- the same 1,000 rows (id, fleet, instance type, state, launched /
  state-since timestamps, private ip, tags JSON) inserted with one
  ``executemany`` in one transaction on a bare ``sqlite3`` connection, then
  ``SELECT`` ed back (same ORDER BY) into ``pd.DataFrame(rows, columns=...)``.
  The baseline does no validation, no state history, no timestamp or JSON
  decoding: it is the floor, and the ratio is the price of everything else.

Both run on ``":memory:"`` and on a file in a temp dir (WAL, synchronous=NORMAL,
as the local cloud's store uses). Then ``s.instances()`` over 10,000 instances
is timed against the bare select of the same 10,000 rows into pandas.

This is a script, not a test: it prints figures and never asserts on them.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

import pandas as pd  # noqa: E402
from report import paired, print_table  # noqa: E402 - tests/benchmarks/report.py, beside this script

import clusterdb_nb as cdb  # noqa: E402

START = 1_767_571_200.0  # 2026-01-05T00:00:00Z, the local cloud's default start
TAGS = {"team": "bench", "env": "perf"}
COLUMNS = ["id", "fleet", "instance_type", "state", "launched_at", "state_since", "private_ip", "tags"]
BARE_SCHEMA = """
CREATE TABLE instances(
    id TEXT PRIMARY KEY, fleet TEXT, instance_type TEXT NOT NULL, state TEXT NOT NULL,
    launched_at REAL NOT NULL, state_since REAL NOT NULL, private_ip TEXT NOT NULL, tags TEXT NOT NULL)
"""


# -- timing helpers ------------------------------------------------------------
# -- the baseline: bare sqlite3 + pandas ------------------------------------------
def bare_rows(n: int) -> list[tuple[Any, ...]]:
    tags = json.dumps(TAGS)
    return [
        (
            f"i-{k * 0x9E3779B97F4A7C15 % (1 << 68):017x}",
            "big",
            "t3.medium",
            "pending",
            START,
            START,
            f"10.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}",
            tags,
        )
        for k in range(n)
    ]


def bare_connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    if path != ":memory:":
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
    db.execute(BARE_SCHEMA)
    return db


def bare_insert(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT INTO instances VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.execute("COMMIT")


def bare_select(db: sqlite3.Connection) -> pd.DataFrame:
    rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM instances ORDER BY launched_at, id").fetchall()
    return pd.DataFrame(rows, columns=COLUMNS)


def bare_insert_select(path_factory: Callable[[], str], n: int) -> Callable[[], float]:
    def run() -> float:
        db = bare_connect(path_factory())
        rows = bare_rows(n)  # building the Python tuples is not timed: ours builds its own inside the call
        t0 = time.perf_counter()
        bare_insert(db, rows)
        df = bare_select(db)
        elapsed = time.perf_counter() - t0
        assert len(df) == n  # a correctness check of the benchmark itself, not of its timing
        db.close()
        return elapsed

    return run


# -- ours ---------------------------------------------------------------------------
def session(path: str) -> cdb.ComputeSession:
    return cdb.connect(local={"clock": "virtual", "seed": 7, "path": path})


def fleet_config(n: int) -> cdb.FleetConfig:
    return cdb.FleetConfig("big", capacity=n, instance_type="t3.medium", max_capacity=10_000, tags=TAGS)


def ours_create_list(path_factory: Callable[[], str], n: int) -> Callable[[], float]:
    def run() -> float:
        s = session(path_factory())
        s.instances()  # start the loop thread and warm the provider before the clock starts
        t0 = time.perf_counter()
        s.create_fleet(fleet_config(n))
        df = s.instances()
        elapsed = time.perf_counter() - t0
        assert len(df) == n
        s.close()
        return elapsed

    return run


# -- paths ----------------------------------------------------------------------------
class FreshFiles:
    """A new database file per call, in one temp dir removed at the end."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="cdb-bench-")
        self._n = 0

    def __call__(self) -> str:
        self._n += 1
        return os.path.join(self._dir.name, f"state-{self._n}.db")

    def cleanup(self) -> None:
        self._dir.cleanup()


def memory() -> str:
    return ":memory:"


# -- the report -----------------------------------------------------------------------
def row(what: str, ours: float, base: float, best: float, target: str) -> tuple[str, ...]:
    return what, f"{ours:.2f}", f"{base:.2f}", f"{ours / base:.2f}x", target, f"{best:.2f}x"


HEADER = ("what", "ours (ms)", "baseline (ms)", "ratio", "target", "ratio of mins")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per figure (median reported; default 7)")
    args = parser.parse_args(argv)
    n, big = 1000, 10_000
    files = FreshFiles()
    rows: list[tuple[str, ...]] = []
    try:
        for label, paths in ((":memory:", memory), ("file (WAL)", files)):
            ours, base, best = paired(ours_create_list(paths, n), bare_insert_select(paths, n), args.repeat)
            rows.append(row(f"create_fleet({n}) + instances(), {label}", ours, base, best, "<= 3x"))

        for label, paths in ((":memory:", memory), ("file (WAL)", files)):
            s = session(paths())
            s.create_fleet(fleet_config(big))
            assert len(s.instances()) == big
            db = bare_connect(paths())
            bare_insert(db, bare_rows(big))

            def ours_list(s: cdb.ComputeSession = s) -> float:
                t0 = time.perf_counter()
                s.instances()
                return time.perf_counter() - t0

            def bare_list(db: sqlite3.Connection = db) -> float:
                t0 = time.perf_counter()
                bare_select(db)
                return time.perf_counter() - t0

            ours, base, best = paired(ours_list, bare_list, args.repeat)
            rows.append(row(f"instances() over {big:,}, {label}", ours, base, best, "well < 1000 ms"))
            s.close()
            db.close()
    finally:
        files.cleanup()

    print(
        f"clusterdb_nb {cdb.__version__}, pandas {pd.__version__}, sqlite {sqlite3.sqlite_version}, "
        f"Python {sys.version.split()[0]}; median of {args.repeat} runs"
    )
    print_table(HEADER, rows)


if __name__ == "__main__":
    main()
