"""Benchmark: ``tune`` on 30 days of 1-minute points x 1,000 policies, per cloud, vs the reference engine.

Run from the repository root::

    python tests/benchmarks/bench_autoscaling.py [--repeat 3] [--subset 10] [--providers aws gcp azure kubernetes]

What is compared, on the first 30 days of the shipped ``cpu_utilization_asg_misconfiguration``
trace (an Auto Scaling group's CPU, taken as 8 instances' worth; resampled to 43,200 one-minute
steps) and a grid of 1,000 policies (100 targets from 30 % to 90 % x 10 cooldowns from 0 to 600 s,
1-20 instances), for each of AWS, GCE, Azure and Kubernetes:

* ours     -- ``tune()`` end to end over the 1,000 policies (compiled engine, compiled summaries,
  SLO and table; median of ``--repeat``, after one untimed run that compiles and caches the kernels);
* baseline -- the reference engine (``simulate``'s, driven by ``run_reference``) and the numpy
  summary, policy by policy, timed on ``--subset`` policies spread over the grid and scaled to
  1,000; its runs are interleaved with ours so that background load hits both alike.

Targets: ours <= 2 s per cloud and >= 30x the baseline, <= 500 MB RSS. The subset's timelines are
checked equal both ways (a check of the benchmark itself). Wall and CPU time are both printed: on a
shared machine the CPU time is the steadier figure.

numpy alone (engines vectorized across policies, commit c762fa7), measured on the same 2-core machine
while it was busier (load average ~6): tune() 9.4 s (AWS), 13.8 s (GCE), 16.6 s (Azure), 18.1 s
(Kubernetes), of which about 5.9 s summaries; hence numba in the base install.

This is a script, not a test: it prints figures and never asserts on timings.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

import numpy as np  # noqa: E402

import clusterdb_nb as cdb  # noqa: E402
from clusterdb_nb.autoscaling import example_trace, load_trace, tune  # noqa: E402
from clusterdb_nb.autoscaling.engines import ENGINES, for_trace  # noqa: E402
from clusterdb_nb.autoscaling.fleet import DEFAULT_BOOT_SECONDS, Policies, run_reference  # noqa: E402
from clusterdb_nb.autoscaling.options import OPTIONS  # noqa: E402
from clusterdb_nb.autoscaling.summary import utilization  # noqa: E402

DAYS, STEP = 30, 60
TARGETS = np.linspace(30.0, 90.0, 100)
COOLDOWNS = [0, 60, 120, 180, 240, 300, 360, 420, 480, 600]
GRID = dict(targets=TARGETS, cooldowns=COOLDOWNS, min_capacity=1, max_capacity=20, price_per_hour=0.096, progress=False)


def grid() -> list[cdb.AutoScalingConfig]:
    return [
        cdb.AutoScalingConfig(min_capacity=1, max_capacity=20, target_cpu_utilization=float(t), cooldown_seconds=c)
        for t in TARGETS
        for c in COOLDOWNS
    ]


def reference_policy(provider: str, options, config, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """One policy the plain way: the reference engine, then its figures with numpy."""
    engine = ENGINES[provider].reference(config, options, STEP)
    capacity, serving, changes = run_reference(engine, demand, STEP, config.min_capacity, DEFAULT_BOOT_SECONDS)
    util = utilization(demand, serving)
    _ = (capacity.sum(), (util > config.target_cpu_utilization).sum(), (util >= 100).sum(), np.percentile(util, 95))
    return capacity, serving, len(changes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed tune() runs per cloud (median reported)")
    parser.add_argument("--subset", type=int, default=10, help="policies the reference engine is timed on, per cloud")
    parser.add_argument("--providers", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    args = parser.parse_args(argv)

    full = load_trace(example_trace("cpu_utilization_asg_misconfiguration"), "1min", observed_capacity=8)
    n = DAYS * 24 * 60
    trace = replace(full, time=full.time[:n], demand=full.demand[:n])
    configs = grid()
    picked = np.linspace(0, len(configs) - 1, args.subset).round().astype(int)
    print(
        f"clusterdb_nb {cdb.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}; "
        f"{n:,} one-minute steps ({DAYS} days) x {len(configs):,} policies per cloud"
    )
    rows = []
    for provider in args.providers:
        options = for_trace(OPTIONS[provider](), STEP, trace.sample_seconds)
        tune(trace, provider=provider, **GRID)  # compile and cache the kernels
        walls, cpus, spent, spent_cpu = [], [], 0.0, 0.0
        for chunk in np.array_split(picked, args.repeat):  # interleaved, so that machine load hits both alike
            w0, c0 = time.perf_counter(), time.process_time()
            tuned = tune(trace, provider=provider, **GRID)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
            for i in chunk:
                w0, c0 = time.perf_counter(), time.process_time()
                capacity, serving, changes = reference_policy(provider, options, configs[i], trace.demand)
                spent += time.perf_counter() - w0
                spent_cpu += time.process_time() - c0
                run = ENGINES[provider].simulate_many(
                    Policies.of([configs[i]]), options, trace.demand, STEP, DEFAULT_BOOT_SECONDS
                )
                assert np.array_equal(capacity, run.capacity[:, 0]) and np.array_equal(serving, run.serving[:, 0])
                assert changes == run.actions[0] == tuned.table["scaling_actions"].iloc[i]
        ours, ours_cpu = statistics.median(walls), statistics.median(cpus)
        baseline = spent / len(picked) * len(configs)
        baseline_cpu = spent_cpu / len(picked) * len(configs)
        rows.append(
            (
                ENGINES[provider].label,
                f"{ours:.2f} s",
                f"{ours_cpu:.2f} s",
                f"{baseline:.0f} s",
                f"{baseline / ours:.0f}x",
                f"{baseline_cpu / ours_cpu:.0f}x",
                f"target {tuned.recommended.target_cpu_utilization:.1f}%, {tuned.table['scaling_actions'].mean():,.0f} actions",
            )
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    header = ("cloud", "tune() wall", "tune() CPU", "reference", "speed-up", "in CPU", "recommends (mean actions/policy)")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(f"{c:<{w}}" if i in (0, 6) else f"{c:>{w}}" for i, (c, w) in enumerate(zip(r, widths))))
    print(f"targets: tune() <= 2 s and >= 30x per cloud; process max RSS {rss:.0f} MiB (target <= 500 MB)")


if __name__ == "__main__":
    main()
