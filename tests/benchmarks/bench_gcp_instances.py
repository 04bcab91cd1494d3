"""Benchmark: ``s.instances()`` on Google Cloud over 1,000 managed instances, against ``fake_gcp()``.

Run from the repository root::

    python tests/benchmarks/bench_gcp_instances.py [--repeat 9] [--latency 0.2]

Both rows read the same fleet of 1,000 instances (a regional managed instance group spread over
4 zones) from the offline fake through google-cloud-compute's REST client:

* 1,000 instances -- ours: ``s.instances()`` (the session's loop thread, one
  ``instances.aggregatedList`` in a worker thread, the mapping to ``frames.INSTANCES``); baseline:
  a hand-written loop over the same ``InstancesClient.aggregated_list`` into a DataFrame of the
  same fields. Target: ours <= 1.2x the baseline.
* 4 zones with latency -- a section with ``zones`` set lists each zone's ``instances.list``
  concurrently; the fake sleeps ``--latency`` seconds in every call; the baseline is the slowest
  single zone's ``list``. Target: <= 1.5x.

Runs are interleaved (medians over ``--repeat``; the last column is the ratio of the fastest runs).
This is a script, not a test: it prints figures and never asserts on them.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

import pandas as pd  # noqa: E402
from google.auth.credentials import AnonymousCredentials  # noqa: E402
from google.cloud import compute_v1  # noqa: E402
from report import paired  # noqa: E402 - tests/benchmarks/report.py

import clusterdb_nb as cdb  # noqa: E402
from clusterdb_nb.testing import fake_gcp  # noqa: E402

SECTION = {"project_id": "demo", "credentials": "anonymous", "poll_seconds": 0.01}


def timed(fn: Callable[[], object], check: Callable[[object], bool]) -> Callable[[], float]:
    def run() -> float:
        t0 = time.perf_counter()
        out = fn()
        elapsed = time.perf_counter() - t0
        assert check(out)  # a check of the benchmark itself, not of its timing
        return elapsed

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per side (median reported; default 9)")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the fake sleeps per call in the second row")
    args = parser.parse_args(argv)
    n = 1000
    rows = []
    with fake_gcp() as cloud:
        cloud.set_quota("CPUS", 4 * n)
        s = cdb.connect(gcp=SECTION)
        s.create_fleet(cdb.FleetConfig("big", capacity=n, max_capacity=n, instance_type="e2-medium", provider="gcp"))
        cloud.advance("1min")
        client = compute_v1.InstancesClient(credentials=AnonymousCredentials(), transport="rest")

        def loop() -> pd.DataFrame:
            items = []
            for _, scoped in client.aggregated_list(project="demo"):
                for inst in scoped.instances:
                    items.append(
                        {
                            "id": inst.name,
                            "instance_type": inst.machine_type.rsplit("/", 1)[-1],
                            "state": inst.status,
                            "launched_at": inst.creation_timestamp,
                            "private_ip": inst.network_interfaces[0].network_i_p,
                            "labels": dict(inst.labels),
                        }
                    )
            df = pd.DataFrame(items)
            df["launched_at"] = pd.to_datetime(df["launched_at"], utc=True)
            return df

        ours_ms, base_ms, best = paired(
            timed(s.instances, lambda df: len(df) == n), timed(loop, lambda df: len(df) == n), args.repeat
        )
        rows.append((f"s.instances() over {n:,} managed instances", ours_ms, base_ms, best, "<= 1.2x"))

        s.close()
        cloud.latency = args.latency
        zoned = cdb.connect(gcp={**SECTION, "zones": list(cloud.zones)})  # one instances.list per zone, concurrently

        def slowest() -> float:
            times = []
            for zone in cloud.zones:
                t0 = time.perf_counter()
                list(client.list(project="demo", zone=zone))
                times.append(time.perf_counter() - t0)
            return max(times)

        ours_ms, base_ms, best = paired(timed(zoned.instances, lambda df: len(df) == n), slowest, max(3, args.repeat // 3))
        rows.append((f"4 zones listed concurrently, {args.latency:g} s latency per call", ours_ms, base_ms, best, "<= 1.5x"))
        zoned.close()

    print(f"clusterdb_nb {cdb.__version__}, pandas {pd.__version__}, Python {sys.version.split()[0]}")
    header = ("what", "ours (ms)", "baseline (ms)", "ratio", "target", "ratio of mins")
    table = [header] + [(w, f"{o:.1f}", f"{b:.1f}", f"{o / b:.2f}x", t, f"{m:.2f}x") for w, o, b, m, t in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for k, r in enumerate(table):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if k == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
