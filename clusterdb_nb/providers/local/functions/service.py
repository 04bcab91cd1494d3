"""Functions on the local cloud: versions and code in SQLite, handlers run for real by a WorkerPool.

``LocalFunctions`` is one part of ``LocalProvider`` (which passes it its store, clock and
catch-up step); through a session::

    >>> s.create_function(FunctionConfig(name="echo", handler="main.handler", code="handlers/"))
    >>> s.invoke_function("echo", {"x": 1}).result
    {'x': 1}
    >>> s.invocations("echo")          # one row per invocation, billed by LocalConfig.function_billing
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .... import frames
from ....errors import NotFoundError, NotSupportedError, QuotaExceededError, ValidationError
from ....models import Function, FunctionConfig, Invocation
from ...base import already_exists
from ...function_billing import BILLING, FunctionBilling
from . import sandbox
from .pool import MAX_PAYLOAD_BYTES, Outcome, WorkerPool, WorkerSpec

if TYPE_CHECKING:
    from ....config import LocalConfig
    from ..clock import VirtualClock, WallClock
    from ..store import Store

__all__ = ["CURRENT", "INVOCATION_COLUMNS", "LocalFunctions", "VERSION_COLUMNS"]

VERSION_COLUMNS = (
    "v.name, v.version, v.runtime, v.handler, v.memory_mb, v.timeout_sec, v.environment, "
    "v.reserved_concurrency, v.code_sha256, v.code_size, v.created_at"
)
CURRENT = f"SELECT {VERSION_COLUMNS} FROM functions f JOIN function_versions v ON v.name = f.name AND v.version = f.version"
INVOCATION_COLUMNS = (
    "request_id, function, version, at, status, error_type, error_message, cold_start, duration_ms, init_ms, "
    "memory_mb, memory_used_mb, request_bytes, response_bytes, logs"
)
_CONFIG_FIELDS = ("runtime", "handler", "memory_mb", "timeout_sec", "environment", "reserved_concurrency")
_POOL_LOCK = threading.Lock()


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalFunctions:
    """create/update/delete/get/list/invoke functions on the local cloud, and their invocations and costs."""

    def __init__(
        self,
        name: str,
        config: LocalConfig,
        store: Store,
        clock: VirtualClock | WallClock,
        now: Callable[[sqlite3.Connection], float],
    ) -> None:
        self.name = name
        self.config = config
        self.store = store
        self.clock = clock
        self._now = now  # the local time, with the cloud brought up to it
        self._function_pool: WorkerPool | None = None

    @property
    def function_pool(self) -> WorkerPool:
        """The worker processes, started on first use."""
        with _POOL_LOCK:
            if self._function_pool is None:
                self._function_pool = WorkerPool(
                    self.clock.now, self.config.function_idle_seconds, reap_in_background=not self.clock.virtual
                )
            return self._function_pool

    def function_sandboxed(self) -> bool:
        """True where handlers run in the bubblewrap sandbox."""
        return sandbox.probe().available

    def function_runtime(self) -> str:
        """How handlers run here, for ``s.status()``: in the bubblewrap sandbox, or as plain processes and why."""
        box = sandbox.probe()
        return f"sandboxed ({box.reason})" if box.available else f"as plain processes, not sandboxed: {box.reason}"

    @property
    def function_billing(self) -> FunctionBilling:
        return BILLING[self.config.function_billing]

    # -- helpers ---------------------------------------------------------------
    def _check_runtime(self, runtime: str, operation: str) -> None:
        if not runtime.startswith("python3."):
            raise NotSupportedError(
                f"{self.name} runs python3.x handlers only, not {runtime}",
                provider=self.name,
                operation=operation,
                cause="The local cloud's function runtime is Python",
                solution="Use a python3.x runtime locally, or deploy this function to a cloud provider",
            )
        if os.name != "posix":
            raise NotSupportedError(
                f"{self.name} runs functions on Linux and macOS only",
                provider=self.name,
                operation=operation,
                cause="The function workers rely on POSIX process groups and resource limits",
            )

    def _current(self, db: sqlite3.Connection, name: str, operation: str) -> tuple[Any, ...]:
        row = db.execute(CURRENT + " WHERE f.name = ?", (name,)).fetchone()
        if row is None:
            raise NotFoundError(f"no function named {name!r}", provider=self.name, operation=operation)
        return tuple(row)

    def _function(self, row: tuple[Any, ...]) -> Function:
        name, version, runtime, handler, memory, timeout, env, reserved, sha, size, created = row
        return Function(
            id=name,
            name=name,
            provider=self.name,
            runtime=runtime,
            handler=handler,
            memory_mb=memory,
            timeout_sec=timeout,
            version=version,
            code_sha256=sha,
            code_size=size,
            reserved_concurrency=reserved,
            environment_keys=sorted(json.loads(env)),
            updated_at=pd.Timestamp(created, unit="s", tz="UTC"),
        )

    def _insert_version(self, db: sqlite3.Connection, values: dict[str, Any], code: bytes | None, now: float) -> None:
        if code is not None:
            db.execute("INSERT OR IGNORE INTO function_code VALUES (?, ?)", (values["code_sha256"], code))
        db.execute(
            "INSERT INTO function_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                values["name"],
                values["version"],
                values["runtime"],
                values["handler"],
                values["memory_mb"],
                values["timeout_sec"],
                json.dumps(values["environment"], sort_keys=True),
                values["reserved_concurrency"],
                values["code_sha256"],
                values["code_size"],
                now,
            ),
        )

    def _code(self, sha256: str) -> bytes:
        with self.store.reading() as db:
            return bytes(db.execute("SELECT zip FROM function_code WHERE sha256 = ?", (sha256,)).fetchone()[0])

    def _request_id(self, counter: int) -> str:
        """A UUID like Lambda's request ids, the same for the same seed and invocation number."""
        digest = hashlib.sha256(f"{self.config.seed}:invocation:{counter}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    # -- lifecycle -------------------------------------------------------------
    async def create_function(self, config: FunctionConfig) -> Function:
        self._check_runtime(config.runtime, "create_function")
        assert config.code is not None  # the manager's pre-flight: FunctionConfig.require_code
        values = {field: getattr(config, field) for field in _CONFIG_FIELDS}
        values.update(name=config.name, version=1, code_sha256=config.code_sha256, code_size=len(config.code))
        with self.store.transaction() as db:
            now = self._now(db)
            if db.execute("SELECT 1 FROM functions WHERE name = ?", (config.name,)).fetchone():
                raise already_exists("function", config.name, self.name, self.config.region, "create_function")
            db.execute("INSERT INTO functions VALUES (?, 1, ?)", (config.name, now))
            self._insert_version(db, values, config.code, now)
            return self._function(self._current(db, config.name, "create_function"))

    async def update_function(self, config: FunctionConfig) -> Function:
        """Apply the fields set in ``config`` (code and/or configuration) as a new version; no change, no new version."""
        changed = config.model_fields_set & set(_CONFIG_FIELDS)
        if "runtime" in changed:
            self._check_runtime(config.runtime, "update_function")
        with self.store.transaction() as db:
            now = self._now(db)
            row = self._current(db, config.name, "update_function")
            old = dict(zip(["name", "version", *_CONFIG_FIELDS, "code_sha256", "code_size"], row[:10]))
            old["environment"] = json.loads(old["environment"])
            new = {**old, **{field: getattr(config, field) for field in changed}}
            if config.code is not None:
                new.update(code_sha256=config.code_sha256, code_size=len(config.code))
            if new == old:
                return self._function(row)
            new["version"] = old["version"] + 1
            self._insert_version(db, new, config.code, now)
            db.execute("UPDATE functions SET version = ? WHERE name = ?", (new["version"], config.name))
            function = self._function(self._current(db, config.name, "update_function"))
        self._retire(config.name)
        return function

    async def delete_function(self, function: str) -> None:
        """Delete every version and stop the workers; past invocations stay (they were billed)."""
        with self.store.transaction() as db:
            self._now(db)
            self._current(db, function, "delete_function")
            db.execute("DELETE FROM functions WHERE name = ?", (function,))
            db.execute("DELETE FROM function_versions WHERE name = ?", (function,))
            db.execute("DELETE FROM function_code WHERE sha256 NOT IN (SELECT code_sha256 FROM function_versions)")
        self._retire(function)

    async def get_function(self, function: str) -> Function:
        with self.store.reading() as db:
            return self._function(self._current(db, function, "get_function"))

    async def list_functions(self) -> list[Function]:
        with self.store.reading() as db:
            return [self._function(tuple(row)) for row in db.execute(CURRENT + " ORDER BY f.name").fetchall()]

    # -- invocations -------------------------------------------------------------
    async def invoke_function(self, function: str, payload: bytes) -> Invocation:
        """Run the current version's handler on ``payload`` in a worker process (warm if one is idle)."""
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise ValidationError(
                f"payload: {len(payload):,} bytes is over the 6 MB ({MAX_PAYLOAD_BYTES:,} bytes) limit of an invocation",
                field="payload",
                rule="<= 6 MB",
            )
        payload = payload or b"{}"
        try:
            json.loads(payload)
        except ValueError:
            raise ValidationError("payload: must be a JSON document", field="payload", rule="JSON") from None
        with self.store.transaction() as db:
            now = self._now(db)
            row = self._current(db, function, "invoke_function")
            name, version, runtime, handler, memory, timeout, env, reserved, sha, _, _ = row
            limit = self.config.function_concurrency if reserved is None else reserved
            counter = int(self.store.meta(db, "invocation_counter", "0") or 0)
            request_id = self._request_id(counter)
            self._take_slot(db, name, limit, request_id, now)
            self.store.set_meta(db, "invocation_counter", str(counter + 1))
        spec = WorkerSpec(
            name, version, runtime, handler, memory, timeout, tuple(sorted(json.loads(env).items())), sha, self.config.region
        )
        try:
            self.function_pool.reap(now)
            future = self.function_pool.submit(self._run_invocation, spec, request_id, payload, now)
        except BaseException:
            self._release_slot(request_id)
            raise
        # a cancelled await leaves the invocation running: its thread records it and frees the slot;
        # one cancelled before it started never reached a worker, so only its slot is freed

        def release_if_never_run(done: concurrent.futures.Future[Invocation]) -> None:
            if done.cancelled():
                self._release_slot(request_id)

        future.add_done_callback(release_if_never_run)
        return await asyncio.wrap_future(future)

    def _take_slot(self, db: sqlite3.Connection, name: str, limit: int, request_id: str, now: float) -> None:
        """Take one of ``name``'s ``limit`` concurrency slots in the shared store (every session on the
        state file counts), or raise QuotaExceededError; slots of processes that are gone are freed."""
        for (pid,) in db.execute("SELECT DISTINCT pid FROM function_slots WHERE pid != ?", (os.getpid(),)).fetchall():
            if not _process_exists(pid):
                db.execute("DELETE FROM function_slots WHERE pid = ?", (pid,))
        (running,) = db.execute("SELECT COUNT(*) FROM function_slots WHERE function = ?", (name,)).fetchone()
        if running >= limit:
            raise QuotaExceededError(
                f"Rate exceeded (TooManyRequestsException): function {name!r} is already running {limit} "
                f"invocation(s), its concurrency limit",
                provider=self.name,
                operation="invoke_function",
                cause="More concurrent invocations than the function's concurrency limit (throttled)",
                solution="Retry with backoff, or raise reserved_concurrency with update_function",
            )
        db.execute("INSERT INTO function_slots VALUES (?, ?, ?, ?)", (request_id, name, os.getpid(), now))

    def _release_slot(self, request_id: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM function_slots WHERE request_id = ?", (request_id,))

    def _run_invocation(self, spec: WorkerSpec, request_id: str, payload: bytes, now: float) -> Invocation:
        """Run, record and bill one invocation, then free its slot (on a pool thread)."""
        try:
            pool = self._function_pool
            if pool is None:
                raise RuntimeError("the function runtime is closed")
            outcome = pool.invoke(spec, request_id, payload, lambda: self._code(spec.code_sha256))
            return self._record_invocation(spec, request_id, payload, now, outcome)
        finally:
            self._release_slot(request_id)

    def _record_invocation(self, spec: WorkerSpec, request_id: str, payload: bytes, now: float, outcome: Outcome) -> Invocation:
        """Write the invocation to the history; what it cost follows from the row."""
        rule = self.function_billing
        duration_ms = round(outcome.duration_ms, 3)  # to the microsecond, the same everywhere it is shown or billed
        init_ms = None if outcome.init_ms is None else round(outcome.init_ms, 3)
        billed = int(rule.billed_ms(duration_ms, init_ms or 0.0))
        error = outcome.error or {}
        with self.store.transaction() as db:
            db.execute(
                f"INSERT INTO invocations({INVOCATION_COLUMNS}) VALUES ({', '.join('?' * 15)})",
                (
                    request_id,
                    spec.name,
                    spec.version,
                    now,
                    outcome.status,
                    error.get("errorType"),
                    error.get("errorMessage"),
                    int(outcome.cold_start),
                    duration_ms,
                    init_ms,
                    spec.memory_mb,
                    outcome.memory_used_mb,
                    len(payload),
                    len(outcome.body),
                    outcome.logs,
                ),
            )
        return Invocation(
            request_id=request_id,
            function=spec.name,
            version=spec.version,
            provider=self.name,
            status=outcome.status,
            payload=outcome.body,
            error=outcome.error,
            logs=outcome.logs,
            duration_ms=duration_ms,
            init_ms=init_ms,
            billed_ms=billed,
            memory_mb=spec.memory_mb,
            memory_used_mb=outcome.memory_used_mb,
            cold_start=outcome.cold_start,
            started_at=pd.Timestamp(now, unit="s", tz="UTC"),
            cost_usd=float(rule.cost_usd(billed, spec.memory_mb, outcome.memory_used_mb)),
        )

    def _invocation_rows(self, where: str = "", args: tuple[Any, ...] = ()) -> pd.DataFrame:
        with self.store.reading() as db:
            rows = db.execute(f"SELECT {INVOCATION_COLUMNS} FROM invocations {where} ORDER BY seq", args).fetchall()
        df = pd.DataFrame(rows, columns=[c.strip() for c in INVOCATION_COLUMNS.split(",")])
        rule = self.function_billing
        df["billed_ms"] = rule.billed_ms(df["duration_ms"].to_numpy(dtype=float), df["init_ms"].to_numpy(dtype=float))
        df["cost_usd"] = rule.cost_usd(df["billed_ms"].to_numpy(), df["memory_mb"].to_numpy(), df["memory_used_mb"].to_numpy())
        out: pd.DataFrame = df
        return out

    async def list_invocations(self, function: str | None = None) -> pd.DataFrame:
        df = self._invocation_rows("WHERE function = ?" if function else "", (function,) if function else ())
        n = len(df)
        return frames.frame(
            frames.INVOCATIONS,
            {
                "request_id": df["request_id"].to_numpy(),
                "function": df["function"].to_numpy(),
                "version": df["version"].to_numpy(),
                "provider": [self.name] * n,
                "started_at": df["at"].to_numpy(dtype=float),
                "status": df["status"].to_numpy(),
                "error_type": df["error_type"].to_numpy(),
                "error_message": df["error_message"].to_numpy(),
                "cold_start": df["cold_start"].to_numpy(dtype=bool),
                "duration_ms": df["duration_ms"].to_numpy(dtype=float),
                "init_ms": df["init_ms"].to_numpy(dtype=float),
                "billed_ms": df["billed_ms"].to_numpy(),
                "memory_mb": df["memory_mb"].to_numpy(),
                "memory_used_mb": df["memory_used_mb"].to_numpy(),
                "request_bytes": df["request_bytes"].to_numpy(),
                "response_bytes": df["response_bytes"].to_numpy(),
                "cost_usd": df["cost_usd"].to_numpy(),
                "logs": df["logs"].to_numpy(),
            },
        )

    def costs(self, lo: float, hi: float) -> pd.DataFrame:
        """One ``frames.COSTS`` row per function invoked between ``lo`` and ``hi`` (epoch seconds)."""
        df = self._invocation_rows("WHERE at >= ? AND at <= ?", (max(lo, -1e18), min(hi, 1e18)))
        per = (
            df.groupby("function", sort=True)
            .agg(billed_ms=("billed_ms", "sum"), requests=("request_id", "size"), cost_usd=("cost_usd", "sum"))
            .reset_index()
        )
        n = len(per)
        return frames.frame(
            frames.COSTS,
            {
                "provider": [self.name] * n,
                "kind": ["function"] * n,
                "resource": per["function"].to_numpy(),
                "fleet": [None] * n,
                "instance_type": [None] * n,
                "region": [self.config.region] * n,
                "spot": np.zeros(n, dtype=bool),
                "running_seconds": per["billed_ms"].to_numpy(dtype=float) / 1000.0,
                "requests": per["requests"].to_numpy(dtype=np.int64),
                "cost_usd": per["cost_usd"].round(12).to_numpy(),
                "source": ["exact"] * n,
            },
        )

    def _retire(self, name: str) -> None:
        """Stop ``name``'s idle workers, if any ever started."""
        pool = self._function_pool
        if pool is not None:
            pool.retire(name)

    def close(self) -> None:
        """Stop every worker process."""
        with _POOL_LOCK:
            pool, self._function_pool = self._function_pool, None
        if pool is not None:
            pool.close()
