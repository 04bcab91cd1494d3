"""Benchmark: local function invocations, warm and cold, against bare process and pipe floors.

Run from the repository root::

    python tests/benchmarks/bench_functions.py [--repeat 200] [--cold 30]

What is measured (medians, p50, on an echo handler ``return event``, 128 MB):

* warm  -- ``s.invoke_function("echo", b'{"x": 1}')`` end to end through the
  session (loop thread, manager, SQLite bookkeeping, worker round trip),
  target <= 5 ms. Baseline: one round trip of the same payload over pipes to
  an already running bare Python child that echoes lines back -- the IPC floor.
* cold  -- the same call when no worker is warm (the virtual clock is moved
  past the idle timeout before each call, so the pool stops the old worker
  first, outside the timing): process start, handler import, invocation,
  target <= 150 ms. Baseline: ``python -c pass`` run to completion, the floor
  of starting any Python process on this machine. ``init_ms`` (what Lambda
  calls Init Duration) is shown too, and the cold start against
  ``python -I -S -c pass``: the worker skips ``site``'s ``.pth`` processing,
  so that is its true floor.

Both are measured twice where bubblewrap works: with workers in the sandbox
(the default) and as plain processes (the fallback), and the two compared.

* host peak RSS -- a fresh interpreter invokes a handler that returns a 1 GiB
  response (refused as over 6 MB), and one that prints 1 GiB of log lines
  (the invocation keeps a 4 KB tail): the host's peak RSS against the same
  interpreter invoking a 1-byte response. Target: a few tens of MB above it.

This is a script, not a test: it prints figures and never asserts on them.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

from report import print_table  # noqa: E402 - tests/benchmarks/report.py, beside this script

import clusterdb_nb as cdb  # noqa: E402
from clusterdb_nb.providers.local.functions import sandbox  # noqa: E402
from clusterdb_nb.providers.local.functions.pool import WorkerPool  # noqa: E402

ECHO = "def handler(event, context):\n    return event\n"
PAYLOAD = b'{"x": 1}'
CHILD_ECHO = "import sys\nfor line in sys.stdin:\n    sys.stdout.write(line)\n    sys.stdout.flush()\n"


def ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bare_spawn(repeat: int, *flags: str) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, *flags, "-c", "pass"], check=True)
        out.append(time.perf_counter() - t)
    return out


def bare_pipe_round_trip(repeat: int) -> list[float]:
    child = subprocess.Popen([sys.executable, "-c", CHILD_ECHO], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    assert child.stdin is not None and child.stdout is not None
    out = []
    line = PAYLOAD + b"\n"
    for _ in range(repeat):
        t = time.perf_counter()
        child.stdin.write(line)
        child.stdout.readline()
        out.append(time.perf_counter() - t)
    child.stdin.close()
    child.wait()
    return out


def latency(s: cdb.ComputeSession, repeat: int, cold_repeat: int) -> tuple[list[float], list[float], list[float]]:
    """Warm invocation, cold start and init_ms samples (seconds) of the session's "echo" function."""
    assert s.invoke_function("echo", PAYLOAD).result == {"x": 1}
    warm = []
    for _ in range(repeat):
        t = time.perf_counter()
        inv = s.invoke_function("echo", PAYLOAD)
        warm.append(time.perf_counter() - t)
        assert not inv.cold_start
    cold, init = [], []
    provider = s.manager.providers["local"]
    for _ in range(cold_repeat):
        s.local.advance("1h")
        provider.functions.function_pool.reap()  # stop the idle worker now, outside the timing
        t = time.perf_counter()
        inv = s.invoke_function("echo", PAYLOAD)
        cold.append(time.perf_counter() - t)
        assert inv.cold_start and inv.init_ms is not None
        init.append(inv.init_ms / 1000)
    return warm, cold, init


PEAK_RSS = """
import resource, sys, tempfile
from pathlib import Path
sys.path.insert(0, {root!r})
import clusterdb_nb as cdb
with tempfile.TemporaryDirectory() as tmp, cdb.connect(local={{"clock": "virtual", "path": ":memory:"}}) as s:
    Path(tmp, "main.py").write_text({source!r})
    s.create_function(cdb.FunctionConfig(name="fn", code=tmp, memory_mb=3008, timeout_sec=300))
    inv = s.invoke_function("fn", {{"n": {n}}})
    assert inv.status in ("success", "error"), inv
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, inv.status, inv.error and inv.error["errorType"])
"""
RESPONSE = "def handler(event, context):\n    return b'x' * event['n']\n"
PRINTS = """
import sys
def handler(event, context):
    line = "x" * 1023 + "\\n"
    for _ in range(event["n"] // 1024):
        sys.stdout.write(line)
    return "ok"
"""


def peak_rss_mb(source: str, n: int) -> float:
    """The host's peak RSS (MB) in a fresh interpreter that invokes ``source`` once with event ``{"n": n}``."""
    script = PEAK_RSS.format(root=str(Path(__file__).resolve().parents[2]), source=source, n=n)
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    return float(out.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=200, help="warm invocations (and pipe round trips)")
    parser.add_argument("--cold", type=int, default=30, help="cold starts (and bare python spawns)")
    parser.add_argument("--big", type=int, default=2**30, help="bytes of the huge response and of the huge log")
    args = parser.parse_args()

    box = sandbox.probe()
    samples = {}
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "main.py").write_text(ECHO)
        for mode in ("sandbox", "processes"):
            if mode == "sandbox" and not box.available:
                continue
            with cdb.connect(local={"clock": "virtual", "path": ":memory:"}) as s:
                provider = s.manager.providers["local"]
                if mode == "processes":
                    provider.functions._function_pool = WorkerPool(provider.clock.now, 300, sandboxed=False)
                s.create_function(cdb.FunctionConfig(name="echo", code=tmp))
                samples[mode] = latency(s, args.repeat, args.cold)
    pipe = bare_pipe_round_trip(args.repeat)
    spawn = bare_spawn(args.cold)
    spawn_no_site = bare_spawn(args.cold, "-I", "-S")
    baseline_rss = peak_rss_mb(RESPONSE, 1)
    response_rss = peak_rss_mb(RESPONSE, args.big)
    log_rss = peak_rss_mb(PRINTS, args.big)

    rows = []
    for mode, (warm, cold, init) in samples.items():
        rows += [
            (f"warm invoke p50 ({mode})", ms(warm), "pipe round trip", ms(pipe), "<= 5 ms"),
            (f"cold start p50 ({mode})", ms(cold), "python -c pass", ms(spawn), "<= 150 ms"),
            ("  of which init_ms p50", ms(init), "python -I -S -c pass", ms(spawn_no_site), ""),
        ]
    if "sandbox" in samples:
        rows += [
            ("warm p50, sandbox", ms(samples["sandbox"][0]), "warm p50, processes", ms(samples["processes"][0]), ""),
            ("cold p50, sandbox", ms(samples["sandbox"][1]), "cold p50, processes", ms(samples["processes"][1]), ""),
        ]
    big = f"{args.big / 2**20:,.0f} MB"
    rows += [
        (f"host peak RSS MB, {big} response", response_rss, "peak RSS MB, 1 B response", baseline_rss, "+ a few tens of MB"),
        (f"host peak RSS MB, {big} of prints", log_rss, "peak RSS MB, 1 B response", baseline_rss, "+ a few tens of MB"),
    ]
    print_table(
        ("what", "ours", "baseline", "base", "ratio", "target"),
        [
            (what, f"{ours:.2f}", base_name, f"{base:.2f}", f"{ours / base:.2f}", target)
            for what, ours, base_name, base, target in rows
        ],
    )
    where = f"workers in {box.reason}" if box.available else f"no sandbox here: {box.reason}"
    print(f"\nwarm: {args.repeat} invocations; cold: {args.cold} starts; {where} (Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
