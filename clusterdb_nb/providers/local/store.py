"""SQLite state of the local cloud: one transaction per operation.

Instances carry their next scheduled transition (``next_state`` at
``next_at``, recorded with the ``next_cause`` that scheduled it); ``settle(now)`` applies every due one and records it, so the
wall clock and the virtual clock behave alike and every state change lands in
``transitions`` with the time it really happened.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ...errors import ConflictError, ValidationError
from ...models import LATEST_TIME

__all__ = ["BUSY_TIMEOUT_SECONDS", "SCHEMA", "Store"]

# How long an operation waits for another session's write before it fails with ConflictError. Writes
# are single transactions of milliseconds, so ten seconds serves many concurrent sessions with margin.
BUSY_TIMEOUT_SECONDS = 10.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS fleets(
    name TEXT PRIMARY KEY, description TEXT NOT NULL, instance_type TEXT NOT NULL,
    spot INTEGER NOT NULL, capacity INTEGER NOT NULL, min_capacity INTEGER NOT NULL,
    max_capacity INTEGER NOT NULL, tags TEXT NOT NULL, networking TEXT NOT NULL,
    image TEXT, auto_scaling TEXT, load TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS instances(
    id TEXT PRIMARY KEY, fleet TEXT, instance_type TEXT NOT NULL, spot INTEGER NOT NULL,
    price_usd REAL NOT NULL, state TEXT NOT NULL, state_since REAL NOT NULL,
    next_state TEXT, next_at REAL, launched_at REAL NOT NULL, private_ip TEXT NOT NULL,
    tags TEXT NOT NULL, next_cause TEXT);
CREATE INDEX IF NOT EXISTS instances_fleet ON instances(fleet, state);
CREATE INDEX IF NOT EXISTS instances_due ON instances(next_at) WHERE next_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS transitions(
    seq INTEGER PRIMARY KEY, instance_id TEXT NOT NULL, fleet TEXT, at REAL NOT NULL,
    state TEXT NOT NULL, cause TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS transitions_fleet ON transitions(fleet, at);
CREATE TABLE IF NOT EXISTS fleet_events(
    seq INTEGER PRIMARY KEY, fleet TEXT NOT NULL, at REAL NOT NULL,
    from_capacity INTEGER NOT NULL, to_capacity INTEGER NOT NULL, cause TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS fleet_events_fleet ON fleet_events(fleet, at);
CREATE TABLE IF NOT EXISTS functions(name TEXT PRIMARY KEY, version INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS function_versions(
    name TEXT NOT NULL, version INTEGER NOT NULL, runtime TEXT NOT NULL, handler TEXT NOT NULL,
    memory_mb INTEGER NOT NULL, timeout_sec INTEGER NOT NULL, environment TEXT NOT NULL,
    reserved_concurrency INTEGER, code_sha256 TEXT NOT NULL, code_size INTEGER NOT NULL,
    created_at REAL NOT NULL, PRIMARY KEY(name, version));
CREATE TABLE IF NOT EXISTS function_code(sha256 TEXT PRIMARY KEY, zip BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS invocations(
    seq INTEGER PRIMARY KEY, request_id TEXT NOT NULL, function TEXT NOT NULL, version INTEGER NOT NULL,
    at REAL NOT NULL, status TEXT NOT NULL, error_type TEXT, error_message TEXT, cold_start INTEGER NOT NULL,
    duration_ms REAL NOT NULL, init_ms REAL, memory_mb INTEGER NOT NULL, memory_used_mb INTEGER NOT NULL,
    request_bytes INTEGER NOT NULL, response_bytes INTEGER NOT NULL, logs TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS invocations_function ON invocations(function, at);
CREATE TABLE IF NOT EXISTS security_groups(name TEXT PRIMARY KEY, ingress TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS schedules(
    fleet TEXT NOT NULL, name TEXT NOT NULL, cron TEXT NOT NULL, timezone TEXT NOT NULL, capacity INTEGER NOT NULL,
    min_capacity INTEGER, max_capacity INTEGER, next_at REAL NOT NULL, PRIMARY KEY(fleet, name));
CREATE TABLE IF NOT EXISTS function_slots(
    request_id TEXT PRIMARY KEY, function TEXT NOT NULL, pid INTEGER NOT NULL, at REAL NOT NULL);
"""


class Store:
    """One SQLite connection, serialized by a lock, WAL on files.

    >>> store = Store(":memory:")
    >>> with store.transaction() as db:
    ...     db.execute("INSERT INTO meta VALUES ('k', 'v')")
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._closed = False
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_SECONDS)
        except (sqlite3.Error, ValueError) as exc:
            raise self._unusable(exc) from None
        try:
            with self._translated():
                if path != ":memory:":
                    self._db.execute("PRAGMA journal_mode = WAL")
                    self._db.execute("PRAGMA synchronous = NORMAL")
                self._db.executescript(SCHEMA)
        except BaseException:
            self._db.close()
            raise

    def _unusable(self, exc: Exception) -> ValidationError:
        return ValidationError(
            f"local.path: cannot use {self.path!r} as the local cloud's state file ({exc})",
            field="local.path",
            rule="a writable SQLite file (or ':memory:')",
            provider="local",
            cause="The path is a directory, a file that is not a SQLite database, not writable, or not a valid file name",
            solution="Set local.path to a new or existing state file such as '~/clusterdb/local.db', or ':memory:'",
        )

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """SQLite's raw errors as ours: a lock held too long is a ConflictError, a bad file a ValidationError."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise ConflictError(
                    f"another session is writing to {self.path}; waited {BUSY_TIMEOUT_SECONDS:g} s",
                    provider="local",
                    cause="Another session or process holds the state file's write lock",
                    solution="Retry when its long operation (e.g. a large advance) is done, or close the other session",
                ) from None
            if not self._closed and ("unable to open" in str(exc) or "readonly" in str(exc) or "disk I/O" in str(exc)):
                raise self._unusable(exc) from None
            raise
        except sqlite3.DatabaseError as exc:
            if type(exc) is sqlite3.DatabaseError:  # "file is not a database"
                raise self._unusable(exc) from None
            raise

    def _check_open(self) -> None:
        if self._closed:
            raise ConflictError(
                "this session is closed",
                provider="local",
                cause="close() was called on the session (or it was garbage-collected)",
                solution="Open a new session: s = clusterdb_nb.connect(...)",
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; any exception rolls everything back."""
        with self._lock, self._translated():
            self._check_open()
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A consistent read (``BEGIN`` ... ``COMMIT``)."""
        with self._lock, self._translated():
            self._check_open()
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                self._db.execute("COMMIT")

    def meta(self, db: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def clock(self, db: sqlite3.Connection) -> float:
        """The virtual clock (epoch seconds); a stored value that is not a time names the repair."""
        text = self.meta(db, "virtual_now")
        try:
            now = float(text or 0.0)
        except ValueError:
            now = math.nan
        if not 0 <= now <= LATEST_TIME:  # also False for NaN
            row = db.execute(
                "SELECT MAX(t) FROM (SELECT MAX(at) AS t FROM transitions UNION ALL SELECT MAX(at) FROM fleet_events "
                "UNION ALL SELECT MAX(created_at) FROM fleets UNION ALL SELECT MAX(at) FROM invocations) "
                "WHERE t BETWEEN 0 AND ?",
                (LATEST_TIME,),
            ).fetchone()
            good = row[0] if row[0] is not None else 1_767_571_200.0
            repair = (
                f"import sqlite3; sqlite3.connect({self.path!r}).execute(\"UPDATE meta SET value = '{good!r}' "
                f"WHERE key = 'virtual_now'\").connection.commit()"
            )
            raise ConflictError(
                f"the virtual clock in {self.path} holds {text!r}, which is not a time",
                provider="local",
                cause="An older version stored a non-finite or out-of-range clock (e.g. advance(float('nan')))",
                solution=f"Reset the clock to the last recorded event, then reconnect: {repair}",
            )
        return now

    def set_clock(self, db: sqlite3.Connection, now: float) -> None:
        """Store the virtual clock; a non-finite or out-of-range time is refused, so the file stays readable."""
        if not (isinstance(now, (int, float)) and 0 <= now <= LATEST_TIME):
            raise ValidationError(
                f"clock: {now!r} is not a time between 1970 and 2250",
                field="clock",
                rule="0 <= epoch seconds <= 2250-01-01",
                provider="local",
                solution="Advance by a finite duration; the virtual clock cannot go past 2250",
            )
        self.set_meta(db, "virtual_now", repr(float(now)))

    def settle(self, db: sqlite3.Connection, now: float) -> None:
        """Apply and record every scheduled transition due at ``now``."""
        due = db.execute(
            "SELECT id, fleet, next_at, next_state, next_cause FROM instances WHERE next_at <= ? ORDER BY next_at", (now,)
        ).fetchall()
        if not due:
            return
        db.executemany("INSERT INTO transitions(instance_id, fleet, at, state, cause) VALUES (?, ?, ?, ?, ?)", due)
        db.executemany(
            "UPDATE instances SET state = ?, state_since = ?, next_state = NULL, next_at = NULL, next_cause = NULL WHERE id = ?",
            [(state, at, iid) for iid, _, at, state, _ in due],
        )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._db.close()
