"""Benchmark: the vectorized AWS engine on 30 days of 1-minute points x 1,000 policies vs the reference engine.

Run from the repository root::

    python tests/benchmarks/bench_autoscaling.py [--repeat 3] [--subset 20]

What is compared, on the first 30 days of the shipped ``cpu_utilization_asg_misconfiguration``
trace (an Auto Scaling group's CPU, taken as 8 instances' worth; 43,200 one-minute steps) and a
grid of 1,000 target tracking policies (100 targets from 30 % to 90 % x 10 warmups from 0 to 600 s,
1-20 instances):

* ours     -- ``engines.aws.simulate_many`` over all 1,000 policies at once (median of ``--repeat``);
* baseline -- the reference engine (``AwsTargetTracking`` driven by ``run_reference``), policy by
  policy, timed on ``--subset`` policies spread over the grid and scaled to 1,000; its runs are
  interleaved with ours so that background load hits both alike.

Targets: ours <= 2 s and >= 30x faster than the baseline. The subset's timelines are checked
equal both ways (a check of the benchmark itself). Also printed: the summaries (cost, SLO
minutes, p95) of the 1,000 policies, ``tune()`` end to end on the same grid, and peak memory
(tracemalloc, in a separate untimed run, plus the process's max RSS).

This is a script, not a test: it prints figures and never asserts on timings.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

import numpy as np  # noqa: E402

import clusterdb_nb as cdb  # noqa: E402
from clusterdb_nb.autoscaling import AwsOptions, example_trace, load_trace, tune  # noqa: E402
from clusterdb_nb.autoscaling.engines import aws  # noqa: E402
from clusterdb_nb.autoscaling.fleet import Policies, run_reference  # noqa: E402
from clusterdb_nb.autoscaling.summary import summarize  # noqa: E402

DAYS, STEP = 30, 60
TARGETS = np.linspace(30.0, 90.0, 100)
WARMUPS = [0, 60, 120, 180, 240, 300, 360, 420, 480, 600]


def grid() -> list[cdb.AutoScalingConfig]:
    return [
        cdb.AutoScalingConfig(min_capacity=1, max_capacity=20, target_cpu_utilization=float(t), cooldown_seconds=w)
        for t in TARGETS
        for w in WARMUPS
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the vectorized engine (median reported)")
    parser.add_argument("--subset", type=int, default=20, help="policies the reference engine is timed on")
    args = parser.parse_args(argv)

    trace = load_trace(example_trace("cpu_utilization_asg_misconfiguration"), observed_capacity=8)
    demand = trace.demand[: DAYS * 24 * 60]
    configs = grid()
    policies = Policies.of(configs)
    options = AwsOptions()

    aws.simulate_many(Policies.of(configs[:10]), options, demand[:1000], STEP)  # warm up
    picked = np.linspace(0, len(configs) - 1, args.subset).round().astype(int)
    times, cpu_times, spent, spent_cpu = [], [], 0.0, 0.0
    for chunk in np.array_split(picked, args.repeat):  # interleaved, so that machine load hits both alike
        w0, c0 = time.perf_counter(), time.process_time()
        run = aws.simulate_many(policies, options, demand, STEP)
        times.append(time.perf_counter() - w0)
        cpu_times.append(time.process_time() - c0)
        for i in chunk:
            engine = aws.AwsTargetTracking(configs[i], options)
            w0, c0 = time.perf_counter(), time.process_time()
            capacity, serving, changes = run_reference(engine, demand, STEP, int(policies.initial[i]))
            spent += time.perf_counter() - w0
            spent_cpu += time.process_time() - c0
            assert np.array_equal(capacity, run.capacity[:, i]) and np.array_equal(serving, run.serving[:, i])
            assert len(changes) == run.actions[i]
    ours, ours_cpu = statistics.median(times), statistics.median(cpu_times)
    baseline, baseline_cpu = spent / len(picked) * len(configs), spent_cpu / len(picked) * len(configs)

    t0 = time.perf_counter()
    summarize(run.capacity, run.serving, run.actions, demand, policies.target, STEP, 0.096)
    summaries = time.perf_counter() - t0
    t0 = time.perf_counter()
    tuned = tune(
        demand_trace(trace, demand), targets=TARGETS, cooldowns=WARMUPS, min_capacity=1, max_capacity=20, price_per_hour=0.096
    )
    tuning = time.perf_counter() - t0
    del run

    tracemalloc.start()
    aws.simulate_many(policies, options, demand, STEP)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    actions = tuned.table["scaling_actions"]
    print(
        f"clusterdb_nb {cdb.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}; "
        f"{len(demand):,} one-minute steps ({DAYS} days) x {len(configs):,} AWS target tracking policies "
        f"({actions.mean():,.0f} scaling actions per policy on average)"
    )
    rows = [
        (
            "vectorized engine, 1,000 policies at once",
            f"{ours:.2f} s",
            "<= 2 s",
            f"runs: {', '.join(f'{t:.2f}' for t in times)} s",
        ),
        (
            f"reference engine, policy by policy ({args.subset} timed, x{len(configs) // args.subset})",
            f"{baseline:.1f} s",
            "",
            f"{spent / len(picked) * 1000:.0f} ms per policy",
        ),
        (
            "speed-up (reference / vectorized)",
            f"{baseline / ours:.0f}x",
            ">= 30x",
            f"in CPU time {baseline_cpu / ours_cpu:.0f}x; timelines of the timed subset equal",
        ),
        ("summaries of the 1,000 policies (cost, SLO, p95)", f"{summaries:.2f} s", "", ""),
        (
            "tune() end to end on the same grid",
            f"{tuning:.2f} s",
            "",
            f"recommends target {tuned.recommended.target_cpu_utilization:.1f}%",
        ),
        ("peak memory of the vectorized run (tracemalloc)", f"{peak / 2**20:.0f} MiB", "", f"process max RSS {rss:.0f} MiB"),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(f"{c:<{w}}" if i in (0, 3) else f"{c:>{w}}" for i, (c, w) in enumerate(zip(r, widths))))


def demand_trace(trace, demand: np.ndarray):
    """``trace`` cut to ``demand``'s length (tune takes a Trace as it is)."""
    from dataclasses import replace

    return replace(trace, time=trace.time[: len(demand)], demand=demand)


if __name__ == "__main__":
    main()
