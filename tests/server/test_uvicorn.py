"""200 concurrent requests (reads and scale operations) through a real uvicorn on 127.0.0.1: all answered, state consistent."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest
import uvicorn

import clusterdb_nb as cdb
from clusterdb_nb.server.run import uvicorn_config

TOKEN = "load-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(monkeypatch, tmp_path):
    """A uvicorn serving a fresh local cloud on a free loopback port, in a thread; stopped after the test."""
    monkeypatch.setenv("CLUSTERDB_API_TOKEN", TOKEN)
    session = cdb.connect(local={"clock": "virtual", "seed": 5, "path": ":memory:"})
    session.create_fleet(cdb.FleetConfig("web", capacity=4, instance_type="t3.micro", max_capacity=20))
    port = free_port()
    config = uvicorn_config(session, port=port, folder=tmp_path, log_level="warning", limit_concurrency=400)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield session, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    session.close()
    assert not thread.is_alive()


def test_200_concurrent_mixed_requests_are_all_answered_and_state_stays_consistent(server):
    session, base = server
    capacities = [2 + (k % 9) for k in range(50)]  # 50 scale operations among 150 reads

    async def hammer() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as client:
            calls = []
            for k in range(200):
                if k % 4 == 0:
                    calls.append(client.put("/api/v1/fleets/web/capacity", json={"capacity": capacities[k // 4]}))
                elif k % 4 == 1:
                    calls.append(client.get("/api/v1/fleets/web"))
                elif k % 4 == 2:
                    calls.append(client.get("/api/v1/instances", params={"fleet": "web"}))
                else:
                    calls.append(client.get("/api/v1/fleets"))
            return await asyncio.gather(*calls)

    responses = asyncio.run(asyncio.wait_for(hammer(), timeout=120))
    assert len(responses) == 200
    assert [r.status_code for r in responses if r.status_code != 200] == []
    scaled = [r.json()["capacity"] for r in responses[::4]]
    assert scaled == capacities  # each scale answered with the capacity it set
    final = httpx.get(f"{base}/api/v1/fleets/web", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert final["capacity"] in capacities
    assert session.fleet("web").capacity == final["capacity"]
    active = session.instances(fleet="web", state=["pending", "running", "stopping", "stopped"])
    assert len(active) == final["capacity"]  # the fleet holds exactly its desired capacity
    events = session.scaling_activities("web")
    assert int(events["to_capacity"].iloc[-1]) == final["capacity"]
