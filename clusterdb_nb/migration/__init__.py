"""Cross-provider migration (the seed's ``create_migration``): plan, run, pause, resume, roll back, persisted.

    >>> cfg = MigrationConfig(source_fleet="web", target_provider="local-b", strategy="rolling", batch_size=2)
    >>> s.create_migration(cfg, dry_run=True)   # the plan: steps, both fleets' capacity and $/h after each
    >>> m = s.create_migration(cfg)             # a Migration handle, status "planned"
    >>> m.run()                                 # completed, or paused at a failed health gate (m.reason)
    >>> s.migrations()                          # every migration of the store, with its progress

See ``engine`` for how a migration progresses and ``store`` for where it is kept.
"""

from __future__ import annotations

import uuid
import weakref
from typing import Any

import pandas as pd

from .. import frames
from .engine import ACTIVE, Migration, check_health, start
from .plan import MigrationSession, blueprint, forward_steps, plan_frame
from .store import MigrationStore, default_path

__all__ = [
    "ACTIVE",
    "attach",
    "create",
    "Migration",
    "MIGRATIONS_COLUMNS",
    "migrations_frame",
    "MigrationStore",
    "preview",
    "store_of",
]

MIGRATIONS_COLUMNS = [
    "id",
    "source_provider",
    "source_fleet",
    "target_provider",
    "target_fleet",
    "strategy",
    "status",
    "phase",
    "step",
    "steps",
    "progress",
    "source_capacity",
    "target_capacity",
    "reason",
    "created_at",
    "updated_at",
]


def store_of(session: Any) -> tuple[MigrationStore, str]:
    """The session's migration store (opened once, closed with the session) and its lease owner id."""
    found: tuple[MigrationStore, str] | None = session.__dict__.get("_migration_store")
    if found is None:
        providers = session.manager.providers.values()
        paths = [str(p.store.path) for p in providers if getattr(p, "kind", "") == "local" and hasattr(p, "store")]
        store = MigrationStore(default_path(paths))
        weakref.finalize(session, store.close)
        found = session.__dict__["_migration_store"] = (store, f"session-{uuid.uuid4().hex[:12]}")
    return found


def preview(session: MigrationSession, config: Any) -> pd.DataFrame:
    """The plan frame of ``config`` (``plan.plan_frame``), checked against the clouds; nothing changes."""
    bp = blueprint(session, config)
    return plan_frame(bp, forward_steps(bp), bp["source"]["capacity"], 0)


def _checks(session: Any) -> dict[str, Any]:
    """The health checks this session was given, by migration id (code is not stored: they last as long as it)."""
    found: dict[str, Any] = session.__dict__.setdefault("_migration_checks", {})
    return found


def create(session: MigrationSession, config: Any) -> Migration:
    """A new, planned migration of ``config`` in the session's store."""
    store, owner = store_of(session)
    m = start(session, store, config, owner)
    if config.health_check is not None:
        _checks(session)[m.id] = config.health_check
    return m


def attach(session: MigrationSession, migration_id: str, health_check: Any = None) -> Migration:
    """A handle on a stored migration, with ``health_check``, else the one this session was given for it."""
    store, owner = store_of(session)
    checks = _checks(session)
    if health_check is not None:
        checks[migration_id] = check_health(health_check)
    return Migration(session, store, migration_id, owner, checks.get(migration_id))


def migrations_frame(session: Any) -> pd.DataFrame:
    """One row per stored migration, oldest first, with its progress (0..1)."""
    store, owner = store_of(session)
    rows = []
    for mid, st, created in store.all():
        bp = st["blueprint"]
        m = Migration(session, store, mid, owner)
        rows.append(
            (
                mid,
                bp["source"]["provider"],
                bp["source"]["fleet"],
                bp["target"]["provider"],
                bp["target"]["fleet"],
                bp["strategy"],
                st["status"],
                st["phase"],
                st["cursor"],
                len(st["steps"]),
                m.progress,
                int(st["source_capacity"] or 0),
                int(st["target_capacity"] or 0),
                st["reason"],
                created,
                st["updated_at"],
            )
        )
    df = pd.DataFrame(rows, columns=MIGRATIONS_COLUMNS)
    for column in ("created_at", "updated_at"):
        df[column] = frames.utc(df[column].to_numpy(dtype=float))
    out: pd.DataFrame = df.astype(
        {"step": "int64", "steps": "int64", "progress": "float64", "source_capacity": "int64", "target_capacity": "int64"}
    )
    return out
