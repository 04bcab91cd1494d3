"""The embedded local cloud: fleets and instances in SQLite, on a local clock.

Instances move pending -> running -> stopping -> stopped -> ... as a real
cloud's do, with boot and stop delays on the local clock. A fleet keeps its
desired capacity like an Auto Scaling group: a terminated member is
replaced, a scale-in terminates stopped members first, then the newest.
Functions run for real in worker processes (``functions/``, mixed in).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import numpy as np
import pandas as pd

from ... import catalog, frames
from ...autoscaling.fleet import cpu_percent
from ...config import LocalConfig
from ...errors import ConflictError, NotFoundError, ValidationError
from ...models import AutoScalingConfig, Fleet, FleetConfig, Instance, InstanceState
from ..base import ComputeProvider, ProviderStatus
from .autoscaler import LocalAutoscaler
from .clock import VirtualClock, WallClock
from .functions import LocalFunctions
from .load import LoadModel, stable_key
from .store import Store

ACTIVE = ("pending", "running", "stopping", "stopped")
INSTANCE_COLUMNS = "id, fleet, instance_type, spot, price_usd, state, state_since, launched_at, private_ip, tags"
FLEET_COLUMNS = "name, description, instance_type, spot, capacity, min_capacity, max_capacity, tags, auto_scaling, created_at"


def _decode_shared(texts: tuple[str, ...]) -> list[dict[str, str]]:
    """JSON-decode many strings that mostly repeat (a fleet's members share their tags), each row its own dict."""
    decoded = {t: json.loads(t) for t in set(texts)}
    return [dict(decoded[t]) for t in texts]


class LocalProvider(LocalFunctions, ComputeProvider):
    """The local cloud (``kind = "local"``), configured by ``LocalConfig``."""

    kind = "local"
    config_model = LocalConfig
    config: LocalConfig
    # As large as an AWS group (10,000), and small enough that one SQLite transaction launches it in a second.
    max_group_size = 10_000

    def __init__(self, config: LocalConfig, name: str | None = None) -> None:
        super().__init__(config, name)
        try:
            path = config.state_path()
        except (OSError, ValueError) as exc:
            raise ValidationError(
                f"local.path: cannot use {config.path!r} as the local cloud's state file ({exc})",
                field="local.path",
                rule="a writable file path without NUL characters (or ':memory:')",
                provider="local",
                solution="Set local.path to a new or existing state file such as '~/clusterdb/local.db', or ':memory:'",
            ) from None
        self.store = Store(path)
        self.clock: VirtualClock | WallClock = (
            VirtualClock(self.store, config.start.timestamp()) if config.clock == "virtual" else WallClock()
        )
        self.autoscaler = LocalAutoscaler(self, config.autoscaler)

    # -- helpers ---------------------------------------------------------
    def hourly_price(self, instance_type: str, spot: bool = False) -> float:
        """Local instances cost what the type costs in its own cloud's reference region."""
        return catalog.lookup(instance_type).price(spot)

    def _now(self, db: sqlite3.Connection) -> float:
        now = self.clock.now(db)
        self.autoscaler.catch_up(db, now)
        self.store.settle(db, now)
        return now

    def _fleet_row(self, db: sqlite3.Connection, name: str, operation: str) -> tuple[Any, ...]:
        row = db.execute(f"SELECT {FLEET_COLUMNS} FROM fleets WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFoundError(f"no fleet named {name!r}", provider=self.name, operation=operation)
        return row

    def _fleet(self, db: sqlite3.Connection, row: tuple[Any, ...]) -> Fleet:
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

    def _instance(self, row: tuple[Any, ...]) -> Instance:
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

    def _instance_row(self, db: sqlite3.Connection, iid: str, operation: str) -> tuple[Any, ...]:
        row = db.execute(f"SELECT {INSTANCE_COLUMNS} FROM instances WHERE id = ?", (iid,)).fetchone()
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
        self, db: sqlite3.Connection, fleet: str, itype: str, spot: bool, tags: str, n: int, now: float, cause: str
    ) -> None:
        price = self.hourly_price(itype, spot)
        ready = now + self.config.boot_seconds
        ids = self._next_ids(db, n)
        db.executemany(
            "INSERT INTO instances VALUES (?, ?, ?, ?, ?, 'pending', ?, 'running', ?, ?, ?, ?, ?)",
            [(iid, fleet, itype, int(spot), price, now, ready, now, ip, tags, cause) for iid, ip in ids],
        )
        self._record(db, [(iid, fleet, now, "pending", cause) for iid, _ in ids])

    def _transition(
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

    def _reconcile(self, db: sqlite3.Connection, fleet: str, now: float, cause: str) -> None:
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
            self._transition(db, victims, fleet, now, "terminating", "terminated", self.config.terminate_seconds, cause)

    def _set_capacity(self, db: sqlite3.Connection, fleet: str, old: int, new: int, now: float, cause: str) -> None:
        db.execute("UPDATE fleets SET capacity = ? WHERE name = ?", (new, fleet))
        db.execute(
            "INSERT INTO fleet_events(fleet, at, from_capacity, to_capacity, cause) VALUES (?, ?, ?, ?, ?)",
            (fleet, now, old, new, cause),
        )
        self._reconcile(db, fleet, now, cause)

    # -- status ------------------------------------------------------------
    async def status(self) -> ProviderStatus:
        now = pd.Timestamp(self.clock.now(), unit="s", tz="UTC")
        return ProviderStatus(
            provider=self.name,
            ok=True,
            region=self.config.region,
            account="local",
            detail=f"local cloud, {'virtual' if self.clock.virtual else 'wall'} clock at {now:%Y-%m-%d %H:%M:%S} UTC"
            + ("" if self.function_sandboxed() else f"; functions run {self.function_runtime()}"),
            facts={
                "state": self.store.path,
                "clock": "virtual" if self.clock.virtual else "wall",
                "now": now.isoformat(),
                "function_runtime": self.function_runtime(),
            },
        )

    # -- fleets ------------------------------------------------------------
    async def create_fleet(self, config: FleetConfig) -> Fleet:
        assert config.instance_type is not None and config.capacity is not None
        self.hourly_price(config.instance_type, bool(config.spot))  # unknown type, or no spot price -> ValidationError
        with self.store.transaction() as db:
            now = self._now(db)
            if db.execute("SELECT 1 FROM fleets WHERE name = ?", (config.name,)).fetchone():
                raise ConflictError(
                    f"fleet {config.name!r} already exists",
                    provider=self.name,
                    operation="create_fleet",
                    solution="Pick another name, or update the fleet with update_fleet",
                )
            load = LoadModel.daily(self.config.seed, config.name, base_units=max(config.capacity, 1) * 0.5)
            db.execute(
                "INSERT INTO fleets VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, NULL, ?, ?)",
                (
                    config.name,
                    config.description,
                    config.instance_type,
                    int(bool(config.spot)),
                    config.min_capacity,
                    config.max_capacity,
                    json.dumps(config.tags),
                    json.dumps(config.networking),
                    config.image,
                    json.dumps(load.to_dict()),
                    now,
                ),
            )
            self._set_capacity(db, config.name, 0, config.capacity, now, "create_fleet")
            self.store.settle(db, now)
            return self._fleet(db, self._fleet_row(db, config.name, "create_fleet"))

    async def update_fleet(self, config: FleetConfig) -> Fleet:
        with self.store.transaction() as db:
            now = self._now(db)
            name, description, itype, spot, capacity, lo, hi, tags, _, _ = self._fleet_row(db, config.name, "update_fleet")
            itype = config.instance_type or itype
            spot = spot if config.spot is None else int(config.spot)
            self.hourly_price(itype, bool(spot))  # unknown type, or no spot price -> ValidationError
            lo = config.min_capacity if config.min_capacity is not None else lo
            hi = config.max_capacity if config.max_capacity is not None else hi
            new_capacity = config.capacity if config.capacity is not None else min(max(capacity, lo), hi)
            FleetConfig(name=name, capacity=new_capacity, min_capacity=lo, max_capacity=hi)  # bounds check
            db.execute(
                "UPDATE fleets SET description = ?, instance_type = ?, spot = ?, min_capacity = ?, max_capacity = ?, tags = ? "
                "WHERE name = ?",
                (
                    config.description or description,
                    itype,
                    spot,
                    lo,
                    hi,
                    json.dumps({**json.loads(tags), **config.tags}),
                    name,
                ),
            )
            if new_capacity != capacity:
                self._set_capacity(db, name, capacity, new_capacity, now, "update_fleet")
            self.store.settle(db, now)
            return self._fleet(db, self._fleet_row(db, name, "update_fleet"))

    async def update_fleet_capacity(self, fleet: str, capacity: int, cause: str = "update_fleet_capacity") -> Fleet:
        with self.store.transaction() as db:
            now = self._now(db)
            _, _, _, _, old, lo, hi, _, _, _ = self._fleet_row(db, fleet, "update_fleet_capacity")
            if not lo <= capacity <= hi:
                raise ValidationError(
                    f"capacity: {capacity} is outside the fleet's bounds [{lo}, {hi}]",
                    field="capacity",
                    rule="min_capacity <= capacity <= max_capacity",
                    provider=self.name,
                    operation="update_fleet_capacity",
                    solution="Change the bounds first: update_fleet(FleetConfig(name, min_capacity=..., max_capacity=...))",
                )
            if capacity != old:
                self._set_capacity(db, fleet, old, capacity, now, cause)
            self.store.settle(db, now)
            return self._fleet(db, self._fleet_row(db, fleet, "update_fleet_capacity"))

    async def delete_fleet(self, fleet: str) -> None:
        with self.store.transaction() as db:
            now = self._now(db)
            capacity = self._fleet_row(db, fleet, "delete_fleet")[4]
            self._set_capacity(db, fleet, capacity, 0, now, "delete_fleet")
            db.execute("DELETE FROM fleets WHERE name = ?", (fleet,))
            self.store.settle(db, now)

    async def get_fleet(self, fleet: str) -> Fleet:
        with self.store.transaction() as db:
            self._now(db)
            return self._fleet(db, self._fleet_row(db, fleet, "get_fleet"))

    async def list_fleets(self) -> list[Fleet]:
        with self.store.transaction() as db:
            self._now(db)
            rows = db.execute(f"SELECT {FLEET_COLUMNS} FROM fleets ORDER BY created_at, name").fetchall()
            return [self._fleet(db, row) for row in rows]

    async def configure_auto_scaling(self, fleet: str, config: AutoScalingConfig) -> Fleet:
        with self.store.transaction() as db:
            now = self._now(db)
            capacity = self._fleet_row(db, fleet, "configure_auto_scaling")[4]
            db.execute(
                "UPDATE fleets SET auto_scaling = ?, min_capacity = ?, max_capacity = ? WHERE name = ?",
                (config.model_dump_json(), config.min_capacity, config.max_capacity, fleet),
            )
            clamped = min(max(capacity, config.min_capacity), config.max_capacity)
            if clamped != capacity:
                self._set_capacity(db, fleet, capacity, clamped, now, "configure_auto_scaling")
            self.autoscaler.reset(db, fleet, config, now)
            return self._fleet(db, self._fleet_row(db, fleet, "configure_auto_scaling"))

    # -- instances -----------------------------------------------------------
    async def list_instances(self, fleet: str | None = None, states: set[InstanceState] | None = None) -> pd.DataFrame:
        where, args = [], []
        if fleet is not None:
            where.append("fleet = ?")
            args.append(fleet)
        if states:
            where.append(f"state IN ({','.join('?' * len(states))})")
            args.extend(str(s) for s in states)
        sql = f"SELECT {INSTANCE_COLUMNS} FROM instances" + (f" WHERE {' AND '.join(where)}" if where else "")
        with self.store.transaction() as db:
            self._now(db)
            rows = db.execute(sql + " ORDER BY launched_at, id", args).fetchall()
        if not rows:
            return frames.frame(frames.INSTANCES, [])
        ids, fleets, types, spot, price, state, since, launched, ips, tags = zip(*rows)
        n = len(rows)
        state_arr = np.asarray(state, dtype=object)
        return frames.frame(
            frames.INSTANCES,
            {
                "id": ids,
                "fleet": fleets,
                "provider": [self.name] * n,
                "region": [self.config.region] * n,
                "instance_type": types,
                "state": state_arr,
                "spot": np.asarray(spot, dtype=bool),
                "hourly_cost_usd": np.where(state_arr == "running", np.asarray(price, dtype=float), 0.0),
                "launched_at": np.asarray(launched, dtype=float),
                "state_since": np.asarray(since, dtype=float),
                "private_ip": ips,
                "tags": _decode_shared(tags),
            },
        )

    async def get_instance(self, instance_id: str) -> Instance:
        with self.store.transaction() as db:
            self._now(db)
            return self._instance(self._instance_row(db, instance_id, "get_instance"))

    def _change(self, instance_id: str, operation: str, allowed: dict[str, tuple[str, str, float] | None]) -> Instance:
        """Apply ``operation``: ``allowed`` maps a current state to (state, next state, delay), or None for a no-op."""
        with self.store.transaction() as db:
            now = self._now(db)
            row = self._instance_row(db, instance_id, operation)
            state, fleet = row[5], row[1]
            if state not in allowed:
                raise ConflictError(
                    f"cannot {operation.split('_')[0]} instance {instance_id} while it is {state}",
                    provider=self.name,
                    operation=operation,
                )
            step = allowed[state]
            if step is not None:
                self._transition(db, [instance_id], fleet, now, step[0], step[1], step[2], operation)
                if operation == "terminate_instance" and fleet is not None:
                    self._reconcile(db, fleet, now, "replace_terminated")
                self.store.settle(db, now)
            return self._instance(self._instance_row(db, instance_id, operation))

    async def start_instance(self, instance_id: str) -> Instance:
        boot = ("pending", "running", self.config.boot_seconds)
        return self._change(instance_id, "start_instance", {"stopped": boot, "pending": None, "running": None})

    async def stop_instance(self, instance_id: str) -> Instance:
        stop = ("stopping", "stopped", self.config.stop_seconds)
        return self._change(instance_id, "stop_instance", {"running": stop, "stopping": None, "stopped": None})

    async def terminate_instance(self, instance_id: str) -> Instance:
        term = ("terminating", "terminated", self.config.terminate_seconds)
        allowed: dict[str, tuple[str, str, float] | None] = {s: term for s in ACTIVE}
        allowed.update(terminating=None, terminated=None)
        return self._change(instance_id, "terminate_instance", allowed)

    # -- metrics -------------------------------------------------------------
    def _running_intervals(self, db: sqlite3.Connection, fleet: str | None, now: float) -> pd.DataFrame:
        """One row per stretch an instance spent running: instance_id, start, end."""
        sql = "SELECT instance_id, at, state FROM transitions"
        args: tuple[Any, ...] = ()
        if fleet is not None:
            sql += " WHERE fleet = ?"
            args = (fleet,)
        df = pd.DataFrame(
            db.execute(sql + " ORDER BY instance_id, at, seq", args).fetchall(), columns=["instance_id", "start", "state"]
        )
        nxt = df.groupby("instance_id", sort=False)["start"].shift(-1)
        df["end"] = nxt.fillna(now).to_numpy(dtype=float)
        return df.loc[df["state"] == "running", ["instance_id", "start", "end"]].reset_index(drop=True)

    def _window(self, start: pd.Timestamp | None, end: pd.Timestamp | None, first: float, now: float) -> tuple[float, float]:
        """The asked window within [first, now]; empty (lo == hi) when it lies outside (the manager checks start <= end)."""
        lo = first if start is None else max(pd.Timestamp(start).timestamp(), first)
        hi = now if end is None else min(pd.Timestamp(end).timestamp(), now)
        return min(lo, hi), hi

    async def utilization(
        self, fleet: str, start: pd.Timestamp | None, end: pd.Timestamp | None, period: str = "5min", by: str = "fleet"
    ) -> pd.DataFrame:
        with self.store.transaction() as db:
            now = self._now(db)
            row = db.execute("SELECT load, created_at FROM fleets WHERE name = ?", (fleet,)).fetchone()
            if row is None:
                raise NotFoundError(f"no fleet named {fleet!r}", provider=self.name, operation="utilization")
            model = LoadModel(**json.loads(row[0]))
            intervals = self._running_intervals(db, fleet, now)
            events = db.execute("SELECT at, to_capacity FROM fleet_events WHERE fleet = ? ORDER BY seq", (fleet,)).fetchall()
        lo, hi = self._window(start, end, row[1], now)
        frames.check_periods(frames.utc([lo])[0], frames.utc([hi])[0], period)
        t = np.arange(np.ceil(lo / 60.0) * 60.0, hi, 60.0)
        starts, ends = np.sort(intervals["start"].to_numpy()), np.sort(intervals["end"].to_numpy())
        running = np.searchsorted(starts, t, side="right") - np.searchsorted(ends, t, side="right")
        ev_at = np.array([e[0] for e in events])
        ev_cap = np.array([e[1] for e in events])
        desired = ev_cap[np.clip(np.searchsorted(ev_at, t, side="right") - 1, 0, None)] if len(events) else np.zeros_like(t)
        cpu = cpu_percent(model.demand(t), running)
        if by == "instance":
            return self._per_instance(fleet, model, intervals, t, cpu, period)
        df = pd.DataFrame({"cpu_percent": cpu, "running": running, "desired_capacity": desired}, index=frames.utc(t))
        out = (
            df.resample(period)
            .agg({"cpu_percent": "mean", "running": "last", "desired_capacity": "last"})
            .dropna(subset=["running"])
        )
        return frames.frame(
            frames.UTILIZATION,
            {
                "time": out.index,
                "fleet": [fleet] * len(out),
                "provider": [self.name] * len(out),
                "cpu_percent": out["cpu_percent"].round(3).to_numpy(),
                "running": out["running"].to_numpy(),
                "desired_capacity": out["desired_capacity"].to_numpy(),
            },
        )

    def _per_instance(
        self, fleet: str, model: LoadModel, intervals: pd.DataFrame, t: np.ndarray, cpu: np.ndarray, period: str
    ) -> pd.DataFrame:
        parts = []
        for iid, spans in intervals.groupby("instance_id", sort=True):
            mask = np.zeros(len(t), dtype=bool)
            for s, e in zip(spans["start"], spans["end"]):
                mask |= (t >= s) & (t < e)
            if not mask.any():
                continue
            values = np.clip(cpu[mask] * model.instance_spread(stable_key(iid), t[mask]), 0.0, 100.0)
            series = pd.Series(values, index=frames.utc(t[mask])).resample(period).mean().dropna()
            parts.append(pd.DataFrame({"time": series.index, "instance_id": iid, "cpu_percent": series.round(3).to_numpy()}))
        return frames.instance_utilization(parts, fleet, self.name)

    async def costs(self, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
        with self.store.transaction() as db:
            now = self._now(db)
            intervals = self._running_intervals(db, None, now)
            info = pd.DataFrame(
                db.execute("SELECT id, fleet, instance_type, spot, price_usd FROM instances").fetchall(),
                columns=["instance_id", "fleet", "instance_type", "spot", "price_usd"],
            )
        lo, hi = self._window(start, end, float("-inf"), now)
        seconds = (intervals["end"].clip(upper=hi) - intervals["start"].clip(lower=lo)).clip(lower=0)
        per = seconds.groupby(intervals["instance_id"]).sum().rename("running_seconds").reset_index()
        df = info.merge(per[per["running_seconds"] > 0], on="instance_id").sort_values(
            ["fleet", "instance_id"], na_position="last"
        )
        n = len(df)
        instances = frames.frame(
            frames.COSTS,
            {
                "provider": [self.name] * n,
                "kind": ["instance"] * n,
                "resource": df["instance_id"].to_numpy(),
                "fleet": df["fleet"].to_numpy(),
                "instance_type": df["instance_type"].to_numpy(),
                "region": [self.config.region] * n,
                "spot": df["spot"].astype(bool).to_numpy(),
                "running_seconds": df["running_seconds"].to_numpy(),
                "requests": np.zeros(n, dtype=np.int64),
                "cost_usd": (df["running_seconds"] / 3600.0 * df["price_usd"]).round(9).to_numpy(),
                "source": ["exact"] * n,
            },
        )
        return frames.concat(frames.COSTS, [instances, self._function_costs(lo, hi)])

    # -- local-only ------------------------------------------------------------
    def advance(self, seconds: float) -> float:
        if self.clock.virtual:  # policies act at each minute on the way, before the clock lands
            with self.store.transaction() as db:
                self.autoscaler.catch_up(db, self.clock.now(db) + seconds)
        return self.clock.advance(seconds)

    def attach_trace(self, fleet: str, cpu_percent: pd.Series) -> None:
        """Replay ``cpu_percent`` (a Series on a DatetimeIndex) as the fleet's load, starting now."""
        if not isinstance(cpu_percent, pd.Series) or not isinstance(cpu_percent.index, pd.DatetimeIndex):
            raise ValidationError(
                f"trace: needs a pandas Series of CPU % on a DatetimeIndex (got {type(cpu_percent).__name__}"
                + (f" on a {type(cpu_percent.index).__name__}" if isinstance(cpu_percent, pd.Series) else "")
                + ")",
                field="trace",
                rule="pd.Series with a DatetimeIndex",
                solution="Index the values by time, e.g. pd.Series(values, index=pd.date_range('2026-01-05', periods=n, "
                "freq='5min')), or load a trace with clusterdb_nb.autoscaling.traces",
            )
        values = pd.to_numeric(cpu_percent, errors="coerce")
        if values.empty or values.isna().any() or (values < 0).any() or (values > 100).any():
            raise ValidationError("trace: needs numeric CPU % values in [0, 100]", field="trace", rule="0 <= value <= 100")
        index = pd.DatetimeIndex(values.index)
        if not index.is_monotonic_increasing or index.has_duplicates:
            raise ValidationError(
                "trace: timestamps must be increasing and unique", field="trace", rule="sorted unique timestamps"
            )
        with self.store.transaction() as db:
            now = self._now(db)
            capacity = self._fleet_row(db, fleet, "attach_trace")[4]
            offsets = (index - index[0]).total_seconds().to_numpy()
            units = values.to_numpy(dtype=float) / 100.0 * max(capacity, 1)
            model = LoadModel.trace(self.config.seed, fleet, now + offsets, units)
            db.execute("UPDATE fleets SET load = ? WHERE name = ?", (json.dumps(model.to_dict()), fleet))

    def history(self, fleet: str | None = None) -> pd.DataFrame:
        """Every recorded state change: time, instance_id, fleet, state, cause."""
        sql = "SELECT at, instance_id, fleet, state, cause FROM transitions"
        args: tuple[Any, ...] = (fleet,) if fleet else ()
        with self.store.transaction() as db:
            self._now(db)
            rows = db.execute(sql + (" WHERE fleet = ?" if fleet else "") + " ORDER BY seq", args).fetchall()
        df = pd.DataFrame(rows, columns=["time", "instance_id", "fleet", "state", "cause"])
        df["time"] = frames.utc(df["time"].to_numpy(dtype=float))
        return df

    async def scaling_activities(self, fleet: str) -> pd.DataFrame:
        with self.store.transaction() as db:
            self._now(db)  # the autoscaler's decisions up to now
            rows = db.execute(
                "SELECT at, fleet, from_capacity, to_capacity, cause FROM fleet_events WHERE fleet = ? ORDER BY seq", (fleet,)
            ).fetchall()
        if not rows:
            return frames.frame(frames.SCALING_ACTIVITIES, [])
        at, fleets, old, new, cause = zip(*rows)
        return frames.frame(
            frames.SCALING_ACTIVITIES,
            {
                "time": np.asarray(at, dtype=float),
                "fleet": fleets,
                "provider": [self.name] * len(rows),
                "from_capacity": old,
                "to_capacity": new,
                "reason": cause,
            },
        )

    async def close(self) -> None:
        self._close_functions()
        self.store.close()
