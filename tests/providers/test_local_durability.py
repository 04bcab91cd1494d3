"""The local cloud under concurrent writers and sudden death."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import clusterdb_nb as cdb


def check_consistent(s, fleet):
    """Desired capacity = active members; capacity changes chain; every instance's history matches its state."""
    capacity = s.fleet(fleet).capacity
    assert len(s.instances(fleet=fleet, state=["pending", "running", "stopping", "stopped"])) == capacity
    events = s.scaling_activities(fleet)
    assert (events["from_capacity"].iloc[1:].to_numpy() == events["to_capacity"].iloc[:-1].to_numpy()).all()
    assert events["to_capacity"].iloc[-1] == capacity
    history = s.local.history(fleet)
    last = history.groupby("instance_id")["state"].last()
    first = history.groupby("instance_id")["state"].first()
    now = s.instances(fleet=fleet, state="all").set_index("id")["state"]
    assert (first == "pending").all()
    assert (last.loc[now.index] == now).all()
    return events


def scale_from_threads(sessions, n_threads=8, per_thread=10):
    errors = []
    barrier = threading.Barrier(n_threads)

    def worker(k):
        rng = random.Random(k)
        barrier.wait()
        try:
            for _ in range(per_thread):
                sessions[k % len(sessions)].update_fleet_capacity("web", rng.randint(0, 30))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_eight_threads_scaling_one_fleet_through_one_session(s):
    s.create_fleet(cdb.FleetConfig("web", capacity=5))
    scale_from_threads([s])
    events = check_consistent(s, "web")
    assert 1 < len(events) <= 1 + 80


def test_eight_sessions_on_one_file_scaling_one_fleet(tmp_path):
    cfg = {"clock": "virtual", "seed": 1, "path": str(tmp_path / "shared.db")}
    sessions = [cdb.connect(local=cfg) for _ in range(8)]
    try:
        sessions[0].create_fleet(cdb.FleetConfig("web", capacity=5))
        scale_from_threads(sessions)
        for s in (sessions[0], sessions[-1]):
            check_consistent(s, "web")
    finally:
        for s in sessions:
            s.close()


CHILD = textwrap.dedent("""
    import sys
    import clusterdb_nb as cdb
    s = cdb.connect(local={"clock": "virtual", "path": sys.argv[1]})
    print("ready", flush=True)
    i = 0
    while True:
        s.create_fleet(cdb.FleetConfig(f"fleet-{i}", capacity=500, max_capacity=500, instance_type="t3.micro"))
        i += 1
""")


@pytest.mark.parametrize("seed", range(4))
def test_sigkill_while_creating_500_instance_fleets_leaves_all_or_nothing(tmp_path, seed):
    path = str(tmp_path / "state.db")
    child = subprocess.Popen([sys.executable, "-c", CHILD, path], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    time.sleep(0.2 + random.Random(seed).random() * 0.6)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    fleets = {name for (name,) in db.execute("SELECT name FROM fleets")}
    members = dict(db.execute("SELECT fleet, COUNT(*) FROM instances GROUP BY fleet").fetchall())
    assert fleets, "the child was killed before it created any fleet; raise the delay"
    assert set(members) == fleets and set(members.values()) == {500}
    recorded = dict(db.execute("SELECT fleet, COUNT(*) FROM transitions GROUP BY fleet").fetchall())
    assert recorded == members
    db.close()
    with cdb.connect(local={"clock": "virtual", "path": path}) as s:  # and it opens and works again
        assert len(s.fleets()) == len(fleets)
        s.create_fleet(cdb.FleetConfig("after", capacity=1))
