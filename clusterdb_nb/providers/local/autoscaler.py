"""Live auto-scaling policies on the local cloud, decided by the simulator's reference engines.

A fleet with a policy (``configure_auto_scaling``) is evaluated once a minute
of local time, on whole minutes: its demand comes from the load model, its
running instances from the state, and the reference engine of the configured
cloud (``LocalConfig.autoscaler``, AWS target tracking by default) decides, as
it does in ``clusterdb_nb.autoscaling.simulate``. A change goes through the
one capacity path (``FleetState.set_capacity``), so it lands in ``fleet_events`` with the engine's
reason, and instances launch or terminate at the minute it was decided.

Evaluation catches up lazily: before any operation reads or changes state, and
before the virtual clock moves, every minute since the last evaluation is
evaluated in order (instance transitions are settled up to each minute first),
in time proportional to what happens, not to the minutes (see ``catch_up``).
New instances serve after the local cloud's ``boot_seconds`` (``connect(local=
{"boot_seconds": 90})``), the same start-up delay ``simulate(boot_seconds=...)``
models.
Engine memory (alarm counters, recommendation windows, cooldowns) is kept in the
state file, so a reopened session continues where it stopped.

    >>> s.configure_auto_scaling("web", cdb.AutoScalingConfig(min_capacity=1, max_capacity=10))
    >>> s.local.advance("2h")
    >>> s.scaling_activities("web")
"""

from __future__ import annotations

import json
import sqlite3
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...autoscaling.engines import ENGINES
from ...autoscaling.options import OPTIONS
from ...models import AutoScalingConfig
from .fleet_state import FleetState
from .load import LoadModel

__all__ = ["CHUNK", "LocalAutoscaler", "MAX_CATCH_UP", "QUIET_SECONDS", "STEP"]

STEP = 60.0  # seconds between evaluations: one one-minute datapoint
CHUNK = 60  # minutes whose demand is computed at once (and how often quiet is checked)
QUIET_SECONDS = 3600.0  # longer than any window of the engines' default settings
MAX_CATCH_UP = 31 * 86400.0  # a moving load is evaluated at most this long at each end of one catch-up


@dataclass
class _Fleet:
    name: str
    engine: Any
    load: LoadModel
    policy: dict[str, Any]
    last: float  # the last evaluated minute
    changed: float = float("-inf")  # the last minute the policy acted


class LocalAutoscaler:
    """Evaluates every fleet's policy with the ``kind`` engine ("aws", "gcp", "azure" or "kubernetes")."""

    def __init__(self, fleets: FleetState, kind: str) -> None:
        self.fleets = fleets
        self.kind = kind

    def _key(self, fleet: str) -> str:
        return f"autoscaler:{fleet}"

    def reset(self, db: sqlite3.Connection, fleet: str, policy: AutoScalingConfig, now: float) -> None:
        """A policy was (re)configured at ``now``: fresh engine memory, first evaluation at the next whole minute."""
        record = {"policy": policy.model_dump(), "last": now // STEP * STEP, "state": None}
        self.fleets.store.set_meta(db, self._key(fleet), json.dumps(record))

    def _load(self, db: sqlite3.Connection, name: str, policy_json: str, load_json: str, now: float) -> _Fleet:
        policy = AutoScalingConfig.model_validate_json(policy_json)
        record = json.loads(self.fleets.store.meta(db, self._key(name)) or "null")
        if record is None or record["policy"] != policy.model_dump():  # a policy stored before this state existed
            record = {"policy": policy.model_dump(), "last": now // STEP * STEP, "state": None}
        engine = ENGINES[self.kind].reference(policy, OPTIONS[self.kind](), int(STEP))
        if record["state"] is not None:
            engine.restore(record["state"])
        return _Fleet(name, engine, LoadModel(**json.loads(load_json)), record["policy"], float(record["last"]))

    def catch_up(self, db: sqlite3.Connection, until: float) -> None:
        """Evaluate every policy at each whole minute after its last evaluation, up to ``until``.

        The work is proportional to the minutes that can change something: the state file is
        read and written only when an instance transition falls due or a policy acts; once
        every load is constant (a replayed trace has ended), no transition is pending and no
        policy has acted for ``QUIET_SECONDS`` (or its cooldown, if longer), the remaining
        minutes would decide nothing and are skipped. A load that keeps moving is evaluated
        for at most ``MAX_CATCH_UP`` from the start and ``MAX_CATCH_UP`` before ``until``;
        the minutes between are skipped with a warning (capacity held, engine memory reset).
        """
        rows = db.execute("SELECT name, auto_scaling, load FROM fleets WHERE auto_scaling IS NOT NULL ORDER BY name").fetchall()
        if not rows:
            return
        fleets = [self._load(db, name, policy, load, until) for name, policy, load in rows]
        minute, last = min(f.last for f in fleets) + STEP, until // STEP * STEP
        if minute > last:
            return
        label = ENGINES[self.kind].label
        counts = {f.name: self._counts(db, f.name) for f in fleets}
        due = self._next_due(db)
        evaluated = 0.0
        while minute <= last:
            if evaluated >= MAX_CATCH_UP and last - minute > MAX_CATCH_UP:
                minute = self._skip(fleets, minute, last - MAX_CATCH_UP + STEP)
                evaluated = 0.0
            if due is None and all(self._quiet(f, minute) for f in fleets):
                break
            times = np.arange(minute, min(minute + CHUNK * STEP, last + STEP), STEP)
            demands = [f.load.demand(times).tolist() for f in fleets]
            for i, now in enumerate(times.tolist()):
                if due is not None and now >= due:
                    self.fleets.store.settle(db, now)
                    counts = {f.name: self._counts(db, f.name) for f in fleets}
                    due = self._next_due(db)
                for f, demand in zip(fleets, demands):
                    if now <= f.last:
                        continue
                    capacity, lo, hi, running = counts[f.name]
                    new, reason = f.engine.decide(now, demand[i], capacity, running)
                    new = min(max(new, lo), hi)  # the fleet's own bounds, should they have changed since
                    if new != capacity:
                        self.fleets.set_capacity(db, f.name, capacity, new, now, f"autoscaler ({label}): {reason}")
                        counts[f.name] = self._counts(db, f.name)
                        due = self._next_due(db)
                        f.changed = now
                    f.last = now
            minute = float(times[-1]) + STEP
            evaluated += len(times) * STEP
        for f in fleets:
            f.last = max(f.last, last)
            record = {"policy": f.policy, "last": f.last, "state": f.engine.state()}
            self.fleets.store.set_meta(db, self._key(f.name), json.dumps(record))

    def _skip(self, fleets: list[_Fleet], minute: float, resume: float) -> float:
        """Leave the minutes from ``minute`` to before ``resume`` unevaluated: fresh engine memory, a warning."""
        days = (resume - minute) / 86400.0
        warnings.warn(
            f"local autoscaler: {days:,.1f} days of minutes were not evaluated (a catch-up evaluates at most "
            f"{MAX_CATCH_UP / 86400:g} days at each end); capacity was held and the policies' memory reset. "
            "Advance the clock in smaller steps to evaluate every minute.",
            stacklevel=2,
        )
        for f in fleets:
            f.engine = ENGINES[self.kind].reference(AutoScalingConfig(**f.policy), OPTIONS[self.kind](), int(STEP))
            f.last = max(f.last, resume - STEP)
        return resume

    def _quiet(self, fleet: _Fleet, minute: float) -> bool:
        """Whether ``fleet``'s load is constant from ``minute`` on and its policy has not acted for long enough
        that its memory (alarm runs, windows, cooldowns) can no longer lead to an action."""
        if fleet.load.kind != "trace" or minute < fleet.load.times[-1]:
            return False
        settled = max(fleet.changed, fleet.load.times[-1])
        return minute - settled >= max(QUIET_SECONDS, float(fleet.policy["cooldown_seconds"]))

    def _counts(self, db: sqlite3.Connection, fleet: str) -> tuple[int, int, int, int]:
        """(capacity, min, max, running instances) of ``fleet``."""
        capacity, lo, hi = db.execute(
            "SELECT capacity, min_capacity, max_capacity FROM fleets WHERE name = ?", (fleet,)
        ).fetchone()
        running = db.execute("SELECT COUNT(*) FROM instances WHERE fleet = ? AND state = 'running'", (fleet,)).fetchone()[0]
        return capacity, lo, hi, running

    def _next_due(self, db: sqlite3.Connection) -> float | None:
        """When the next instance transition falls due (None: none is scheduled)."""
        due = db.execute("SELECT MIN(next_at) FROM instances WHERE next_at IS NOT NULL").fetchone()[0]
        return None if due is None else float(due)
