"""The local cloud's clock: the wall clock, or a virtual one advanced by hand.

>>> clock = VirtualClock(store, start=1_767_571_200.0)
>>> clock.advance(1800.0)
"""

from __future__ import annotations

import sqlite3
import time

from ...errors import ConflictError
from .store import Store

__all__ = ["VirtualClock", "WallClock"]


class WallClock:
    """Real time. ``advance`` is refused: time passes by itself."""

    virtual = False

    def now(self, db: sqlite3.Connection | None = None) -> float:
        return time.time()

    def advance(self, seconds: float) -> float:
        raise ConflictError(
            "advance() needs the virtual clock",
            provider="local",
            operation="advance",
            cause="This local cloud runs on the wall clock",
            solution="connect(local={'clock': 'virtual'}) for a clock you advance by hand",
        )


class VirtualClock:
    """Time kept in the state file; it moves only when advanced."""

    virtual = True

    def __init__(self, store: Store, start: float) -> None:
        self._store = store
        with store.transaction() as db:
            if store.meta(db, "virtual_now") is None:
                store.set_clock(db, start)
            store.clock(db)  # a clock corrupted by an older version fails here, naming the repair

    def now(self, db: sqlite3.Connection | None = None) -> float:
        if db is None:
            with self._store.reading() as db:
                return self.now(db)
        return self._store.clock(db)

    def advance(self, seconds: float) -> float:
        """Move time forward; returns the new time (epoch seconds)."""
        with self._store.transaction() as db:
            now = self.now(db) + seconds
            self._store.set_clock(db, now)
            self._store.settle(db, now)
        return now
