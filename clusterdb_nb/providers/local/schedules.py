"""Capacity schedules on the local cloud, fired on its own clock (wall or virtual).

Each schedule is a row of the state file with its next firing (``next_at``). The
catch-up that runs before every operation, and ``advance``, fire every schedule
due by then in time order; before each firing the live autoscaler catches up to
that instant, so policies and schedules interleave as they would on a cloud. A
firing sets the fleet's bounds (and its policy's, whose engine then starts afresh) and capacity through the one capacity path
(``FleetState.set_capacity``), so it lands in ``scaling_activities`` with the
reason ``schedule <name>: ...``::

    >>> s.schedule_capacity("web", cron="0 19 * * MON-FRI", capacity=0, timezone="Europe/Berlin")
    >>> s.local.advance("7d")   # fires each weekday at 19:00 Berlin time, DST included
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ...errors import NotFoundError
from ...models import AutoScalingConfig, CapacitySchedule
from .fleet_state import FleetState

__all__ = ["LocalSchedules"]

_COLUMNS = "fleet, name, cron, timezone, capacity, min_capacity, max_capacity"


class LocalSchedules:
    """The schedules of one local cloud section, read and changed inside the caller's transaction."""

    def __init__(
        self, fleets: FleetState, reset_policy: Callable[[sqlite3.Connection, str, AutoScalingConfig, float], None]
    ) -> None:
        self.fleets = fleets
        self.reset_policy = reset_policy

    def put(self, db: sqlite3.Connection, schedule: CapacitySchedule, now: float) -> CapacitySchedule:
        """Create or replace ``schedule``; it first fires after ``now``."""
        self.fleets.fleet_row(db, schedule.fleet, "put_schedule")  # NotFoundError for a fleet that is gone
        first = schedule.next_run(now).timestamp()
        db.execute(
            f"INSERT OR REPLACE INTO schedules({_COLUMNS}, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (*self._values(schedule), first),
        )
        return schedule._replace(provider=self.fleets.name)

    @staticmethod
    def _values(s: CapacitySchedule) -> tuple[object, ...]:
        return (s.fleet, s.name, s.cron, s.timezone, s.capacity, s.min_capacity, s.max_capacity)

    def _model(self, row: tuple[object, ...]) -> CapacitySchedule:
        return CapacitySchedule(**dict(zip(_COLUMNS.split(", "), row)), provider=self.fleets.name)

    def list(self, db: sqlite3.Connection, fleet: str | None) -> list[CapacitySchedule]:
        where, args = (" WHERE fleet = ?", (fleet,)) if fleet else ("", ())
        rows = db.execute(f"SELECT {_COLUMNS} FROM schedules{where} ORDER BY fleet, name", args).fetchall()
        return [self._model(r) for r in rows]

    def delete(self, db: sqlite3.Connection, fleet: str, name: str) -> None:
        if not db.execute("DELETE FROM schedules WHERE fleet = ? AND name = ?", (fleet, name)).rowcount:
            raise NotFoundError(
                f"fleet {fleet!r} has no schedule {name!r}", provider=self.fleets.name, operation="delete_schedule"
            )

    def delete_fleet(self, db: sqlite3.Connection, fleet: str) -> None:
        db.execute("DELETE FROM schedules WHERE fleet = ?", (fleet,))

    def catch_up(self, db: sqlite3.Connection, until: float, before_each: Callable[[float], None]) -> None:
        """Fire every schedule due by ``until``, oldest firing first; ``before_each(at)`` brings the cloud to ``at``."""
        while True:
            row = db.execute(
                f"SELECT {_COLUMNS}, next_at FROM schedules WHERE next_at <= ? ORDER BY next_at, fleet, name LIMIT 1",
                (until,),
            ).fetchone()
            if row is None:
                return
            schedule, at = self._model(row[:-1]), float(row[-1])
            before_each(at)
            self._fire(db, schedule, at)
            db.execute(
                "UPDATE schedules SET next_at = ? WHERE fleet = ? AND name = ?",
                (schedule.next_run(at).timestamp(), schedule.fleet, schedule.name),
            )

    def _fire(self, db: sqlite3.Connection, s: CapacitySchedule, at: float) -> None:
        """Set the fleet's bounds (unset ones widened to hold the capacity) and its capacity, recorded at ``at``."""
        capacity, lo, hi, policy = db.execute(
            "SELECT capacity, min_capacity, max_capacity, auto_scaling FROM fleets WHERE name = ?", (s.fleet,)
        ).fetchone()
        lo, hi = s.bounds_after(lo, hi)
        db.execute("UPDATE fleets SET min_capacity = ?, max_capacity = ? WHERE name = ?", (lo, hi, s.fleet))
        if policy is not None:  # the policy's bounds follow (AWS: MinSize/MaxSize), its engine starts afresh
            bounded = AutoScalingConfig.model_validate_json(policy)._replace(min_capacity=lo, max_capacity=hi)
            db.execute("UPDATE fleets SET auto_scaling = ? WHERE name = ?", (bounded.model_dump_json(), s.fleet))
            self.reset_policy(db, s.fleet, bounded, at)
        cause = f"schedule {s.name}: '{s.cron}' {s.timezone} sets capacity {s.capacity} (bounds [{lo}, {hi}])"
        self.fleets.set_capacity(db, s.fleet, capacity, s.capacity, at, cause)
