"""Forget everything the local cloud holds: fleets, instances, functions, history.

>>> counts(provider)          # what a reset would delete
{'fleets': 1, 'instances': 5, 'functions': 0, 'invocations': 0}
>>> reset(provider)           # deletes it; a virtual clock goes back to its start
"""

from __future__ import annotations

from typing import Any

__all__ = ["COUNTED", "counts", "describe", "reset"]

COUNTED = ("fleets", "instances", "functions", "invocations")


def counts(provider: Any) -> dict[str, int]:
    """How many fleets, instances, functions and invocations the state holds (terminated instances included)."""
    with provider.store.reading() as db:
        return {table: int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]) for table in COUNTED}


def describe(provider: Any) -> str:
    """One line: where the state lives and what it holds, e.g. for a confirmation prompt."""
    held = ", ".join(f"{n} {table}" for table, n in counts(provider).items())
    return f"local cloud state at {provider.store.path}: {held}"


def reset(provider: Any) -> dict[str, int]:
    """Delete every row of the local cloud's state in one transaction and stop its function workers.

    A virtual clock goes back to its configured ``start``. Returns what was deleted (as ``counts``).
    """
    deleted = counts(provider)
    provider.functions.close()
    with provider.store.transaction() as db:
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        tables = [row[0] for row in db.execute(query)]
        for table in tables:
            db.execute(f'DELETE FROM "{table}"')
        if provider.clock.virtual:
            provider.store.set_meta(db, "virtual_now", repr(provider.config.start.timestamp()))
    return deleted
