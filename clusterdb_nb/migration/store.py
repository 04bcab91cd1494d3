"""Where migrations are kept: a small SQLite file, one transaction per change, and a lease per migration.

The file is ``migrations.sqlite`` next to the first local cloud's state file. A session whose local clouds
all live in memory keeps its migrations in memory too (a throwaway session: its local fleets do not outlive
the kernel either). A session without a local cloud keeps them in ``$CLUSTERDB_HOME`` (else the user data
dir), beside the default ``local.db``.

A session that drives a migration holds its lease (``LEASE_SECONDS`` on the wall clock, renewed while it
drives); another session that tries to drive it meanwhile gets a ConflictError. A crashed driver's lease runs out.

>>> store = MigrationStore(":memory:")
>>> store.insert("mig-1", {"status": "planned"}, at=0.0)
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import ConflictError, NotFoundError, ValidationError

__all__ = ["default_path", "LEASE_SECONDS", "MigrationStore"]

LEASE_SECONDS = 60.0
BUSY_TIMEOUT_SECONDS = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS migrations(
    id TEXT PRIMARY KEY, state TEXT NOT NULL, created_at REAL NOT NULL,
    owner TEXT, lease_until REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS history(
    seq INTEGER PRIMARY KEY, migration TEXT NOT NULL, at REAL NOT NULL, event TEXT NOT NULL,
    source_capacity INTEGER NOT NULL, target_capacity INTEGER NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS history_migration ON history(migration, seq);
"""


def default_path(local_paths: list[str]) -> str:
    """The store's file: beside the first local state file, ``:memory:`` when every local cloud is, else the data dir.

    >>> default_path(["/data/local.db"])
    '/data/migrations.sqlite'
    """
    files = [p for p in local_paths if p != ":memory:"]
    if files:
        return str(Path(files[0]).parent / "migrations.sqlite")
    if local_paths:
        return ":memory:"
    home = os.environ.get("CLUSTERDB_HOME")
    if not home:
        import platformdirs

        home = platformdirs.user_data_dir("clusterdb-nb", appauthor=False)
    Path(home).mkdir(parents=True, exist_ok=True)
    return str(Path(home) / "migrations.sqlite")


class MigrationStore:
    """Migrations (their state as JSON) and their history, in one SQLite file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_SECONDS)
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise ValidationError(
                f"migrations: cannot use {path!r} as the migration store ({exc})",
                field="migrations",
                rule="a writable SQLite file",
                solution="Give the local cloud a writable path, or set $CLUSTERDB_HOME to a writable folder",
            ) from None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; an exception rolls it back."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise ConflictError(
                    f"another session is writing to {self.path} ({exc})",
                    cause="Another session holds the migration store's write lock",
                    solution="Retry in a moment",
                ) from None
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def insert(self, migration: str, state: dict[str, Any], at: float) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO migrations(id, state, created_at) VALUES (?, ?, ?)", (migration, json.dumps(state), at))

    def load(self, migration: str) -> dict[str, Any]:
        with self.transaction() as db:
            row = db.execute("SELECT state FROM migrations WHERE id = ?", (migration,)).fetchone()
        if row is None:
            raise NotFoundError(
                f"no migration {migration!r} in {self.path}",
                operation="migration",
                solution="List them with s.migrations()",
            )
        state: dict[str, Any] = json.loads(row[0])
        return state

    def save(self, migration: str, state: dict[str, Any], event: tuple[float, str, int, int, str] | None = None) -> None:
        """Store ``state`` and, with it in one transaction, the history ``event`` (at, event, source, target, detail)."""
        with self.transaction() as db:
            db.execute("UPDATE migrations SET state = ? WHERE id = ?", (json.dumps(state), migration))
            if event is not None:
                db.execute(
                    "INSERT INTO history(migration, at, event, source_capacity, target_capacity, detail) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (migration, *event),
                )

    def all(self) -> list[tuple[str, dict[str, Any], float]]:
        """Every migration: (id, state, created_at), oldest first."""
        with self.transaction() as db:
            rows = db.execute("SELECT id, state, created_at FROM migrations ORDER BY created_at, id").fetchall()
        return [(i, json.loads(s), c) for i, s, c in rows]

    def history(self, migration: str) -> list[tuple[float, str, int, int, str]]:
        with self.transaction() as db:
            rows = db.execute(
                "SELECT at, event, source_capacity, target_capacity, detail FROM history WHERE migration = ? ORDER BY seq",
                (migration,),
            ).fetchall()
        return [tuple(r) for r in rows]

    def acquire(self, migration: str, owner: str) -> None:
        """Take (or renew) ``migration``'s lease for ``owner``; ConflictError while another owner holds it."""
        now = time.time()
        with self.transaction() as db:
            row = db.execute("SELECT owner, lease_until FROM migrations WHERE id = ?", (migration,)).fetchone()
            if row is None:
                raise NotFoundError(f"no migration {migration!r} in {self.path}", operation="migration")
            holder, until = row
            if holder not in (None, owner) and until > now:
                raise ConflictError(
                    f"migration {migration!r} is being driven by another session (its lease runs {until - now:.0f} s more)",
                    operation="migration",
                    cause="Two sessions on one migration store must not both drive one migration",
                    solution="Let the other session finish, or pause it (m.pause() works from any session), "
                    "or wait for its lease to run out",
                )
            db.execute("UPDATE migrations SET owner = ?, lease_until = ? WHERE id = ?", (owner, now + LEASE_SECONDS, migration))

    def release(self, migration: str, owner: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE migrations SET owner = NULL, lease_until = 0 WHERE id = ? AND owner = ?", (migration, owner))

    def close(self) -> None:
        with self._lock:
            self._db.close()
