"""Benchmark: the REST API's overhead over the session call it wraps, and requests/second of a fleet lookup.

Run from the repository root::

    python tests/benchmarks/bench_api.py [--repeat 9] [--seconds 5]

What is compared (medians over ``--repeat`` runs, ours and baseline interleaved; the ratio is of the
fastest runs, the figure least disturbed by machine load):

* ours     -- ``GET /api/v1/instances?limit=1000`` over 1,000 local instances through FastAPI's
  in-process ``TestClient`` (routing, auth, the session call, JSON serialization of every row, the
  HTTP round trip in memory), the response body read. The client is opened once (``with``), as a
  server's event loop runs once: otherwise each request would also start a thread and a loop.
* baseline -- ``s.instances()``, the session call the endpoint wraps (target: ours <= 1.5x).

A second row times only what the endpoint adds on the server: the session call plus the JSON
serialization of its 1,000 rows (``server.app.frame_page``), against the same baseline; the gap
between the rows is the in-process HTTP round trip (TestClient: under 1 ms for an empty reply).

Then ``GET /api/v1/fleets/{id}`` is sent for ``--seconds`` through a real uvicorn on a free
127.0.0.1 port by 8 concurrent httpx clients: requests per second on this machine.

This is a script, not a test: it prints figures and never asserts on them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from report import paired, print_table  # noqa: E402 - tests/benchmarks/report.py, beside this script

import clusterdb_nb as cdb  # noqa: E402
from clusterdb_nb.server import ServerSettings, Tokens, create_app  # noqa: E402
from clusterdb_nb.server.app import frame_page  # noqa: E402
from clusterdb_nb.server.run import uvicorn_config  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def overhead(repeat: int) -> tuple[tuple[float, float, float], tuple[float, float, float], int]:
    s = cdb.connect(local={"clock": "virtual", "path": ":memory:"})
    s.create_fleet(cdb.FleetConfig("big", capacity=1000, instance_type="t3.medium", max_capacity=1000))
    s.local.advance("1min")
    client = TestClient(create_app(s, ServerSettings(tokens=Tokens(read_write=[TOKEN]))), headers=HEADERS)
    client.__enter__()
    size = 0

    def ours() -> float:
        nonlocal size
        t = time.perf_counter()
        r = client.get("/api/v1/instances", params={"limit": 1000})
        body = r.content
        elapsed = time.perf_counter() - t
        assert r.status_code == 200 and len(r.json()["items"]) == 1000
        size = len(body)
        return elapsed

    def base() -> float:
        t = time.perf_counter()
        df = s.instances()
        elapsed = time.perf_counter() - t
        assert len(df) == 1000
        return elapsed

    def served() -> float:
        t = time.perf_counter()
        body = frame_page(s.instances(), 1000, None).body
        elapsed = time.perf_counter() - t
        assert len(body) > 100_000
        return elapsed

    try:
        return paired(ours, base, repeat), paired(served, base, repeat), size
    finally:
        client.__exit__(None, None, None)
        s.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def throughput(seconds: float, clients: int = 8) -> tuple[float, int, int]:
    """Requests/second of GET /api/v1/fleets/{id} through uvicorn, and (answered, failed)."""
    os.environ["CLUSTERDB_API_TOKEN"] = TOKEN
    s = cdb.connect(local={"clock": "virtual", "path": ":memory:"})
    s.create_fleet(cdb.FleetConfig("web", capacity=5, instance_type="t3.medium"))
    port = free_port()
    server = uvicorn.Server(uvicorn_config(s, port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)

    async def load() -> tuple[int, int, float]:
        ok = failed = 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=HEADERS, timeout=30) as client:
            await client.get("/api/v1/fleets/web")
            start = time.perf_counter()
            stop = start + seconds

            async def worker() -> None:
                nonlocal ok, failed
                while time.perf_counter() < stop:
                    r = await client.get("/api/v1/fleets/web")
                    ok, failed = (ok + 1, failed) if r.status_code == 200 else (ok, failed + 1)

            await asyncio.gather(*(worker() for _ in range(clients)))
            return ok, failed, time.perf_counter() - start

    try:
        ok, failed, elapsed = asyncio.run(load())
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        s.close()
    return ok / elapsed, ok, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    (ours, base, ratio), (work, base2, ratio2), size = overhead(args.repeat)
    rows = [
        (f"GET /api/v1/instances (1,000 rows, {size / 1024:.0f} KiB) vs s.instances()", ours, base, ratio),
        ("  endpoint work (session call + JSON) vs s.instances()", work, base2, ratio2),
    ]
    print_table(
        ("what", "ours ms", "baseline ms", "ratio", "target"),
        [(what, f"{a:.1f}", f"{b:.1f}", f"{r:.2f}x", "<= 1.5x") for what, a, b, r in rows],
    )
    rps, ok, failed = throughput(args.seconds)
    print(
        f"\nGET /api/v1/fleets/{{id}} through uvicorn on 127.0.0.1, 8 concurrent clients, {args.seconds:g} s: "
        f"{rps:,.0f} requests/s ({ok:,} answered, {failed} failed)"
    )


if __name__ == "__main__":
    main()
