"""Benchmark: ``s.recommendations()`` over 20 local fleets x 14 days, against reading the history it rests on.

Run from the repository root::

    python tests/benchmarks/bench_recommendations.py [--fleets 20] [--repeat 3]

What is compared, on a virtual local cloud with ``--fleets`` fleets of 2-6 instances (every fourth one
tagged interruptible, every third mostly idle) after 14 days of the local load model:

* ours     -- ``s.recommendations(window="14d")``: every rule (the tuner replays each fixed-size fleet);
* baseline -- only reading what the rules read: ``s.fleets()`` and each fleet's 5-minute utilization
  over the 14 days (``s.utilization``), the floor any recommender on this interface pays.

The ratio says what the rules cost on top of the reads. This is a script, not a test: it prints figures
and never asserts on timings.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

import pandas as pd  # noqa: E402
from report import paired, print_table  # noqa: E402

import clusterdb_nb as cdb  # noqa: E402


def estate(n: int) -> cdb.ComputeSession:
    s = cdb.connect(local={"clock": "virtual", "seed": 7, "path": ":memory:"})
    types = ["m5.xlarge", "t3.large", "c5.xlarge", "m5.large"]
    for k in range(n):
        tags = {"interruptible": "true"} if k % 4 == 0 else {}
        s.create_fleet(cdb.FleetConfig(f"fleet-{k}", capacity=2 + k % 5, instance_type=types[k % 4], tags=tags))
    s.local.advance("1min")
    for k in range(0, n, 3):
        index = pd.date_range(s.local.now, periods=14 * 24 * 12, freq="5min")
        s.local.attach_trace(f"fleet-{k}", pd.Series(8.0, index=index))
    s.local.advance("14D")
    return s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fleets", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    s = estate(args.fleets)
    window = (s.now() - pd.Timedelta("14D"), s.now())

    def ours() -> float:
        t = time.perf_counter()
        s.recommendations(window="14d")
        return time.perf_counter() - t

    def base() -> float:
        t = time.perf_counter()
        for name in s.fleets()["name"]:
            s.utilization(name, start=window[0], end=window[1], period="5min")
        return time.perf_counter() - t

    ours_ms, base_ms, ratio = paired(ours, base, args.repeat)
    found = s.recommendations(window="14d")
    print(f"{args.fleets} local fleets x 14 days; {len(found)} recommendations: {found['kind'].value_counts().to_dict()}")
    print_table(
        ("", "median ms", "per fleet ms"),
        [
            ("recommendations (ours)", f"{ours_ms:,.0f}", f"{ours_ms / args.fleets:,.0f}"),
            ("reading the history (baseline)", f"{base_ms:,.0f}", f"{base_ms / args.fleets:,.0f}"),
        ],
    )
    print(f"ratio of minimums (ours / baseline): {ratio:.1f}x")
    s.close()


if __name__ == "__main__":
    main()
