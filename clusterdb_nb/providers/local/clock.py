"""The local cloud's clock: the wall clock, or a virtual one advanced by hand.

>>> clock = VirtualClock(store, start=1_767_571_200.0)
>>> clock.advance(parse_duration("30min"))
"""

from __future__ import annotations

import math
import re
import sqlite3
import time
from datetime import timedelta

import pandas as pd

from ...errors import ConflictError, ValidationError
from .store import Store

HORIZON_SECONDS = 10 * 365 * 86400.0  # the longest single advance: ten years


def parse_duration(value: str | float | int | timedelta | pd.Timedelta) -> float:
    """Seconds in ``"2h"``, ``"30min"``, ``"1d 6h"``, a number of seconds, or a timedelta.

    A duration is finite, >= 0 and at most ten years (``HORIZON_SECONDS``)::

        >>> parse_duration("1d 6h")
        108000.0
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif value is not None:
        try:
            text = re.sub(r"(?<=\d)\s*d\b", "D", value) if isinstance(value, str) else value
            seconds = pd.Timedelta(text).total_seconds()
        except (ValueError, TypeError, OverflowError):
            seconds = math.nan
    else:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise ValidationError(
            f"duration: {value!r} is not a duration such as '30min', '2h', '1d' or a number of seconds",
            field="duration",
            rule="finite pandas Timedelta string or seconds",
        )
    if not 0 <= seconds <= HORIZON_SECONDS:
        raise ValidationError(
            f"duration: must be between 0 and 10 years (got {value!r})",
            field="duration",
            rule="0 <= duration <= 3650 days",
            solution="Advance by a non-negative duration of at most '3650d', in several steps if you need more",
        )
    return seconds


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
