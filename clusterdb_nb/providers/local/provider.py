"""The embedded local cloud's adapter: fleets, instances, metrics and functions on a local clock.

Composed of parts whose names say what they do: ``FleetState`` (fleets and
instances in SQLite, the instance state machine), ``usage`` (utilization and
cost maths), ``LocalAutoscaler`` (live policies), ``LocalFunctions`` (functions
run for real in worker processes). Every operation first brings the cloud up to
the local time (``_catch_up``): due autoscaler minutes run and due transitions settle.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import numpy as np
import pandas as pd

from ... import catalog, frames
from ...config import LocalConfig
from ...errors import NotFoundError, ValidationError
from ...models import (
    AutoScalingConfig,
    CapacitySchedule,
    Fleet,
    FleetConfig,
    Function,
    FunctionConfig,
    Instance,
    InstanceConfig,
    InstanceState,
    Invocation,
)
from ...network import Finding
from ..base import ComputeProvider, ProviderStatus
from ..capabilities import Feature
from . import network, usage
from .autoscaler import LocalAutoscaler
from .clock import VirtualClock, WallClock
from .fleet_state import ACTIVE, FLEET_COLUMNS, INSTANCE_COLUMNS, FleetState, Step
from .functions import LocalFunctions
from .load import LoadModel
from .schedules import LocalSchedules
from .store import Store

__all__ = ["LocalProvider"]


def _decode_shared(texts: tuple[str, ...]) -> list[dict[str, str]]:
    """JSON-decode many strings that mostly repeat (a fleet's members share their tags), each row its own dict."""
    decoded = {t: json.loads(t) for t in set(texts)}
    return [dict(decoded[t]) for t in texts]


class LocalProvider(ComputeProvider):
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
        self.fleets = FleetState(self.name, config, self.store, self.hourly_price)
        self.autoscaler = LocalAutoscaler(self.fleets, config.autoscaler)
        self.schedules = LocalSchedules(self.fleets, self.autoscaler.reset)
        self.functions = LocalFunctions(self.name, config, self.store, self.clock, self._catch_up)

    def not_supported(self, request: object | None = None) -> dict[Feature, str]:
        return {
            Feature.ESTIMATED_COSTS: "not needed: the local cloud bills every running second from its own ledger",
            Feature.QUOTAS: f"the local cloud has no quotas, only its largest fleet size ({self.max_group_size:,} instances)",
        }

    def hourly_price(self, instance_type: str, spot: bool = False) -> float:
        """Local instances cost what the type costs in its own cloud's reference region."""
        return catalog.lookup(instance_type).price(spot)

    def _catch_up(self, db: sqlite3.Connection) -> float:
        """The local time, after the due schedules fired, the autoscaler's due minutes ran and the transitions settled."""
        now = self.clock.now(db)
        self._run_until(db, now)
        self.store.settle(db, now)
        return now

    def _run_until(self, db: sqlite3.Connection, until: float) -> None:
        """Fire the schedules and run the autoscaler's minutes due by ``until``, in time order."""

        def arrive(at: float) -> None:
            self.autoscaler.catch_up(db, at)
            self.store.settle(db, at)

        self.schedules.catch_up(db, until, arrive)
        self.autoscaler.catch_up(db, until)

    # -- status ------------------------------------------------------------
    async def status(self) -> ProviderStatus:
        now = pd.Timestamp(self.clock.now(), unit="s", tz="UTC")
        return ProviderStatus(
            provider=self.name,
            ok=True,
            region=self.config.region,
            account="local",
            detail=f"local cloud, {'virtual' if self.clock.virtual else 'wall'} clock at {now:%Y-%m-%d %H:%M:%S} UTC"
            + ("" if self.functions.function_sandboxed() else f"; functions run {self.functions.function_runtime()}"),
            facts={
                "state": self.store.path,
                "clock": "virtual" if self.clock.virtual else "wall",
                "now": now.isoformat(),
                "function_runtime": self.functions.function_runtime(),
            },
        )

    # -- fleets ------------------------------------------------------------
    async def create_fleet(self, config: FleetConfig) -> Fleet:
        assert config.instance_type is not None and config.capacity is not None
        with self.store.transaction() as db:
            now = self._catch_up(db)
            if db.execute("SELECT 1 FROM fleets WHERE name = ?", (config.name,)).fetchone():
                raise self.already_exists("fleet", config.name, "create_fleet")
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
            self.fleets.set_capacity(db, config.name, 0, config.capacity, now, "create_fleet")
            self.store.settle(db, now)
            return self.fleets.fleet(db, self.fleets.fleet_row(db, config.name, "create_fleet"))

    async def update_fleet(self, config: FleetConfig) -> Fleet:
        with self.store.transaction() as db:
            now = self._catch_up(db)
            name, description, itype, spot, capacity, lo, hi, tags, _, _ = self.fleets.fleet_row(db, config.name, "update_fleet")
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
                self.fleets.set_capacity(db, name, capacity, new_capacity, now, "update_fleet")
            self.store.settle(db, now)
            return self.fleets.fleet(db, self.fleets.fleet_row(db, name, "update_fleet"))

    async def update_fleet_capacity(self, fleet: str, capacity: int, cause: str = "update_fleet_capacity") -> Fleet:
        with self.store.transaction() as db:
            now = self._catch_up(db)
            row = self.fleets.fleet_row(db, fleet, "update_fleet_capacity")
            old = row[4]
            self.fleets.fleet(db, row).check_capacity(capacity)  # again inside the transaction: bounds may have changed since
            if capacity != old:
                self.fleets.set_capacity(db, fleet, old, capacity, now, cause)
            self.store.settle(db, now)
            return self.fleets.fleet(db, self.fleets.fleet_row(db, fleet, "update_fleet_capacity"))

    async def delete_fleet(self, fleet: str) -> None:
        with self.store.transaction() as db:
            now = self._catch_up(db)
            capacity = self.fleets.fleet_row(db, fleet, "delete_fleet")[4]
            self.fleets.set_capacity(db, fleet, capacity, 0, now, "delete_fleet")
            db.execute("DELETE FROM fleets WHERE name = ?", (fleet,))
            self.schedules.delete_fleet(db, fleet)
            self.store.settle(db, now)

    async def get_fleet(self, fleet: str) -> Fleet:
        with self.store.transaction() as db:
            self._catch_up(db)
            return self.fleets.fleet(db, self.fleets.fleet_row(db, fleet, "get_fleet"))

    async def list_fleets(self) -> list[Fleet]:
        with self.store.transaction() as db:
            self._catch_up(db)
            rows = db.execute(f"SELECT {FLEET_COLUMNS} FROM fleets ORDER BY created_at, name").fetchall()
            return [self.fleets.fleet(db, row) for row in rows]

    async def configure_auto_scaling(self, fleet: str, config: AutoScalingConfig) -> Fleet:
        with self.store.transaction() as db:
            now = self._catch_up(db)
            capacity = self.fleets.fleet_row(db, fleet, "configure_auto_scaling")[4]
            db.execute(
                "UPDATE fleets SET auto_scaling = ?, min_capacity = ?, max_capacity = ? WHERE name = ?",
                (config.model_dump_json(), config.min_capacity, config.max_capacity, fleet),
            )
            clamped = min(max(capacity, config.min_capacity), config.max_capacity)
            if clamped != capacity:
                self.fleets.set_capacity(db, fleet, capacity, clamped, now, "configure_auto_scaling")
            self.autoscaler.reset(db, fleet, config, now)
            return self.fleets.fleet(db, self.fleets.fleet_row(db, fleet, "configure_auto_scaling"))

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
            self._catch_up(db)
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
            self._catch_up(db)
            return self.fleets.instance(self.fleets.instance_row(db, instance_id, "get_instance"))

    async def create_instance(self, config: InstanceConfig) -> Instance:
        self.hourly_price(config.instance_type, config.spot)  # an unknown type is refused before anything is written
        with self.store.transaction() as db:
            now = self._catch_up(db)
            iid = self.fleets.launch_standalone(db, config.name, config.instance_type, config.spot, config.tags, now)
            return self.fleets.instance(self.fleets.instance_row(db, iid, "create_instance"))

    def _change(self, instance_id: str, operation: str, allowed: dict[str, Step | None]) -> Instance:
        with self.store.transaction() as db:
            return self.fleets.change(db, instance_id, operation, allowed, self._catch_up(db))

    async def start_instance(self, instance_id: str) -> Instance:
        boot = ("pending", "running", self.config.boot_seconds)
        return self._change(instance_id, "start_instance", {"stopped": boot, "pending": None, "running": None})

    async def stop_instance(self, instance_id: str) -> Instance:
        stop = ("stopping", "stopped", self.config.stop_seconds)
        return self._change(instance_id, "stop_instance", {"running": stop, "stopping": None, "stopped": None})

    async def terminate_instance(self, instance_id: str) -> Instance:
        term = ("terminating", "terminated", self.config.terminate_seconds)
        allowed: dict[str, Step | None] = {s: term for s in ACTIVE}
        allowed.update(terminating=None, terminated=None)
        return self._change(instance_id, "terminate_instance", allowed)

    async def diagnose_network(self, fleet: str, ports: list[int]) -> list[Finding]:
        with self.store.transaction() as db:
            self._catch_up(db)
            return network.diagnose(db, fleet, ports, self.name)

    def set_security_group(self, name: str, ingress: list[dict[str, Any]]) -> None:
        with self.store.transaction() as db:
            network.set_group(db, name, ingress)

    def security_groups(self) -> pd.DataFrame:
        with self.store.reading() as db:
            names = [r[0] for r in db.execute("SELECT name FROM security_groups ORDER BY name")]
            rows = [
                (g, r.protocol, network.port_range(r), r.source)
                for g in sorted({network.DEFAULT_GROUP, *names})
                for r in network.ingress_of(db, g) or []
            ]
        out: pd.DataFrame = pd.DataFrame(rows, columns=["group", "protocol", "ports", "source"])
        return out

    # -- metrics -------------------------------------------------------------
    async def utilization(
        self, fleet: str, start: pd.Timestamp | None, end: pd.Timestamp | None, period: str = "5min", by: str = "fleet"
    ) -> pd.DataFrame:
        with self.store.transaction() as db:
            now = self._catch_up(db)
            row = db.execute("SELECT load, created_at FROM fleets WHERE name = ?", (fleet,)).fetchone()
            if row is None:
                raise NotFoundError(f"no fleet named {fleet!r}", provider=self.name, operation="utilization")
            model = LoadModel(**json.loads(row[0]))
            intervals = usage.running_intervals(db, fleet, now)
            events = db.execute("SELECT at, to_capacity FROM fleet_events WHERE fleet = ? ORDER BY seq", (fleet,)).fetchall()
        lo, hi = usage.window(start, end, row[1], now)
        return usage.fleet_utilization(self.name, fleet, model, intervals, events, lo, hi, period, by)

    async def costs(self, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
        with self.store.transaction() as db:
            now = self._catch_up(db)
            intervals = usage.running_intervals(db, None, now)
            info = pd.DataFrame(
                db.execute("SELECT id, fleet, instance_type, spot, price_usd FROM instances").fetchall(),
                columns=["instance_id", "fleet", "instance_type", "spot", "price_usd"],
            )
        lo, hi = usage.window(start, end, float("-inf"), now)
        instances = usage.instance_costs(self.name, self.config.region, intervals, info, lo, hi)
        return frames.concat(frames.COSTS, [instances, self.functions.costs(lo, hi)])

    # -- functions (run by LocalFunctions) ----------------------------------------
    async def create_function(self, config: FunctionConfig) -> Function:
        return await self.functions.create_function(config)

    async def update_function(self, config: FunctionConfig) -> Function:
        return await self.functions.update_function(config)

    async def delete_function(self, function: str) -> None:
        await self.functions.delete_function(function)

    async def get_function(self, function: str) -> Function:
        return await self.functions.get_function(function)

    async def list_functions(self) -> list[Function]:
        return await self.functions.list_functions()

    async def invoke_function(self, function: str, payload: bytes) -> Invocation:
        return await self.functions.invoke_function(function, payload)

    async def list_invocations(self, function: str | None = None) -> pd.DataFrame:
        return await self.functions.list_invocations(function)

    # -- local-only ------------------------------------------------------------
    def advance(self, seconds: float) -> float:
        if self.clock.virtual:  # schedules and policies act on the way, before the clock lands
            with self.store.transaction() as db:
                self._run_until(db, self.clock.now(db) + seconds)
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
            now = self._catch_up(db)
            capacity = self.fleets.fleet_row(db, fleet, "attach_trace")[4]
            offsets = (index - index[0]).total_seconds().to_numpy()
            units = values.to_numpy(dtype=float) / 100.0 * max(capacity, 1)
            model = LoadModel.trace(self.config.seed, fleet, now + offsets, units)
            db.execute("UPDATE fleets SET load = ? WHERE name = ?", (json.dumps(model.to_dict()), fleet))

    def history(self, fleet: str | None = None) -> pd.DataFrame:
        """Every recorded state change: time, instance_id, fleet, state, cause."""
        sql = "SELECT at, instance_id, fleet, state, cause FROM transitions"
        args: tuple[Any, ...] = (fleet,) if fleet else ()
        with self.store.transaction() as db:
            self._catch_up(db)
            rows = db.execute(sql + (" WHERE fleet = ?" if fleet else "") + " ORDER BY seq", args).fetchall()
        df = pd.DataFrame(rows, columns=["time", "instance_id", "fleet", "state", "cause"])
        df["time"] = frames.utc(df["time"].to_numpy(dtype=float))
        out: pd.DataFrame = df
        return out

    async def scaling_activities(self, fleet: str) -> pd.DataFrame:
        with self.store.transaction() as db:
            self._catch_up(db)  # the autoscaler's decisions up to now
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

    # -- capacity schedules --------------------------------------------------------
    def current_time(self) -> float:
        return self.clock.now()

    async def put_schedule(self, schedule: CapacitySchedule) -> CapacitySchedule:
        with self.store.transaction() as db:
            return self.schedules.put(db, schedule, self._catch_up(db))

    async def list_schedules(self, fleet: str | None = None) -> list[CapacitySchedule]:
        with self.store.transaction() as db:
            self._catch_up(db)
            return self.schedules.list(db, fleet)

    async def delete_schedule(self, fleet: str, name: str) -> None:
        with self.store.transaction() as db:
            self._catch_up(db)
            self.schedules.delete(db, fleet, name)

    async def close(self) -> None:
        self.functions.close()
        self.store.close()
