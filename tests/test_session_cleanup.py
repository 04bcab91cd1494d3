"""Sessions release everything: dropped without close() (garbage collection), closed, or at interpreter exit."""

import gc
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import clusterdb_nb as cdb

HANDLER = "def handler(event, context):\n    return {'ok': True}\n"


def children() -> set[int]:
    """This process's live child processes (zombies excluded)."""
    pids = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        pids |= {int(p) for p in (task / "children").read_text().split()}
    alive = set()
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z":
                alive.add(pid)
        except FileNotFoundError:
            pass
    return alive


def footprint() -> tuple[int, int, int, int]:
    """Threads, open file descriptors, child processes and function temp dirs of this process."""
    gc.collect()
    temp = len(list(Path(tempfile.gettempdir()).glob("clusterdb-functions-*")))
    return threading.active_count(), len(os.listdir("/proc/self/fd")), len(children()), temp


def use_and_drop(path: Path, k: int, code: Path | None) -> None:
    s = cdb.connect(local={"clock": "virtual", "path": str(path)})
    s.update_fleet_capacity("web", k % 3)
    assert len(s.fleets()) == 1
    if code is not None:
        s.invoke_function("fn")
    # no close(): the session goes out of scope here


def test_200_dropped_sessions_leave_threads_fds_children_and_temp_dirs_flat(tmp_path, monkeypatch):
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # only this test's function temp dirs are counted
    path = tmp_path / "state.db"
    code = tmp_path / "code"
    code.mkdir()
    (code / "main.py").write_text(HANDLER)
    with cdb.connect(local={"clock": "virtual", "path": str(path)}) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=1))
        s.create_function(cdb.FunctionConfig(name="fn", code=code))
    use_and_drop(path, 0, code)  # warm up imports and caches
    before = footprint()
    for k in range(200):
        use_and_drop(path, k, code if k % 20 == 0 else None)  # every 20th also runs a function worker
    assert footprint() == before


def test_closing_releases_the_loop_thread_and_the_state_file(tmp_path, monkeypatch):
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))  # other processes' function temp dirs don't count
    before = footprint()
    with cdb.connect(local={"clock": "virtual", "path": str(tmp_path / "state.db")}) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=1))
        assert footprint() != before
    assert s.closed and footprint() == before


def test_a_session_collected_on_its_own_loop_thread_still_closes(tmp_path):
    s = cdb.connect(local={"clock": "virtual", "path": str(tmp_path / "state.db")})
    s.fleets()
    finalizer = s._finalizer
    runner = s._runner

    async def drop_on_loop_thread():
        finalizer()  # what garbage collection on the loop thread does

    runner._loop.call_soon_threadsafe(lambda: runner._loop.create_task(drop_on_loop_thread()))
    for t in threading.enumerate():
        if t.name == "clusterdb-nb-loop" and t is runner._thread:
            t.join(timeout=10)
    assert not finalizer.alive and runner._thread is None


def test_sessions_left_open_are_closed_at_interpreter_exit(tmp_path):
    script = textwrap.dedent(f"""
        import clusterdb_nb as cdb
        s = cdb.connect(local={{"clock": "virtual", "path": {str(tmp_path / "state.db")!r}}})
        (code := __import__("pathlib").Path({str(tmp_path / "code")!r})).mkdir()
        (code / "main.py").write_text({HANDLER!r})
        s.create_function(cdb.FunctionConfig(name="fn", code=code))
        print(s.invoke_function("fn").status, flush=True)
    """)
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.glob("clusterdb-functions-*")) == []
    assert not (tmp_path / "state.db-wal").exists() or (tmp_path / "state.db-wal").stat().st_size == 0
