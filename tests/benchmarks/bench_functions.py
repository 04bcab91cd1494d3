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

import clusterdb_nb as cdb  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=200, help="warm invocations (and pipe round trips)")
    parser.add_argument("--cold", type=int, default=30, help="cold starts (and bare python spawns)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, cdb.connect(local={"clock": "virtual", "path": ":memory:"}) as s:
        Path(tmp, "main.py").write_text(ECHO)
        s.create_function(cdb.FunctionConfig(name="echo", code=tmp))
        assert s.invoke_function("echo", PAYLOAD).result == {"x": 1}

        warm = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            inv = s.invoke_function("echo", PAYLOAD)
            warm.append(time.perf_counter() - t)
            assert not inv.cold_start
        pipe = bare_pipe_round_trip(args.repeat)

        cold, init = [], []
        provider = s.manager.providers["local"]
        for _ in range(args.cold):
            s.local.advance("1h")
            provider.function_pool.reap()  # stop the idle worker now, outside the timing
            t = time.perf_counter()
            inv = s.invoke_function("echo", PAYLOAD)
            cold.append(time.perf_counter() - t)
            assert inv.cold_start and inv.init_ms is not None
            init.append(inv.init_ms / 1000)
        spawn = bare_spawn(args.cold)
        spawn_no_site = bare_spawn(args.cold, "-I", "-S")

    rows = [
        ("warm invoke p50", ms(warm), "pipe round trip", ms(pipe), "<= 5 ms"),
        ("cold start p50", ms(cold), "python -c pass", ms(spawn), "<= 150 ms"),
        ("  of which init_ms p50", ms(init), "python -c pass", ms(spawn), ""),
        ("cold start p50", ms(cold), "python -I -S -c pass", ms(spawn_no_site), "(the worker's own flags)"),
    ]
    print(f"{'what':<24}{'ours ms':>10}  {'baseline':<22}{'base ms':>9}{'ratio':>8}  target")
    for what, ours, base_name, base, target in rows:
        print(f"{what:<24}{ours:>10.2f}  {base_name:<22}{base:>9.2f}{ours / base:>8.2f}  {target}")
    print(f"\nwarm: {args.repeat} invocations; cold: {args.cold} starts (Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
