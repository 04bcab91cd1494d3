"""Worker processes that run function handlers, kept warm between invocations.

One worker serves one function version at a time, one invocation at a time.
An invocation takes the most recently used idle worker of its version (warm)
or starts a new one (cold); a worker idle longer than ``idle_seconds`` on the
local clock is stopped, and so is every worker of a version that is no longer
current. A timeout or running out of memory kills the worker::

    >>> pool = WorkerPool(clock=time.time, idle_seconds=300)
    >>> outcome = pool.invoke(spec, "req-1", b'{"x": 1}', code=lambda: zip_bytes)
    >>> outcome.status, outcome.cold_start
    ('success', True)
    >>> pool.close()
"""

from __future__ import annotations

import base64
import concurrent.futures
import fcntl
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...function_code import extract
from . import worker as worker_program

MAX_PAYLOAD_BYTES = 6 * 2**20  # Lambda's synchronous limit, request and response each
INIT_SECONDS = 10.0  # Lambda's init phase limit; a slower init may use the function's timeout instead
ADDRESS_SPACE_SLACK = 512 * 2**20  # libraries reserve address space they never touch (numpy's BLAS ~125 MB)
WATCH_SECONDS = 0.05  # how often a running invocation's memory is checked
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
    """The worker's resident memory went past its function's memory size."""


def runtime_environment(spec: WorkerSpec, code_dir: str, log_stream: str) -> dict[str, str]:
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
        "LAMBDA_RUNTIME_DIR": os.path.dirname(_WORKER),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
    }


def _read_frame(fd: int, deadline: float, over_memory: Callable[[], bool]) -> tuple[dict[str, Any], bytes]:
    """One frame from ``fd``; TimeoutError at ``deadline`` (monotonic), _Died at end of file,
    _OutOfMemory when ``over_memory()`` says so (asked every ``WATCH_SECONDS`` while waiting)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    buf = bytearray()
    need = worker_program.FRAME.size
    header_len = -1
    while True:
        while len(buf) < need:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            if not poller.poll(min(remaining, WATCH_SECONDS) * 1000):
                if over_memory():
                    raise _OutOfMemory
                continue
            chunk = os.read(fd, max(need - len(buf), 65536))
            if not chunk:
                raise _Died
            buf += chunk
        if header_len < 0:
            header_len, body_len = worker_program.FRAME.unpack_from(buf)
            need = worker_program.FRAME.size + header_len + body_len
            continue
        start = worker_program.FRAME.size
        return json.loads(buf[start : start + header_len]), bytes(buf[start + header_len : need])


class Worker:
    """One worker process and its pipes and log file."""

    def __init__(self, spec: WorkerSpec, code_dir: str, log_dir: str, log_stream: str) -> None:
        self.spec = spec
        self.last_used = 0.0
        self._released = False
        self._release_lock = threading.Lock()
        self._log = tempfile.TemporaryFile(dir=log_dir)
        fd = self._log.fileno()
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)  # writes land at the end after a truncate
        req_r, self._requests = os.pipe()
        self._responses, resp_w = os.pipe()
        limit = spec.memory_mb * 2**20 + ADDRESS_SPACE_SLACK
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", _WORKER, spec.handler, spec.arn, str(limit)],
                stdin=req_r,
                stdout=resp_w,
                stderr=fd,
                cwd=code_dir,
                env=runtime_environment(spec, code_dir, log_stream),
                close_fds=True,
                start_new_session=True,  # its own process group: a kill also stops what the handler spawned
            )
        except BaseException:
            os.close(self._requests)
            os.close(self._responses)
            self._log.close()
            raise
        finally:
            os.close(req_r)
            os.close(resp_w)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def over_memory(self) -> bool:
        return self.peak_rss_mb() > self.spec.memory_mb

    def peak_rss_mb(self) -> int:
        """The worker's peak resident memory in MB (0 where /proc is missing)."""
        try:
            with open(f"/proc/{self.pid}/status", "rb") as status:
                for line in status:
                    if line.startswith(b"VmHWM:"):
                        return -(-int(line.split()[1]) // 1024)
        except OSError:
            pass
        return 0

    def wait_init(self, deadline: float) -> dict[str, Any]:
        return _read_frame(self._responses, deadline, self.over_memory)[0]

    def call(self, request_id: str, payload: bytes, deadline: float) -> tuple[dict[str, Any], bytes]:
        header = json.dumps({"id": request_id, "timeout_ms": self.spec.timeout_sec * 1000}).encode()
        view = memoryview(worker_program.FRAME.pack(len(header), len(payload)) + header + payload)
        try:
            while view:
                view = view[os.write(self._requests, view) :]
        except BrokenPipeError:
            raise _Died from None
        return _read_frame(self._responses, deadline, self.over_memory)

    def take_logs(self) -> str:
        """What the worker wrote since the last call, then forget it ("" once the worker is released)."""
        with self._release_lock:
            if self._released:
                return ""
            fd = self._log.fileno()
            data = os.pread(fd, os.fstat(fd).st_size, 0)
            os.ftruncate(fd, 0)
        return data.decode("utf-8", "replace")

    def exit_reason(self) -> str:
        code = self.process.wait()
        if code < 0:
            return f"signal: {signal.Signals(-code).name.removeprefix('SIG').lower()}"
        return f"exit status {code}"

    def stop(self) -> None:
        """Kill the worker and everything it started (its process group)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()

    def kill(self) -> None:
        """Stop the worker and release its pipes and log file (once)."""
        self.stop()
        with self._release_lock:
            if self._released:
                return
            self._released = True
            os.close(self._requests)
            os.close(self._responses)
            self._log.close()


def _runtime_error(request_id: str, error_type: str, detail: str) -> dict[str, Any]:
    return {"errorMessage": f"RequestId: {request_id} Error: {detail}", "errorType": error_type, "stackTrace": []}


class WorkerPool:
    """Warm workers per function version, with per-function concurrency limits.

    ``clock`` gives the local cloud's time (virtual or wall), used for the idle timeout.
    """

    def __init__(self, clock: Callable[[], float], idle_seconds: float, reap_in_background: bool = False) -> None:
        self._clock = clock
        self.idle_seconds = idle_seconds
        self._root = tempfile.mkdtemp(prefix="clusterdb-functions-")
        self._lock = threading.Lock()
        self._idle: dict[WorkerSpec, list[Worker]] = {}
        self._busy: set[Worker] = set()
        self._current: dict[str, WorkerSpec] = {}
        self._in_flight: dict[str, int] = {}
        self._closed = threading.Event()
        self._threads = concurrent.futures.ThreadPoolExecutor(max_workers=256, thread_name_prefix="clusterdb-function")
        self._reaper: threading.Thread | None = None
        if reap_in_background:
            self._reaper = threading.Thread(target=self._reap_forever, name="clusterdb-functions-reaper", daemon=True)
            self._reaper.start()

    # -- concurrency -------------------------------------------------------------
    def try_reserve(self, name: str, limit: int) -> bool:
        """Take one of ``name``'s ``limit`` concurrency slots; False when all are taken (throttled)."""
        with self._lock:
            if self._in_flight.get(name, 0) >= limit:
                return False
            self._in_flight[name] = self._in_flight.get(name, 0) + 1
            return True

    def release(self, name: str) -> None:
        with self._lock:
            self._in_flight[name] -= 1

    # -- workers -------------------------------------------------------------------
    def _code_dir(self, spec: WorkerSpec, code: Callable[[], bytes]) -> str:
        target = Path(self._root, base64.b64decode(spec.code_sha256).hex())
        if not target.exists():
            staging = Path(tempfile.mkdtemp(dir=self._root, prefix="staging-"))
            extract(code(), staging)
            try:
                staging.rename(target)
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
                if not target.exists():
                    raise
                # else another thread unpacked the same code first
        return str(target)

    def _take(self, spec: WorkerSpec) -> Worker | None:
        with self._lock:
            stale = []
            if self._current.get(spec.name) != spec:
                self._current[spec.name] = spec
                stale = [w for s, ws in self._idle.items() if s.name == spec.name and s != spec for w in ws]
                self._idle = {s: ws for s, ws in self._idle.items() if s.name != spec.name or s == spec}
            idle = self._idle.get(spec, [])
            found = None
            while idle:
                candidate = idle.pop()
                if candidate.alive():
                    found = candidate
                    break
                stale.append(candidate)
            if found is not None:
                self._busy.add(found)
        for w in stale:
            w.kill()
        return found

    def _put_back(self, worker: Worker, keep: bool) -> None:
        now = self._clock() if keep else 0.0  # read outside the lock: the virtual clock takes the store's
        with self._lock:
            self._busy.discard(worker)
            keep = keep and not self._closed.is_set() and self._current.get(worker.spec.name) == worker.spec
            if keep:
                worker.last_used = now
                self._idle.setdefault(worker.spec, []).append(worker)
        if not keep:
            worker.kill()

    def submit(
        self, spec: WorkerSpec, request_id: str, payload: bytes, code: Callable[[], bytes]
    ) -> concurrent.futures.Future[Outcome]:
        """``invoke`` on one of the pool's threads."""
        return self._threads.submit(self.invoke, spec, request_id, payload, code)

    def invoke(self, spec: WorkerSpec, request_id: str, payload: bytes, code: Callable[[], bytes]) -> Outcome:
        """Run one invocation of ``spec`` (``code`` gives the zip when a new code directory is needed)."""
        worker = self._take(spec)
        cold = worker is None
        init_ms: float | None = None
        if worker is None:
            code_dir = self._code_dir(spec, code)
            stream = f"{time.strftime('%Y/%m/%d', time.gmtime(self._clock()))}/[{spec.version}]{os.urandom(16).hex()}"
            started = time.monotonic()
            worker = Worker(spec, code_dir, self._root, stream)
            with self._lock:
                self._busy.add(worker)
            if self._closed.is_set():
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
            return self._end(worker, "timeout", error, None, limit * 1000, True, worker.peak_rss_mb())
        except _OutOfMemory:
            used = worker.peak_rss_mb()
            return self._end(worker, "out_of_memory", self._oom(request_id, used, spec.memory_mb), None, 0.0, True, used)
        except _Died:
            error = _runtime_error(request_id, "Runtime.ExitError", f"Runtime exited with error: {worker.exit_reason()}")
            return self._end(worker, "error", error, None, 0.0, True, 0)
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

    def _run(self, worker: Worker, request_id: str, payload: bytes, cold: bool, init_ms: float | None) -> Outcome:
        spec = worker.spec
        started = time.monotonic()
        try:
            reply, body = worker.call(request_id, payload, started + spec.timeout_sec)
        except TimeoutError:
            used = worker.peak_rss_mb()
            if used > spec.memory_mb:
                return self._end(
                    worker,
                    "out_of_memory",
                    self._oom(request_id, used, spec.memory_mb),
                    init_ms,
                    spec.timeout_sec * 1000.0,
                    cold,
                    used,
                )
            error = _runtime_error(request_id, "Sandbox.Timedout", f"Task timed out after {spec.timeout_sec:.2f} seconds")
            return self._end(worker, "timeout", error, init_ms, spec.timeout_sec * 1000.0, cold, used)
        except _OutOfMemory:
            used = worker.peak_rss_mb()
            return self._end(
                worker,
                "out_of_memory",
                self._oom(request_id, used, spec.memory_mb),
                init_ms,
                (time.monotonic() - started) * 1000,
                cold,
                used,
            )
        except _Died:
            elapsed = (time.monotonic() - started) * 1000
            error = _runtime_error(request_id, "Runtime.ExitError", f"Runtime exited with error: {worker.exit_reason()}")
            return self._end(worker, "error", error, init_ms, elapsed, cold, 0)
        status, error, used = reply["status"], reply["error"], reply["memory_used_mb"]
        if status == "out_of_memory" or used > spec.memory_mb:
            return self._end(
                worker, "out_of_memory", self._oom(request_id, used, spec.memory_mb), init_ms, reply["duration_ms"], cold, used
            )
        if len(body) > MAX_PAYLOAD_BYTES:
            status, error = (
                "error",
                {
                    "errorMessage": f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload size "
                    f"({MAX_PAYLOAD_BYTES} bytes).",
                    "errorType": "Function.ResponseSizeTooLarge",
                    "stackTrace": [],
                    "requestId": request_id,
                },
            )
            body = json.dumps(error).encode()
        outcome = Outcome(status, body, error, worker.take_logs(), reply["duration_ms"], init_ms, used, cold)
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
        with self._lock:
            self._current.pop(name, None)
            stale = [w for s, ws in self._idle.items() if s.name == name for w in ws]
            self._idle = {s: ws for s, ws in self._idle.items() if s.name != name}
        for w in stale:
            w.kill()

    def reap(self, now: float | None = None) -> None:
        """Stop workers idle for ``idle_seconds`` or more at ``now`` (default: the clock's now)."""
        now = self._clock() if now is None else now
        with self._lock:
            expired = [w for ws in self._idle.values() for w in ws if now - w.last_used >= self.idle_seconds]
            for ws in self._idle.values():
                ws[:] = [w for w in ws if w not in expired]
        for w in expired:
            w.kill()

    def _reap_forever(self) -> None:
        interval = min(max(self.idle_seconds / 4, 0.25), 60.0)
        while not self._closed.wait(interval):
            self.reap()

    def close(self) -> None:
        """Stop every worker and remove the code directories."""
        self._closed.set()
        with self._lock:
            idle = [w for ws in self._idle.values() for w in ws]
            busy = list(self._busy)
            self._idle.clear()
        for w in idle:
            w.kill()
        for w in busy:  # the thread running each sees it die, reports the invocation and releases it
            w.stop()
        self._threads.shutdown(wait=True)
        if self._reaper is not None:
            self._reaper.join(timeout=5)
        shutil.rmtree(self._root, ignore_errors=True)
