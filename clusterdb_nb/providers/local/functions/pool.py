"""Worker processes that run function handlers, kept warm between invocations.

One worker serves one function version at a time, one invocation at a time.
An invocation takes the most recently used idle worker of its version (warm)
or starts a new one (cold); a worker idle longer than ``idle_seconds`` on the
local clock is stopped, and so is every worker of a version that is no longer
current. Workers run in the bubblewrap sandbox where it works (``sandbox.py``).
A timeout, a process tree over its memory or over MAX_TASKS processes plus
threads, or a bad frame on the response pipe kills the worker and all it
started. The host reads at most a response's 6 MB and a log's last 4 KB::

    >>> pool = WorkerPool(clock=time.time, idle_seconds=300)
    >>> outcome = pool.invoke(spec, "req-1", b'{"x": 1}', code=lambda: zip_bytes)
    >>> outcome.status, outcome.cold_start
    ('success', True)
    >>> pool.close()
"""

from __future__ import annotations

import base64
import concurrent.futures
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....code_zip import extract
from . import sandbox
from . import worker as worker_program
from .sandbox import Sandbox

__all__ = [
    "ADDRESS_SPACE_SLACK",
    "INIT_SECONDS",
    "LOG_TAIL_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_PAYLOAD_BYTES",
    "MAX_TASKS",
    "Outcome",
    "process_tree",
    "runtime_environment",
    "WATCH_SECONDS",
    "Worker",
    "WorkerPool",
    "WorkerSpec",
]

MAX_PAYLOAD_BYTES = 6 * 2**20  # Lambda's synchronous limit, request and response each
MAX_HEADER_BYTES = 4 * 2**20  # a response frame's JSON header (status, error and its stack trace)
MAX_TASKS = 1024  # Lambda's limit on processes plus threads, counted over the worker's whole process tree
LOG_TAIL_BYTES = 4096  # what an invocation keeps of its logs, as Lambda's LogResult tail
INIT_SECONDS = 10.0  # Lambda's init phase limit; a slower init may use the function's timeout instead
ADDRESS_SPACE_SLACK = 512 * 2**20  # libraries reserve address space they never touch (numpy's BLAS ~125 MB)
WATCH_SECONDS = 0.05  # how often a running invocation's process tree is checked
_WORKER = worker_program.__file__


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker runs: one version of one function."""

    name: str
    version: int
    runtime: str
    handler: str
    memory_mb: int
    timeout_sec: int
    environment: tuple[tuple[str, str], ...]
    code_sha256: str
    region: str

    @property
    def arn(self) -> str:
        """The local form of the version's ARN."""
        return f"arn:aws:lambda:{self.region}:000000000000:function:{self.name}:{self.version}"


@dataclass(frozen=True)
class Outcome:
    """What one invocation produced, before billing."""

    status: str  # success | error | timeout | out_of_memory
    body: bytes
    error: dict[str, Any] | None
    logs: str
    duration_ms: float
    init_ms: float | None
    memory_used_mb: int
    cold_start: bool


class _Died(Exception):
    """The worker closed its pipe: it exited or was killed."""


class _OutOfMemory(Exception):
    """The worker's process tree went past its function's memory size."""


class _TooManyTasks(Exception):
    """The worker's process tree went past MAX_TASKS processes plus threads."""


class _BadFrame(Exception):
    """The response pipe carried something other than the expected frame."""


def runtime_environment(spec: WorkerSpec, code_dir: str, runtime_dir: str, log_stream: str) -> dict[str, str]:
    """The worker's whole environment: the function's variables plus the runtime's, nothing inherited."""
    return {
        **dict(spec.environment),
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(spec.version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "_HANDLER": spec.handler,
        "LAMBDA_TASK_ROOT": code_dir,
        "LAMBDA_RUNTIME_DIR": runtime_dir,
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
    }


def _readable(fd: int) -> bool:
    """Whether ``fd`` has bytes to read right now (a closed, empty pipe has none)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return any(events & select.POLLIN for _, events in poller.poll(0))


def _proportional_kb(pid: int) -> int:
    """The process's proportional resident memory (shared pages split between their users), in kB."""
    for name, key in (("smaps_rollup", b"Pss:"), ("status", b"VmRSS:")):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as f:
                for line in f:
                    if line.startswith(key):
                        return int(line.split()[1])
        except FileNotFoundError:
            continue  # no smaps_rollup before Linux 4.14
        except OSError:
            return 0  # it ended while we looked
    return 0


def _walk(pid: int) -> Iterator[tuple[int, int, int]]:
    """(pid, depth, threads) of ``pid`` and every process below it (none once it is gone)."""
    stack = [(pid, 0)]
    while stack:
        p, depth = stack.pop()
        try:
            tids = os.listdir(f"/proc/{p}/task")
            children: list[bytes] = []
            for tid in tids:
                with open(f"/proc/{p}/task/{tid}/children", "rb") as f:
                    children += f.read().split()
        except (OSError, ValueError):
            continue  # it ended while we looked
        yield p, depth, len(tids)
        stack.extend((int(c), depth + 1) for c in children)


def process_tree(pid: int, skip_depth: int = 0) -> tuple[int, int]:
    """(processes plus threads, proportional resident kB) of ``pid`` and every process below it, not counting the
    first ``skip_depth`` levels (the sandbox's own processes); (0, 0) once it is gone."""
    tasks = rss_kb = 0
    for p, depth, threads in _walk(pid):
        if depth >= skip_depth:
            tasks += threads
            rss_kb += _proportional_kb(p)
    return tasks, rss_kb


class Worker:
    """One worker process (in the sandbox where there is one), its pipes and the tail of its log."""

    def __init__(self, spec: WorkerSpec, code_dir: str, log_stream: str, box: Sandbox) -> None:
        self.spec = spec
        self.sandboxed = box.available
        self.last_used = 0.0
        self.peak_tree_mb = 0
        self._released = False
        self._release_lock = threading.Lock()
        self._tail = bytearray()
        self._dropped = 0
        self._seq = 0
        req_r, self._requests = os.pipe()
        self._responses, resp_w = os.pipe()
        self._logs, log_w = os.pipe()
        os.set_blocking(self._logs, False)
        limit = spec.memory_mb * 2**20 + ADDRESS_SPACE_SLACK
        runtime_dir = os.path.dirname(_WORKER)
        if self.sandboxed:
            task_root, runtime_root = sandbox.TASK_ROOT, sandbox.RUNTIME_DIR
        else:
            task_root, runtime_root = code_dir, runtime_dir
        argv = [sys.executable, "-I", "-S", os.path.join(runtime_root, "worker.py"), spec.handler, spec.arn, str(limit)]
        if self.sandboxed:
            argv = sandbox.command(box, code_dir, runtime_dir, argv)
        try:
            self.process = subprocess.Popen(
                argv,
                stdin=req_r,
                stdout=resp_w,
                stderr=log_w,
                cwd=code_dir,
                env=runtime_environment(spec, task_root, runtime_root, log_stream),
                close_fds=True,
                start_new_session=True,  # its own process group: a kill also stops what the handler spawned
            )
        except BaseException:
            for fd in (self._requests, self._responses, self._logs):
                os.close(fd)
            raise
        finally:
            for fd in (req_r, resp_w, log_w):
                os.close(fd)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def idle_clean(self) -> bool:
        """Alive, and nothing was written to its response pipe since its last answer."""
        return self.alive() and not _readable(self._responses)

    def check_tree(self) -> None:
        """Raise _TooManyTasks or _OutOfMemory when the process tree is past its limits."""
        tasks, rss_kb = process_tree(self.pid, 2 if self.sandboxed else 0)
        self.peak_tree_mb = max(self.peak_tree_mb, -(-rss_kb // 1024))
        if tasks > MAX_TASKS:
            raise _TooManyTasks
        if self.peak_tree_mb > self.spec.memory_mb:
            raise _OutOfMemory

    def _drain_logs(self) -> bool:
        """Read what the log pipe holds, keeping the last LOG_TAIL_BYTES; False at end of file."""
        while True:
            try:
                chunk = os.read(self._logs, 65536)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            self._tail += chunk
            if len(self._tail) > LOG_TAIL_BYTES:
                self._dropped += len(self._tail) - LOG_TAIL_BYTES
                del self._tail[:-LOG_TAIL_BYTES]

    def _read_frame(self, deadline: float, expect: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        """One checked frame: TimeoutError at ``deadline`` (monotonic), _Died at end of file, _BadFrame when
        it is malformed, too big or not the answer to ``expect``; the tree is checked while waiting."""
        poller = select.poll()
        poller.register(self._responses, select.POLLIN)
        poller.register(self._logs, select.POLLIN)
        buf = bytearray()
        need = worker_program.FRAME.size
        header_len = -1
        next_check = time.monotonic() + WATCH_SECONDS
        while len(buf) < need or header_len < 0:
            now = time.monotonic()
            if now >= deadline:
                raise TimeoutError
            if now >= next_check:
                self.check_tree()
                next_check = now + WATCH_SECONDS
            events = dict(poller.poll(min(deadline - now, WATCH_SECONDS) * 1000))
            if self._logs in events and not self._drain_logs():
                poller.unregister(self._logs)
            if self._responses not in events:
                continue
            chunk = os.read(self._responses, min(need - len(buf), 1 << 20))
            if not chunk:
                raise _Died
            buf += chunk
            if header_len < 0 and len(buf) >= need:
                magic, header_len, body_len = worker_program.FRAME.unpack_from(buf)
                if (
                    magic != worker_program.MAGIC
                    or header_len > MAX_HEADER_BYTES
                    or body_len > MAX_PAYLOAD_BYTES + MAX_HEADER_BYTES
                ):
                    raise _BadFrame(f"a frame header of {bytes(buf[: worker_program.FRAME.size])!r}")
                need += header_len + body_len
        self._drain_logs()
        start = worker_program.FRAME.size
        try:
            header = json.loads(buf[start : start + header_len])
        except ValueError:
            header = None
        if not isinstance(header, dict) or any(header.get(k) != v for k, v in expect.items()):
            raise _BadFrame("a frame that answers no request it was sent")
        if _readable(self._responses):
            raise _BadFrame("more than one frame for one request")
        return header, bytes(buf[start + header_len : need])

    def wait_init(self, deadline: float) -> dict[str, Any]:
        return self._read_frame(deadline, {"id": "init"})[0]

    def call(self, request_id: str, payload: bytes, deadline: float) -> tuple[dict[str, Any], bytes]:
        self._drain_logs()
        self._seq += 1
        nonce = f"{self._seq}-{os.urandom(8).hex()}"
        header = json.dumps({"id": request_id, "nonce": nonce, "timeout_ms": self.spec.timeout_sec * 1000}).encode()
        view = memoryview(worker_program.FRAME.pack(worker_program.MAGIC, len(header), len(payload)) + header + payload)
        try:
            while view:
                view = view[os.write(self._requests, view) :]
        except BrokenPipeError:
            raise _Died from None
        reply, body = self._read_frame(deadline, {"id": request_id, "nonce": nonce})
        kinds: dict[str, type | tuple[type, ...]] = {
            "status": str,
            "duration_ms": (int, float),
            "memory_used_mb": int,
            "error": (dict, type(None)),
        }
        if not all(isinstance(reply.get(key), kind) for key, kind in kinds.items()):
            raise _BadFrame("a reply without its status, duration and memory")
        return reply, body

    def take_logs(self) -> str:
        """The log's tail since the last call (a marker says how much was cut), then forget it."""
        with self._release_lock:
            if not self._released:
                self._drain_logs()
            tail, dropped = bytes(self._tail), self._dropped
            self._tail.clear()
            self._dropped = 0
        text = tail.decode("utf-8", "ignore" if dropped else "replace")
        return f"[... {dropped:,} earlier bytes of log output truncated ...]\n{text}" if dropped else text

    def exit_reason(self) -> str:
        code = self.process.wait()
        if self.sandboxed and code > 128:  # bwrap passes on the signal that killed the handler as 128 + n
            code = 128 - code
        if code < 0:
            return f"signal: {signal.Signals(-code).name.removeprefix('SIG').lower()}"
        return f"exit status {code}"

    def stop(self) -> None:
        """Kill the worker and everything it started (its process group; in the sandbox, its PID namespace)."""
        if self.process.poll() is None:
            # outside the sandbox, children that left the process group are still in the tree
            below = [] if self.sandboxed else [p for p, depth, _ in _walk(self.pid) if depth > 0]
            for pgid_or_pid, kill in [(self.pid, os.killpg)] + [(p, os.kill) for p in below]:
                try:
                    kill(pgid_or_pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        self.process.wait()

    def kill(self) -> None:
        """Stop the worker and release its pipes (once)."""
        self.stop()
        with self._release_lock:
            if self._released:
                return
            self._released = True
            self._drain_logs()
            for fd in (self._requests, self._responses, self._logs):
                os.close(fd)


def _runtime_error(request_id: str, error_type: str, detail: str) -> dict[str, Any]:
    return {"errorMessage": f"RequestId: {request_id} Error: {detail}", "errorType": error_type, "stackTrace": []}


class _Workers:
    """The pool's workers and lock, apart from the pool so that a finalizer can stop them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: dict[WorkerSpec, list[Worker]] = {}
        self.busy: set[Worker] = set()
        self.closed = threading.Event()

    def take_all(self) -> tuple[list[Worker], list[Worker]]:
        with self.lock:
            self.closed.set()
            idle = [w for ws in self.idle.values() for w in ws]
            self.idle.clear()
            return idle, list(self.busy)


def _shutdown(workers: _Workers, threads: concurrent.futures.ThreadPoolExecutor, root: str, wait: bool) -> None:
    """Stop every worker, let the running invocations report, remove the code directories."""
    idle, busy = workers.take_all()
    for w in idle:
        w.kill()
    for w in busy:  # the thread running each sees it die, reports the invocation and releases it
        w.stop()
    in_pool_thread = threading.current_thread().name.startswith("clusterdb-function_")
    threads.shutdown(wait=wait and not in_pool_thread, cancel_futures=not wait)
    shutil.rmtree(root, ignore_errors=True)


def _reap_forever(pool_ref: weakref.ref[WorkerPool], closed: threading.Event, interval: float) -> None:
    while not closed.wait(interval):
        pool = pool_ref()
        if pool is None:
            return
        pool.reap()
        del pool


class WorkerPool:
    """Warm workers per function version.

    ``clock`` gives the local cloud's time (virtual or wall), used for the idle timeout; ``sandboxed``
    None runs workers in bubblewrap where it works here, False never. A pool that is garbage
    collected, or still open when the interpreter exits, is closed.
    """

    def __init__(
        self, clock: Callable[[], float], idle_seconds: float, reap_in_background: bool = False, sandboxed: bool | None = None
    ) -> None:
        self._clock = clock
        self.idle_seconds = idle_seconds
        self.sandbox = Sandbox(None, "the sandbox is turned off") if sandboxed is False else sandbox.probe()
        self._root = tempfile.mkdtemp(prefix="clusterdb-functions-")
        self._workers = _Workers()
        self._lock = self._workers.lock
        self._current: dict[str, WorkerSpec] = {}
        self._threads = concurrent.futures.ThreadPoolExecutor(max_workers=256, thread_name_prefix="clusterdb-function")
        self._finalizer = weakref.finalize(self, _shutdown, self._workers, self._threads, self._root, False)
        self._close_lock = threading.Lock()
        self._reaper: threading.Thread | None = None
        if reap_in_background:
            interval = min(max(idle_seconds / 4, 0.25), 60.0)
            self._reaper = threading.Thread(
                target=_reap_forever,
                args=(weakref.ref(self), self._workers.closed, interval),
                name="clusterdb-functions-reaper",
                daemon=True,
            )
            self._reaper.start()

    @property
    def closed(self) -> bool:
        return self._workers.closed.is_set()

    def worker_pids(self, name: str | None = None) -> list[int]:
        """Host process ids of the workers (of function ``name``), idle and busy."""
        with self._lock:
            every = [w for ws in self._workers.idle.values() for w in ws] + list(self._workers.busy)
        return [w.pid for w in every if name is None or w.spec.name == name]

    # -- workers -------------------------------------------------------------------
    def _code_dir(self, spec: WorkerSpec, code: Callable[[], bytes]) -> str:
        """The version's own read-only copy of its code."""
        target = Path(self._root, f"{spec.name}-{spec.version}-{base64.b64decode(spec.code_sha256).hex()[:16]}")
        if not target.exists():
            staging = Path(tempfile.mkdtemp(dir=self._root, prefix="staging-"))
            extract(code(), staging)
            for path in staging.rglob("*"):
                if path.is_file():
                    path.chmod(path.stat().st_mode & ~0o222)
            try:
                staging.rename(target)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
                if not target.exists():
                    raise
                # else another thread unpacked the same code first
        return str(target)

    def _take(self, spec: WorkerSpec) -> Worker | None:
        idle_map = self._workers.idle
        with self._lock:
            stale = []
            if self._current.get(spec.name) != spec:
                self._current[spec.name] = spec
                for s in [s for s in idle_map if s.name == spec.name and s != spec]:
                    stale += idle_map.pop(s)
            idle = idle_map.get(spec, [])
            found = None
            while idle:
                candidate = idle.pop()
                if candidate.idle_clean():
                    found = candidate
                    break
                stale.append(candidate)
            if found is not None:
                self._workers.busy.add(found)
        for w in stale:
            w.kill()
        return found

    def _put_back(self, worker: Worker, keep: bool) -> None:
        now = self._clock() if keep else 0.0  # read outside the lock: the virtual clock takes the store's
        with self._lock:
            self._workers.busy.discard(worker)
            keep = keep and not self.closed and self._current.get(worker.spec.name) == worker.spec
            if keep:
                worker.last_used = now
                self._workers.idle.setdefault(worker.spec, []).append(worker)
        if not keep:
            worker.kill()

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
        """``fn(*args)`` on one of the pool's threads (``fn`` calls ``invoke``)."""
        return self._threads.submit(fn, *args)

    def invoke(self, spec: WorkerSpec, request_id: str, payload: bytes, code: Callable[[], bytes]) -> Outcome:
        """Run one invocation of ``spec`` (``code`` gives the zip when a new code directory is needed)."""
        worker = self._take(spec)
        cold = worker is None
        init_ms: float | None = None
        if worker is None:
            code_dir = self._code_dir(spec, code)
            stream = f"{time.strftime('%Y/%m/%d', time.gmtime(self._clock()))}/[{spec.version}]{os.urandom(16).hex()}"
            started = time.monotonic()
            worker = Worker(spec, code_dir, stream, self.sandbox)
            with self._lock:
                self._workers.busy.add(worker)
            if self.closed:
                self._put_back(worker, keep=False)
                raise RuntimeError("the function runtime is closed")
            outcome = self._init(worker, request_id, started)
            if outcome is not None:
                return outcome
            init_ms = (time.monotonic() - started) * 1000
        return self._run(worker, request_id, payload, cold, init_ms)

    def _init(self, worker: Worker, request_id: str, started: float) -> Outcome | None:
        """Wait for the worker's init frame; an Outcome if the init failed."""
        spec = worker.spec
        limit = max(INIT_SECONDS, spec.timeout_sec)
        try:
            init = worker.wait_init(started + limit)
        except TimeoutError:
            error = _runtime_error(request_id, "Sandbox.Timedout", f"Init phase timed out after {limit:.2f} seconds")
            return self._end(worker, "timeout", error, None, limit * 1000, True, worker.peak_tree_mb)
        except (_Died, _OutOfMemory, _TooManyTasks, _BadFrame) as exc:
            return self._failed(worker, exc, request_id, None, (time.monotonic() - started) * 1000, True)
        init_ms = (time.monotonic() - started) * 1000
        if init["status"] == "ok" and init["memory_used_mb"] > spec.memory_mb:
            init["status"] = "out_of_memory"
        if init["status"] != "ok":
            error = {**init["error"], "requestId": request_id}
            status = init["status"]
            if status == "out_of_memory":
                error = self._oom(request_id, init["memory_used_mb"], spec.memory_mb)
            return self._end(worker, status, error, init_ms, 0.0, True, init["memory_used_mb"])
        return None

    def _oom(self, request_id: str, used_mb: int, memory_mb: int) -> dict[str, Any]:
        detail = f"Runtime exited with error: out of memory (max memory used {used_mb} MB, memory size {memory_mb} MB)"
        return _runtime_error(request_id, "Runtime.OutOfMemory", detail)

    def _failed(
        self, worker: Worker, exc: Exception, request_id: str, init_ms: float | None, elapsed_ms: float, cold: bool
    ) -> Outcome:
        """The Outcome of a worker that died, broke a limit or sent a bad frame; the worker is stopped."""
        spec = worker.spec
        if isinstance(exc, _OutOfMemory):
            used = worker.peak_tree_mb
            return self._end(
                worker, "out_of_memory", self._oom(request_id, used, spec.memory_mb), init_ms, elapsed_ms, cold, used
            )
        if isinstance(exc, _TooManyTasks):
            detail = f"Runtime exited with error: more than {MAX_TASKS} processes and threads (the function's limit)"
            error = _runtime_error(request_id, "Runtime.ExitError", detail)
        elif isinstance(exc, _BadFrame):
            detail = f"Runtime.InvalidResponse: the worker's response pipe carried {exc}; the worker was stopped"
            error = _runtime_error(request_id, "Runtime.InvalidResponse", detail)
        else:
            worker.stop()
            error = _runtime_error(request_id, "Runtime.ExitError", f"Runtime exited with error: {worker.exit_reason()}")
        return self._end(worker, "error", error, init_ms, elapsed_ms, cold, worker.peak_tree_mb)

    def _run(self, worker: Worker, request_id: str, payload: bytes, cold: bool, init_ms: float | None) -> Outcome:
        spec = worker.spec
        started = time.monotonic()
        try:
            reply, body = worker.call(request_id, payload, started + spec.timeout_sec)
        except TimeoutError:
            used = worker.peak_tree_mb
            if used > spec.memory_mb:
                error = self._oom(request_id, used, spec.memory_mb)
                return self._end(worker, "out_of_memory", error, init_ms, spec.timeout_sec * 1000.0, cold, used)
            error = _runtime_error(request_id, "Sandbox.Timedout", f"Task timed out after {spec.timeout_sec:.2f} seconds")
            return self._end(worker, "timeout", error, init_ms, spec.timeout_sec * 1000.0, cold, used)
        except (_Died, _OutOfMemory, _TooManyTasks, _BadFrame) as exc:
            return self._failed(worker, exc, request_id, init_ms, (time.monotonic() - started) * 1000, cold)
        status: str = reply["status"]
        used = max(int(reply["memory_used_mb"]), worker.peak_tree_mb)
        if status == "out_of_memory" or used > spec.memory_mb:
            oom = self._oom(request_id, used, spec.memory_mb)
            return self._end(worker, "out_of_memory", oom, init_ms, float(reply["duration_ms"]), cold, used)
        outcome = Outcome(status, body, reply["error"], worker.take_logs(), float(reply["duration_ms"]), init_ms, used, cold)
        self._put_back(worker, keep=True)
        return outcome

    def _end(
        self,
        worker: Worker,
        status: str,
        error: dict[str, Any],
        init_ms: float | None,
        duration_ms: float,
        cold: bool,
        used_mb: int,
    ) -> Outcome:
        """The Outcome of an invocation that ends its worker (timeout, crash, out of memory, failed init)."""
        worker.stop()
        logs = worker.take_logs()
        self._put_back(worker, keep=False)
        return Outcome(status, json.dumps(error).encode(), error, logs, duration_ms, init_ms, used_mb, cold)

    # -- lifecycle -----------------------------------------------------------------
    def retire(self, name: str) -> None:
        """Stop ``name``'s idle workers; its busy ones stop when they finish (a new version or a delete)."""
        idle_map = self._workers.idle
        with self._lock:
            self._current.pop(name, None)
            stale = [w for s in [s for s in idle_map if s.name == name] for w in idle_map.pop(s)]
        for w in stale:
            w.kill()

    def reap(self, now: float | None = None) -> None:
        """Stop workers idle for ``idle_seconds`` or more at ``now`` (default: the clock's now)."""
        now = self._clock() if now is None else now
        with self._lock:
            expired = [w for ws in self._workers.idle.values() for w in ws if now - w.last_used >= self.idle_seconds]
            for ws in self._workers.idle.values():
                ws[:] = [w for w in ws if w not in expired]
        for w in expired:
            w.kill()

    def close(self) -> None:
        """Stop every worker and what it started, wait for running invocations to report, remove the
        code directories. Safe to call more than once and from several threads."""
        with self._close_lock:
            if not self._finalizer.alive:
                return
            self._finalizer.detach()
            _shutdown(self._workers, self._threads, self._root, wait=True)
        if self._reaper is not None and self._reaper is not threading.current_thread():
            self._reaper.join(timeout=5)
