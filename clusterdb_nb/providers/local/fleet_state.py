"""The local cloud's fleets and instances in SQLite, and the instance state machine.

Instances move pending -> running -> stopping -> stopped -> ... as a real
cloud's do, with boot and stop delays on the local clock. A fleet keeps its
desired capacity like an Auto Scaling group: a terminated member is
replaced, a scale-in terminates stopped members first, then the newest.
``set_capacity`` is the one capacity path: API calls and the live autoscaler
both go through it, so every change lands in ``fleet_events`` with its cause::

    >>> with fleets.store.transaction() as db:
    ...     fleets.set_capacity(db, "web", old=2, new=5, now=now, cause="update_fleet_capacity")
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import pandas as pd

from ...config import LocalConfig
from ...errors import ConflictError, NotFoundError
from ...models import AutoScalingConfig, Fleet, Instance, InstanceState
from .load import stable_key
from .store import Store

__all__ = ["ACTIVE", "FLEET_COLUMNS", "FleetState", "INSTANCE_COLUMNS", "Step"]

ACTIVE = ("pending", "running", "stopping", "stopped")
INSTANCE_COLUMNS = "id, fleet, instance_type, spot, price_usd, state, state_since, launched_at, private_ip, tags"
FLEET_COLUMNS = "name, description, instance_type, spot, capacity, min_capacity, max_capacity, tags, auto_scaling, created_at"
Step = tuple[str, str, float]
"""(state now, the state it settles into, after how many seconds)."""


class FleetState:
    """Fleets and instances of one local cloud section, read and changed inside the caller's transaction."""

    def __init__(self, name: str, config: LocalConfig, store: Store, hourly_price: Callable[[str, bool], float]) -> None:
        self.name = name
        self.config = config
        self.store = store
        self.hourly_price = hourly_price

    def fleet_row(self, db: sqlite3.Connection, name: str, operation: str) -> tuple[Any, ...]:
        row: tuple[Any, ...] | None = db.execute(f"SELECT {FLEET_COLUMNS} FROM fleets WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFoundError(f"no fleet named {name!r}", provider=self.name, operation=operation)
        return row

    def fleet(self, db: sqlite3.Connection, row: tuple[Any, ...]) -> Fleet:
        name, description, itype, spot, capacity, lo, hi, tags, scaling, created = row
        running = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(price_usd), 0) FROM instances WHERE fleet = ? AND state = 'running'", (name,)
        ).fetchone()
        return Fleet(
            id=name,
            name=name,
            provider=self.name,
            region=self.config.region,
            instance_type=itype,
            capacity=capacity,
            min_capacity=lo,
            max_capacity=hi,
            running=running[0],
            description=description,
            spot=bool(spot),
            tags=json.loads(tags),
            created_at=pd.Timestamp(created, unit="s", tz="UTC"),
            auto_scaling=AutoScalingConfig.model_validate_json(scaling) if scaling else None,
            hourly_cost_usd=round(running[1], 6),
        )

    def instance(self, row: tuple[Any, ...]) -> Instance:
        iid, fleet, itype, spot, _price, state, since, launched, ip, tags = row
        return Instance(
            id=iid,
            provider=self.name,
            region=self.config.region,
            instance_type=itype,
            state=InstanceState(state),
            fleet=fleet,
            spot=bool(spot),
            launched_at=pd.Timestamp(launched, unit="s", tz="UTC"),
            state_since=pd.Timestamp(since, unit="s", tz="UTC"),
            private_ip=ip,
            tags=json.loads(tags),
        )

    def instance_row(self, db: sqlite3.Connection, iid: str, operation: str) -> tuple[Any, ...]:
        row: tuple[Any, ...] | None = db.execute(f"SELECT {INSTANCE_COLUMNS} FROM instances WHERE id = ?", (iid,)).fetchone()
        if row is None:
            raise NotFoundError(f"no instance {iid!r}", provider=self.name, operation=operation)
        return row

    def _next_ids(self, db: sqlite3.Connection, n: int) -> list[tuple[str, str]]:
        """``n`` new (instance id, private ip) pairs, deterministic for a seed."""
        start = int(self.store.meta(db, "instance_counter", "0") or 0)
        self.store.set_meta(db, "instance_counter", str(start + n))
        key = stable_key(self.config.seed, "instances")
        out = []
        for k in range(start, start + n):
            h = (key * 0x9E3779B97F4A7C15 + k * 0xBF58476D1CE4E5B9) % (1 << 68)
            out.append((f"i-{h:017x}", f"10.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}"))
        return out

    def _record(self, db: sqlite3.Connection, rows: list[tuple[str, str | None, float, str, str]]) -> None:
        db.executemany("INSERT INTO transitions(instance_id, fleet, at, state, cause) VALUES (?, ?, ?, ?, ?)", rows)

    def _launch(
        self, db: sqlite3.Connection, fleet: str | None, itype: str, spot: bool, tags: str, n: int, now: float, cause: str
    ) -> list[str]:
        price = self.hourly_price(itype, spot)
        ready = now + self.config.boot_seconds
        ids = self._next_ids(db, n)
        db.executemany(
            "INSERT INTO instances VALUES (?, ?, ?, ?, ?, 'pending', ?, 'running', ?, ?, ?, ?, ?)",
            [(iid, fleet, itype, int(spot), price, now, ready, now, ip, tags, cause) for iid, ip in ids],
        )
        self._record(db, [(iid, fleet, now, "pending", cause) for iid, _ in ids])
        return [iid for iid, _ in ids]

    def launch_standalone(
        self, db: sqlite3.Connection, name: str, itype: str, spot: bool, tags: dict[str, str], now: float
    ) -> str:
        """Launch one instance outside any fleet, named by its ``Name`` tag; a live one of that name is a conflict."""
        taken = db.execute(
            "SELECT id FROM instances WHERE fleet IS NULL AND json_extract(tags, '$.Name') = ? "
            "AND state IN ('pending','running','stopping','stopped')",
            (name,),
        ).fetchone()
        if taken:
            raise ConflictError(
                f"instance {name!r} already exists ({taken[0]})",
                provider=self.name,
                operation="create_instance",
                cause=f"A standalone instance named {name!r} is not terminated",
                solution="Pick another name, or terminate the existing instance first",
            )
        return self._launch(db, None, itype, spot, json.dumps({**tags, "Name": name}), 1, now, "create_instance")[0]

    def transition(
        self,
        db: sqlite3.Connection,
        ids: list[str],
        fleet: str | None,
        now: float,
        state: str,
        then: str,
        delay: float,
        cause: str,
    ) -> None:
        db.executemany(
            "UPDATE instances SET state = ?, state_since = ?, next_state = ?, next_at = ?, next_cause = ? WHERE id = ?",
            [(state, now, then, now + delay, cause, iid) for iid in ids],
        )
        self._record(db, [(iid, fleet, now, state, cause) for iid in ids])

    def reconcile(self, db: sqlite3.Connection, fleet: str, now: float, cause: str) -> None:
        """Launch or terminate members until the active count equals desired capacity."""
        itype, spot, capacity, tags = db.execute(
            "SELECT instance_type, spot, capacity, tags FROM fleets WHERE name = ?", (fleet,)
        ).fetchone()
        active = db.execute(
            "SELECT id FROM instances WHERE fleet = ? AND state IN ('pending','running','stopping','stopped') "
            "ORDER BY CASE state WHEN 'stopped' THEN 0 WHEN 'stopping' THEN 1 WHEN 'pending' THEN 2 ELSE 3 END, "
            "launched_at DESC, id DESC",
            (fleet,),
        ).fetchall()
        if len(active) < capacity:
            self._launch(db, fleet, itype, bool(spot), tags, capacity - len(active), now, cause)
        elif len(active) > capacity:
            victims = [r[0] for r in active[: len(active) - capacity]]
            self.transition(db, victims, fleet, now, "terminating", "terminated", self.config.terminate_seconds, cause)

    def set_capacity(self, db: sqlite3.Connection, fleet: str, old: int, new: int, now: float, cause: str) -> None:
        """Set ``fleet``'s desired capacity, record the change, and launch or terminate members to match."""
        db.execute("UPDATE fleets SET capacity = ? WHERE name = ?", (new, fleet))
        db.execute(
            "INSERT INTO fleet_events(fleet, at, from_capacity, to_capacity, cause) VALUES (?, ?, ?, ?, ?)",
            (fleet, now, old, new, cause),
        )
        self.reconcile(db, fleet, now, cause)

    def change(
        self, db: sqlite3.Connection, instance_id: str, operation: str, allowed: dict[str, Step | None], now: float
    ) -> Instance:
        """Apply ``operation``: ``allowed`` maps a current state to its ``Step``, or None for a no-op."""
        row = self.instance_row(db, instance_id, operation)
        state, fleet = row[5], row[1]
        if state not in allowed:
            raise ConflictError(
                f"cannot {operation.split('_')[0]} instance {instance_id} while it is {state}",
                provider=self.name,
                operation=operation,
            )
        step = allowed[state]
        if step is not None:
            self.transition(db, [instance_id], fleet, now, step[0], step[1], step[2], operation)
            if operation == "terminate_instance" and fleet is not None:
                self.reconcile(db, fleet, now, "replace_terminated")
            self.store.settle(db, now)
        return self.instance(self.instance_row(db, instance_id, operation))
