"""The local function runtime as a sandbox: what a buggy handler cannot do to the session, its state or the host,
and what every invocation leaves behind (a record, a bill, no processes)."""

import asyncio
import gc
import os
import resource
import subprocess
import sys
import textwrap
import threading
import time
import uuid
import warnings

import pytest
from test_local_functions import COUNTER, code, create, host_pids, pid_alive, zip_of

import clusterdb_nb as cdb
from clusterdb_nb.providers.local.functions import pool as pool_module
from clusterdb_nb.providers.local.functions import sandbox

SANDBOX = sandbox.probe()
needs_sandbox = pytest.mark.skipif(
    not SANDBOX.available, reason=f"bubblewrap is not usable here ({SANDBOX.reason}); CI installs it"
)


def marked_processes(marker):
    """Host pids whose command line carries ``marker``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def wait_until(predicate, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


DAEMON = """
import os, subprocess, sys, time
def handler(event, context):
    marker = event["marker"]
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)", marker]
    quiet = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.Popen(sleeper, start_new_session=True, **quiet)
    if os.fork() == 0:  # a double fork: the grandchild is nobody's child
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, sleeper)
        os._exit(0)
    if event.get("hang"):
        time.sleep(60)
    return "started"
"""


# ----------------------------------------------------------------------------- every invocation is recorded


def test_a_cancelled_invocation_still_runs_to_its_end_and_is_recorded_and_billed(s, tmp_path):
    create(s, tmp_path, "import time\ndef handler(event, context):\n    time.sleep(1)\n    print('done')\n    return 'late'\n")

    async def impatient():
        await asyncio.wait_for(s.manager.invoke_function("fn", b"{}"), 0.3)

    with pytest.raises(asyncio.TimeoutError):
        s._run(impatient())
    assert wait_until(lambda: len(s.invocations("fn")) == 1)
    row = s.invocations("fn").iloc[0]
    assert row["status"] == "success" and row["duration_ms"] >= 1000 and row["logs"] == "done\n"
    assert s.costs(by="resource").query("kind == 'function'")["requests"].tolist() == [1]
    assert s.invoke_function("fn").result == "late"  # and its concurrency slot was given back


# ----------------------------------------------------------------------------- concurrency in the shared store


def test_reserved_concurrency_holds_across_sessions_on_one_state_file(tmp_path):
    path = str(tmp_path / "state.db")
    sessions = [cdb.connect(local={"clock": "wall", "path": path}) for _ in range(6)]
    try:
        create(
            sessions[0],
            tmp_path,
            "import time\ndef handler(event, context):\n    time.sleep(1.5)\n    return 1\n",
            reserved_concurrency=1,
        )
        outcomes = []

        def call(session):
            try:
                outcomes.append(session.invoke_function("fn").status)
            except cdb.QuotaExceededError:
                outcomes.append("throttled")

        threads = [threading.Thread(target=call, args=(session,)) for session in sessions]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["success"] + ["throttled"] * 5
        assert sessions[3].invoke_function("fn").status == "success"  # every slot was given back
    finally:
        for session in sessions:
            session.close()


def test_a_slot_left_by_a_process_that_died_is_freed(tmp_path):
    path = str(tmp_path / "state.db")
    with cdb.connect(local={"clock": "virtual", "path": path}) as s:
        create(s, tmp_path, COUNTER, reserved_concurrency=1)
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        with s.manager.providers["local"].store.transaction() as db:
            db.execute("INSERT INTO function_slots VALUES ('gone', 'fn', ?, 0)", (dead.pid,))
        assert s.invoke_function("fn").status == "success"


# ----------------------------------------------------------------------------- what a handler can see and do


@needs_sandbox
def test_a_handler_sees_no_host_process_environment_state_file_or_home(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERDB_SENTINEL_SECRET", "hunter2-sentinel")
    state = tmp_path / "state.db"
    with cdb.connect(local={"clock": "virtual", "path": str(state)}) as s:
        create(
            s,
            tmp_path,
            """
            import os, signal
            def handler(event, context):
                pids = [p for p in os.listdir("/proc") if p.isdigit()]
                environs = b""
                for p in pids:
                    try:
                        environs += open(f"/proc/{p}/environ", "rb").read()
                    except OSError:
                        pass
                try:
                    os.kill(event["notebook"], signal.SIGKILL)
                    killed = "killed"
                except OSError as exc:
                    killed = type(exc).__name__
                return {
                    "pids": len(pids),
                    "secret": b"hunter2-sentinel" in environs,
                    "state": os.path.exists(event["state"]),
                    "home": os.path.exists(event["home"]),
                    "killed": killed,
                    "task_root": os.getcwd(),
                }
            """,
        )
        home = os.path.expanduser("~/.bashrc") if os.path.exists(os.path.expanduser("~/.bashrc")) else str(tmp_path)
        seen = s.invoke_function("fn", {"state": str(state), "home": home, "notebook": os.getpid()}).result
        assert seen == {
            "pids": seen["pids"],
            "secret": False,
            "state": False,
            "home": False,
            "killed": "ProcessLookupError",
            "task_root": "/var/task",
        }
        assert seen["pids"] <= 3  # the sandbox's init, the worker (and nothing of the host)
        (status,) = s._run(s.manager.status())
        assert status.facts["function_runtime"] == f"sandboxed ({SANDBOX.reason})"
        assert "functions run" not in s.status()["detail"].iloc[0]  # only the fallback is worth a line


@needs_sandbox
def test_code_is_read_only_and_tmp_is_private_to_a_worker(s, tmp_path):
    source = """
    import os
    def handler(event, context):
        if event.get("tamper"):
            for path in (__file__, "/tmp/left-behind"):
                try:
                    with open(path, "a") as f:
                        f.write("\\nraise SystemExit('tampered')\\n")
                except OSError as exc:
                    print(path, type(exc).__name__)
        return os.path.exists("/tmp/left-behind")
    """
    folder = code(tmp_path, source)
    s.create_function(cdb.FunctionConfig(name="a", code=folder))
    s.create_function(cdb.FunctionConfig(name="b", code=folder))  # the same code, so the same sha256
    tampering = s.invoke_function("a", {"tamper": True})
    assert "main.py OSError" in tampering.logs or "main.py PermissionError" in tampering.logs
    assert s.invoke_function("b").result is False  # b neither runs a's changes nor sees a's /tmp
    s.update_function(cdb.FunctionConfig(name="a", memory_mb=256))
    assert s.invoke_function("a").result is False  # a new worker: a fresh /tmp


def test_each_function_version_runs_its_own_copy_of_the_code(tmp_path):
    """Without the sandbox too: a handler that rewrites its code changes only its own version's copy."""
    with cdb.connect(local={"clock": "virtual", "path": ":memory:"}) as s:
        provider = s.manager.providers["local"]
        provider.functions._function_pool = pool_module.WorkerPool(provider.clock.now, 300, sandboxed=False)
        source = """
        import os, stat
        def handler(event, context):
            if event.get("tamper"):
                os.chmod(__file__, stat.S_IRUSR | stat.S_IWUSR)
                with open(__file__, "a") as f:
                    f.write("\\ndef handler(event, context):\\n    return 'tampered'\\n")
            return "original"
        """
        folder = code(tmp_path, source)
        s.create_function(cdb.FunctionConfig(name="a", code=folder))
        s.create_function(cdb.FunctionConfig(name="b", code=folder))
        s.invoke_function("a", {"tamper": True})
        assert s.invoke_function("b").result == "original"


# ----------------------------------------------------------------------------- limits count the whole tree


@needs_sandbox
def test_a_fork_bomb_is_stopped_at_1024_processes_and_threads(s, tmp_path):
    marker = f"clusterdb-bomb-{uuid.uuid4().hex}"
    create(
        s,
        tmp_path,
        f"""
        import os, time
        def handler(event, context):
            for _ in range(1500):
                if os.fork() == 0:
                    os.execv("/bin/sleep", ["/bin/sleep", "60", "{marker}"])
            time.sleep(30)
            return "all forked"
        """,
        memory_mb=1024,
        timeout_sec=60,
    )
    inv = s.invoke_function("fn")
    assert inv.status == "error" and "1024 processes and threads" in inv.error["errorMessage"]
    assert wait_until(lambda: not marked_processes(marker))
    assert host_pids(s) == []


@needs_sandbox
def test_threads_count_toward_the_1024_limit(s, tmp_path):
    create(
        s,
        tmp_path,
        """
        import threading, time
        threading.stack_size(256 * 1024)
        def handler(event, context):
            for _ in range(1500):
                threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
            time.sleep(30)
            return "started"
        """,
        memory_mb=2048,
        timeout_sec=60,
    )
    inv = s.invoke_function("fn")
    assert inv.status == "error" and "1024 processes and threads" in inv.error["errorMessage"]


@needs_sandbox
def test_memory_is_counted_over_the_handlers_child_processes(s, tmp_path):
    create(
        s,
        tmp_path,
        """
        import subprocess, sys
        GROW = "import time; data = bytearray(100 * 2**20); data[::4096] = b'x' * len(data[::4096]); time.sleep(20)"
        def handler(event, context):
            children = [subprocess.Popen([sys.executable, "-c", GROW]) for _ in range(4)]
            for child in children:
                child.wait()
            return "done"
        """,
        memory_mb=128,
        timeout_sec=30,
    )
    inv = s.invoke_function("fn")
    assert inv.status == "out_of_memory" and inv.error["errorType"] == "Runtime.OutOfMemory"
    assert inv.memory_used_mb > 128 and inv.duration_ms < 20_000


@needs_sandbox
@pytest.mark.parametrize("how", ["timeout", "delete_function", "close"])
def test_nothing_a_handler_started_outlives_its_worker(tmp_path, how):
    marker = f"clusterdb-daemon-{uuid.uuid4().hex}"
    s = cdb.connect(local={"clock": "virtual", "path": ":memory:"})
    try:
        create(s, tmp_path, DAEMON, timeout_sec=3)
        invocations = []
        call = threading.Thread(
            target=lambda: invocations.append(s.invoke_function("fn", {"marker": marker, "hang": how == "timeout"}))
        )
        call.start()
        assert wait_until(lambda: len(marked_processes(marker)) == 2)
        call.join()
        if how == "timeout":
            assert invocations[0].status == "timeout"
        elif how == "delete_function":
            s.delete_function("fn")
        else:
            s.close()
        assert wait_until(lambda: not marked_processes(marker))
    finally:
        s.close()


def test_without_the_sandbox_a_child_in_its_own_session_still_dies_with_the_worker(tmp_path):
    marker = f"clusterdb-daemon-{uuid.uuid4().hex}"
    with cdb.connect(local={"clock": "virtual", "path": ":memory:"}) as s:
        provider = s.manager.providers["local"]
        provider.functions._function_pool = pool_module.WorkerPool(provider.clock.now, 300, sandboxed=False)
        create(
            s,
            tmp_path,
            """
            import subprocess, sys
            def handler(event, context):
                sleeper = [sys.executable, "-c", "import time; time.sleep(120)", event["marker"]]
                subprocess.Popen(sleeper, start_new_session=True)
                return "started"
            """,
        )
        assert s.invoke_function("fn", {"marker": marker}).result == "started"
        assert wait_until(lambda: len(marked_processes(marker)) == 1)
        s.delete_function("fn")
        assert wait_until(lambda: not marked_processes(marker))


@needs_sandbox
def test_nothing_outlives_an_interpreter_that_exits_without_close(tmp_path):
    marker = f"clusterdb-daemon-{uuid.uuid4().hex}"
    folder = code(tmp_path, DAEMON)
    script = textwrap.dedent(
        f"""
        import os, clusterdb_nb as cdb
        s = cdb.connect(local={{"clock": "virtual", "path": ":memory:"}})
        s.create_function(cdb.FunctionConfig(name="fn", code={str(folder)!r}))
        s.invoke_function("fn", {{"marker": {marker!r}}})
        print(s.manager.providers["local"].functions.function_pool._root)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    root = done.stdout.strip().splitlines()[-1]
    assert wait_until(lambda: not marked_processes(marker)) and not os.path.exists(root)


# ----------------------------------------------------------------------------- capped reads


def _peak_rss_growth_mb(run):
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024


def test_a_huge_response_is_refused_without_the_host_holding_it(s, tmp_path):
    create(s, tmp_path, "def handler(event, context):\n    return b'x' * (512 * 2**20)\n", memory_mb=3008, timeout_sec=60)
    s.invoke_function("fn", {})  # warm up the session's own allocations
    invocations = []
    growth = _peak_rss_growth_mb(lambda: invocations.append(s.invoke_function("fn")))
    inv = invocations[0]
    assert inv.status == "error" and inv.error["errorType"] == "Function.ResponseSizeTooLarge"
    assert growth < 40


def test_huge_logs_keep_a_4_kb_tail_with_a_marker_and_the_host_holds_none_of_the_rest(s, tmp_path):
    create(
        s,
        tmp_path,
        """
        import sys
        def handler(event, context):
            line = "x" * 1023 + "\\n"
            for _ in range(event["kb"]):
                sys.stdout.write(line)
            print("the end")
            return "ok"
        """,
        timeout_sec=120,
    )
    small = s.invoke_function("fn", {"kb": 1})
    assert small.logs == "x" * 1023 + "\nthe end\n"
    invocations = []
    growth = _peak_rss_growth_mb(lambda: invocations.append(s.invoke_function("fn", {"kb": 256 * 1024})))
    inv = invocations[0]
    assert inv.status == "success" and inv.logs.endswith("x\nthe end\n")
    assert inv.logs.startswith("[... ") and "earlier bytes of log output truncated ...]\n" in inv.logs
    assert len(inv.logs.encode()) < 4096 + 100
    assert s.invocations("fn")["logs"].iloc[-1] == inv.logs
    assert growth < 40


# ----------------------------------------------------------------------------- the response pipe

FORGER = """
import json, os, stat, struct
def handler(event, context):
    if event["kind"] == "none":
        return event["n"]
    for fd in range(3, 64):
        try:
            if not stat.S_ISFIFO(os.fstat(fd).st_mode) or os.get_blocking(fd) is None:
                continue
            if event["kind"] == "garbage":
                os.write(fd, b"garbage that is not a frame")
            else:
                header = json.dumps({"id": context.aws_request_id, "status": "success", "error": None,
                                     "duration_ms": 1.0, "memory_used_mb": 1}).encode()
                os.write(fd, b"CDBF" + struct.pack("!II", len(header), 7) + header + b'"stale"')
        except OSError:
            pass
    return event["n"]
"""


@pytest.mark.parametrize("kind", ["garbage", "forged"])
def test_a_handler_writing_to_the_response_pipe_fails_that_invocation_and_never_the_next(s, tmp_path, kind):
    create(s, tmp_path, FORGER)
    assert s.invoke_function("fn", {"kind": "none", "n": 0}).result == 0
    bad = s.invoke_function("fn", {"kind": kind, "n": 1})
    assert bad.status == "error" and bad.error["errorType"] == "Runtime.InvalidResponse"
    assert "the worker was stopped" in bad.error["errorMessage"] and host_pids(s) == []
    following = s.invoke_function("fn", {"kind": "none", "n": 2})
    assert following.result == 2 and following.cold_start


# ----------------------------------------------------------------------------- zips that cannot be extracted


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"lib": "a file", "lib/mod.py": "x = 1"}, "both a file and a directory"),
        ({"lib/mod.py": "x = 1", "lib": "a file"}, "both a file and a directory"),
        ({"d" * 300 + ".py": "x = 1"}, "name too long"),
        ({"/".join(["d" * 200] * 25) + "/m.py": "x = 1"}, "name too long"),
    ],
    ids=["file-then-dir", "dir-then-file", "long-name", "long-path"],
)
def test_zips_that_cannot_be_extracted_are_refused_when_the_config_is_built(entries, message):
    with pytest.raises(cdb.ValidationError, match=message) as caught:
        cdb.FunctionConfig(name="fn", code=zip_of({"main.py": "def handler(e, c): return 1", **entries}))
    assert caught.value.field == "code"


def test_a_directory_entry_with_files_below_it_is_fine(s):
    data = zip_of({"lib/": "", "lib/mod.py": "X = 41", "main.py": "from lib.mod import X\ndef handler(e, c): return X + 1"})
    s.create_function(cdb.FunctionConfig(name="fn", code=data))
    assert s.invoke_function("fn").result == 42


# ----------------------------------------------------------------------------- without the sandbox


def test_without_bwrap_workers_fall_back_to_processes_with_one_warning(monkeypatch):
    monkeypatch.setattr(sandbox, "_probed", None)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    with pytest.warns(RuntimeWarning, match="not sandboxed: bwrap .bubblewrap. is not installed"):
        first = sandbox.probe()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sandbox.probe() is first and not first.available
    with cdb.connect(local={"clock": "virtual", "path": ":memory:"}) as s:
        assert "not sandboxed: bwrap (bubblewrap) is not installed" in s.status()["detail"].iloc[0]
        s.create_function(cdb.FunctionConfig(name="fn", code=zip_of({"main.py": "def handler(e, c): return e"})))
        inv = s.invoke_function("fn", {"x": 1})
        assert inv.result == {"x": 1} and not s.manager.providers["local"].functions.function_pool.sandbox.available


def test_a_broken_bwrap_is_probed_once_and_not_used(monkeypatch, tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox, "_probed", None)
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: str(fake))
    with pytest.warns(RuntimeWarning, match="No permissions to create new namespace"):
        assert not sandbox.probe().available


# ----------------------------------------------------------------------------- leaks


def test_a_dropped_pool_stops_its_workers_and_removes_its_directory(tmp_path):
    threads_before = threading.active_count()
    s = cdb.connect(local={"clock": "wall", "path": ":memory:"})
    create(s, tmp_path, COUNTER)
    s.invoke_function("fn")
    provider = s.manager.providers["local"]
    pids = host_pids(s)
    pool = provider.functions._function_pool
    root = pool._root
    provider.functions._function_pool = None  # the session lets go of the pool, as a dropped session does
    del pool
    gc.collect()
    assert wait_until(lambda: not any(pid_alive(pid) for pid in pids))
    assert os.path.isdir(os.path.dirname(root)) and not os.path.exists(root)
    s.close()
    assert wait_until(lambda: threading.active_count() <= threads_before)


def test_closing_the_pool_twice_and_from_several_threads_is_safe(tmp_path):
    with cdb.connect(local={"clock": "virtual", "path": ":memory:"}) as s:
        create(s, tmp_path, COUNTER)
        s.invoke_function("fn")
        pool = s.manager.providers["local"].functions.function_pool
        closers = [threading.Thread(target=pool.close) for _ in range(4)]
        for t in closers:
            t.start()
        for t in closers:
            t.join()
        pool.close()
        assert pool.closed and pool.worker_pids() == []
