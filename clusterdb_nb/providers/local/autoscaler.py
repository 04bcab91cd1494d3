"""Live auto-scaling policies on the local cloud, decided by the simulator's reference engines.

A fleet with a policy (``configure_auto_scaling``) is evaluated once a minute
of local time, on whole minutes: its demand comes from the load model, its
running instances from the state, and the reference engine of the configured
cloud (``LocalConfig.autoscaler``, AWS target tracking by default) decides, as
it does in ``clusterdb_nb.autoscaling.simulate``. A change goes through the
provider's capacity path, so it lands in ``fleet_events`` with the engine's
reason, and instances launch or terminate at the minute it was decided.

Evaluation catches up lazily: before any operation reads or changes state, and
before the virtual clock moves, every minute since the last evaluation is
evaluated in order (instance transitions are settled up to each minute first).
Engine memory (alarm counters, recommendation windows, cooldowns) is kept in the
state file, so a reopened session continues where it stopped.

    >>> s.configure_auto_scaling("web", cdb.AutoScalingConfig(min_capacity=1, max_capacity=10))
    >>> s.local.advance("2h")
    >>> s.scaling_activities("web")
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...autoscaling.engines import ENGINES
from ...autoscaling.options import OPTIONS
from ...models import AutoScalingConfig
from .load import LoadModel

STEP = 60.0  # seconds between evaluations: one one-minute datapoint


@dataclass
class _Fleet:
    name: str
    engine: Any
    load: LoadModel
    policy: dict[str, Any]
    last: float  # the last evaluated minute


class LocalAutoscaler:
    """Evaluates every fleet's policy with the ``kind`` engine ("aws", "gcp", "azure" or "kubernetes")."""

    def __init__(self, provider: Any, kind: str) -> None:
        self.provider = provider
        self.kind = kind

    def _key(self, fleet: str) -> str:
        return f"autoscaler:{fleet}"

    def reset(self, db: sqlite3.Connection, fleet: str, policy: AutoScalingConfig, now: float) -> None:
        """A policy was (re)configured at ``now``: fresh engine memory, first evaluation at the next whole minute."""
        record = {"policy": policy.model_dump(), "last": now // STEP * STEP, "state": None}
        self.provider.store.set_meta(db, self._key(fleet), json.dumps(record))

    def _load(self, db: sqlite3.Connection, name: str, policy_json: str, load_json: str, now: float) -> _Fleet:
        policy = AutoScalingConfig.model_validate_json(policy_json)
        record = json.loads(self.provider.store.meta(db, self._key(name)) or "null")
        if record is None or record["policy"] != policy.model_dump():  # a policy stored before this state existed
            record = {"policy": policy.model_dump(), "last": now // STEP * STEP, "state": None}
        engine = ENGINES[self.kind].reference(policy, OPTIONS[self.kind]())
        if record["state"] is not None:
            engine.restore(record["state"])
        return _Fleet(name, engine, LoadModel(**json.loads(load_json)), record["policy"], float(record["last"]))

    def catch_up(self, db: sqlite3.Connection, until: float) -> None:
        """Evaluate every policy at each whole minute after its last evaluation, up to ``until``."""
        rows = db.execute("SELECT name, auto_scaling, load FROM fleets WHERE auto_scaling IS NOT NULL ORDER BY name").fetchall()
        if not rows:
            return
        fleets = [self._load(db, name, policy, load, until) for name, policy, load in rows]
        first = min(f.last for f in fleets) + STEP
        if first > until:
            return
        label = ENGINES[self.kind].label
        minute = first
        while minute <= until:
            self.provider.store.settle(db, minute)
            for f in fleets:
                if minute > f.last:
                    self._evaluate(db, f, minute, label)
                    f.last = minute
            minute += STEP
        for f in fleets:
            record = {"policy": f.policy, "last": f.last, "state": f.engine.state()}
            self.provider.store.set_meta(db, self._key(f.name), json.dumps(record))

    def _evaluate(self, db: sqlite3.Connection, fleet: _Fleet, now: float, label: str) -> None:
        capacity, lo, hi = db.execute(
            "SELECT capacity, min_capacity, max_capacity FROM fleets WHERE name = ?", (fleet.name,)
        ).fetchone()
        running = db.execute("SELECT COUNT(*) FROM instances WHERE fleet = ? AND state = 'running'", (fleet.name,)).fetchone()[0]
        demand = float(fleet.load.demand(np.array([now]))[0])
        new, reason = fleet.engine.decide(now, demand, capacity, running)
        new = min(max(new, lo), hi)  # the fleet's own bounds, should they have changed since
        if new != capacity:
            self.provider._set_capacity(db, fleet.name, capacity, new, now, f"autoscaler ({label}): {reason}")
