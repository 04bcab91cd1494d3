"""The ``Migration`` handle: a persisted migration you step, run, pause, resume and roll back.

    >>> m = s.create_migration(MigrationConfig(source_fleet="web", target_provider="local-b", batch_size=2))
    >>> m.status
    'planned'
    >>> m.run()            # drives it to an end: completed, or paused at a failed health gate
    >>> m.rollback()       # gives the source its capacity back and deletes the target fleet

``m.step()`` does what can be done now without waiting (cloud calls, a health gate that is ready) and returns
whether anything moved; ``m.run(timeout=None)`` repeats it, and while a gate waits it advances a virtual local
clock by ``POLL_SECONDS`` (``s.local.advance`` moves every local cloud) or sleeps on a wall clock. Ctrl-C leaves
the migration paused; ``m.resume().run()`` goes on. The state is saved before every cloud call and every step
sets an absolute capacity, so a kernel that dies mid-step resumes where it was: ``s.migration(id).run()``.

Statuses: ``planned`` → ``running`` → ``completed``; ``paused`` (by you, Ctrl-C, or a failed health gate: see
``m.reason``); ``failed`` (a cloud refused a call: ``resume()`` retries it, ``rollback()`` undoes);
``rolled_back``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from .. import durations, frames
from ..errors import ComputeError, ConflictError, NotFoundError, ValidationError, WaitTimeoutError
from ..models import FleetConfig, MigrationConfig
from . import plan as planning
from .store import MigrationStore

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from ..ui.migration import MigrationProgress

__all__ = ["ACTIVE", "Clock", "check_health", "GATE_TIMEOUT_SECONDS", "HISTORY_COLUMNS", "Migration", "POLL_SECONDS", "start"]

POLL_SECONDS = 5.0
"""Virtual seconds ``run`` advances the local clock by while a gate waits (a wall clock is polled 1 s, growing to 15 s)."""
GATE_TIMEOUT_SECONDS = 900.0
"""A gate whose instances are not all running this long after its grace period pauses the migration."""
ACTIVE = ("planned", "running", "paused", "failed")
HISTORY_COLUMNS = ["time", "event", "source_capacity", "target_capacity", "total_capacity", "detail"]


class Clock(Protocol):
    """A clock gates can wait on: a local cloud (``s.local``) or an offline fake (``with fake_gcp() as cloud``)."""

    @property
    def now(self) -> pd.Timestamp: ...

    def advance(self, duration: pd.Timedelta) -> pd.Timestamp: ...


def start(session: planning.MigrationSession, store: MigrationStore, config: MigrationConfig, owner: str) -> Migration:
    """A new migration of ``config``, stored as ``planned`` (nothing is called on a cloud yet)."""
    bp = planning.blueprint(session, config)
    src = bp["source"]
    for other, state, _ in store.all():
        mine = state["blueprint"]["source"]
        if state["status"] in ACTIVE and (mine["provider"], mine["fleet"]) == (src["provider"], src["fleet"]):
            raise ConflictError(
                f"fleet {src['fleet']!r} on {src['provider']} is already being migrated by {other} ({state['status']})",
                operation="create_migration",
                cause="One fleet moves in one migration at a time",
                solution=f"Finish or roll back {other} first: s.migration({other!r}).rollback()",
            )
    now = session.now().timestamp()
    mid = f"mig-{uuid.uuid4().hex[:8]}"
    state = {
        "id": mid,
        "config": config.stored(),
        "blueprint": bp,
        "plan": planning.forward_steps(bp),
        "steps": planning.forward_steps(bp),
        "cursor": 0,
        "pending": False,
        "phase": "migrate",
        "status": "planned",
        "reason": "",
        "source_capacity": src["capacity"],
        "target_capacity": None,
        "gate_since": None,
        "updated_at": now,
    }
    store.insert(mid, state, now)
    store.save(mid, state, (now, "planned", src["capacity"], 0, f"{len(state['steps'])} steps"))
    return Migration(session, store, mid, owner, config.health_check)


class Migration:
    """One migration, read from and saved to the migration store at every step (any session may hold a handle)."""

    def __init__(
        self,
        session: planning.MigrationSession,
        store: MigrationStore,
        migration_id: str,
        owner: str,
        health_check: Callable[[pd.DataFrame], bool] | None = None,
    ) -> None:
        self.session = session
        self.id = migration_id
        self._store = store
        self._owner = owner
        self._check = health_check
        self._clock: Clock | None = None  # what a gate reads for a cloud that is not local, while step/run drive
        self._state = store.load(migration_id)

    # -- what it is ----------------------------------------------------------------
    def refresh(self) -> Migration:
        """Read the stored state again (another session may have moved or paused it)."""
        self._state = self._store.load(self.id)
        return self

    @property
    def status(self) -> str:
        return str(self.refresh()._state["status"])

    @property
    def reason(self) -> str:
        """Why it is paused or failed (empty otherwise)."""
        return str(self.refresh()._state["reason"])

    @property
    def phase(self) -> str:
        """``migrate``, or ``rollback`` once ``rollback()`` was called."""
        return str(self.refresh()._state["phase"])

    @property
    def config(self) -> MigrationConfig:
        """The config it was created with (the health check is the one this handle holds)."""
        stored = {k: v for k, v in self._state["config"].items() if k != "has_health_check"}
        return MigrationConfig(**stored, health_check=self._check)

    @property
    def progress(self) -> float:
        """How much of the source's capacity the target holds, 0..1 (during a rollback: how much is given back)."""
        st = self.refresh()._state
        c = int(st["blueprint"]["source"]["capacity"])
        if st["status"] in ("completed", "rolled_back"):
            return 1.0
        if c == 0:
            return 0.0
        moved = c - int(st["source_capacity"] or 0)
        return max(0.0, min(1.0, moved / c if st["phase"] == "migrate" else 1 - moved / c))

    @property
    def steps_done(self) -> tuple[int, int]:
        """(steps done, steps) of the current phase."""
        st = self.refresh()._state
        return st["cursor"], len(st["steps"])

    def plan(self) -> pd.DataFrame:
        """The migration's plan (``create_migration(..., dry_run=True)``'s frame) with a ``done`` column."""
        st = self.refresh()._state
        src = st["blueprint"]["source"]
        df = planning.plan_frame(st["blueprint"], st["plan"], src["capacity"], 0)
        df["done"] = df["step"] <= (st["cursor"] if st["phase"] == "migrate" else len(df))
        return df

    def history(self) -> pd.DataFrame:
        """Every step taken: time, event, both fleets' desired capacity after it, their total, detail."""
        rows = self._store.history(self.id)
        df = pd.DataFrame(rows, columns=["time", "event", "source_capacity", "target_capacity", "detail"])
        df["time"] = frames.utc(df["time"].to_numpy(dtype=float))
        df["total_capacity"] = df["source_capacity"] + df["target_capacity"]
        out: pd.DataFrame = df[HISTORY_COLUMNS]
        return out

    def figure(self) -> go.Figure:
        """Both fleets' desired capacity over the migration, stacked, with its events (``plots.migration_figure``)."""
        from ..plots import migration_figure

        bp = self._state["blueprint"]
        return migration_figure(
            self.history(),
            source=f"{bp['source']['fleet']} on {bp['source']['provider']}",
            target=f"{bp['target']['fleet']} on {bp['target']['provider']}",
            title=f"Migration {self.id}: {self.status}",
        )

    def widget(self) -> MigrationProgress:
        """A progress widget with Step, Run, Pause, Resume and Roll back buttons."""
        from ..ui.migration import MigrationProgress

        return MigrationProgress(self.session, self.id)  # type: ignore[arg-type]  # the session has the widget's protocol

    def __repr__(self) -> str:
        st = self.refresh()._state
        bp = st["blueprint"]
        done, total = st["cursor"], len(st["steps"])
        why = f" ({st['reason']})" if st["reason"] else ""
        return (
            f"<Migration {self.id} {bp['source']['fleet']}@{bp['source']['provider']} -> "
            f"{bp['target']['fleet']}@{bp['target']['provider']} {bp['strategy']}: {st['status']}{why}, "
            f"{st['phase']} step {done}/{total}, {self.progress:.0%}>"
        )

    def _repr_html_(self) -> str:
        import html

        return f"<code>{html.escape(repr(self))}</code>"

    # -- driving -----------------------------------------------------------------------
    def step(self, clock: Clock | None = None) -> bool:
        """Do what can be done now without waiting; True when anything moved (see the module's docstring).

        ``clock``: the time a gate reads for a cloud that is not local (default: the wall clock), e.g. an
        offline fake's: ``m.step(clock=cloud)``.
        """
        self._store.acquire(self.id, self._owner)
        self._clock = clock
        try:
            return self._advance()
        finally:
            self._clock = None
            self._store.release(self.id, self._owner)

    def run(
        self, timeout: str | float | pd.Timedelta | None = None, progress: bool = True, clock: Clock | None = None
    ) -> Migration:
        """Drive it until it is completed, rolled back, paused or failed; ``timeout`` (of the clock that is waited on)
        raises WaitTimeoutError with the migration still running (``run`` again goes on).

        While a gate waits, a virtual local clock is advanced, else the wall clock slept on. ``clock`` is the
        one to read and advance instead, for a cloud that is not local, e.g. an offline fake's own clock::

            with fake_gcp() as cloud:
                s.create_migration(cfg).run(clock=cloud)
        """
        from tqdm.auto import tqdm

        limit = None if timeout is None else durations.seconds(timeout, "timeout")
        self._store.acquire(self.id, self._owner)
        self._clock = clock
        waited, pause = 0.0, 1.0
        st = self.refresh()._state
        bar = tqdm(
            total=len(st["steps"]), initial=st["cursor"], desc=f"{self.id} {st['phase']}", disable=not progress, leave=False
        )
        try:
            while True:
                moved = self._advance()
                st = self._state
                bar.total, bar.n = len(st["steps"]), st["cursor"]
                bar.set_postfix_str(f"{st['status']}: source {st['source_capacity']}, target {st['target_capacity'] or 0}")
                if st["status"] != "running":
                    return self
                if moved:
                    continue
                if limit is not None and waited >= limit:
                    raise WaitTimeoutError(
                        f"migration {self.id} still waits at step {st['cursor'] + 1} after {waited:g} s: "
                        + planning.describe(st["steps"][st["cursor"]], st["blueprint"]),
                        operation="run",
                        solution="Look at the target's instances; m.run() again goes on, m.rollback() undoes",
                    )
                role = st["steps"][st["cursor"]]["role"]
                local = self.session.locals.get(st["blueprint"][role]["provider"])
                ticking = clock or (local if local is not None and self._virtual(role) else None)
                if ticking is not None:
                    seconds = POLL_SECONDS if limit is None else min(POLL_SECONDS, limit - waited)
                    ticking.advance(pd.Timedelta(seconds=max(seconds, 0.001)))
                else:
                    seconds = pause if limit is None else min(pause, limit - waited)
                    time.sleep(max(seconds, 0.0))
                    pause = min(pause * 1.5, 15.0)
                waited += seconds
                self._store.acquire(self.id, self._owner)  # renew the lease
        except KeyboardInterrupt:
            self.pause("interrupted")
            raise
        finally:
            bar.close()
            self._clock = None
            self._store.release(self.id, self._owner)

    def pause(self, reason: str = "paused by the user") -> Migration:
        """Stop at the next step (from any session: the driver reads the status before each step)."""
        st = self.refresh()._state
        if st["status"] not in ("planned", "running"):
            if st["status"] == "paused":
                return self
            raise self._finished("pause")
        self._set("paused", reason, "paused")
        return self

    def resume(self, health_check: Callable[[pd.DataFrame], bool] | None = None) -> Migration:
        """Make a paused or failed migration runnable again (``health_check``: give the check again after a restart);
        then ``run()`` or ``step()`` it: ``m.resume().run()``."""
        if health_check is not None:
            self._check = check_health(health_check)
            self.session.__dict__.setdefault("_migration_checks", {})[self.id] = self._check
        st = self.refresh()._state
        if st["status"] in ("completed", "rolled_back"):
            raise self._finished("resume")
        if st["status"] != "running":
            st["gate_since"] = None
            self._set("running", "", "resumed")
        return self

    def rollback(self, timeout: str | float | pd.Timedelta | None = None, progress: bool = True) -> Migration:
        """Give the source its capacity back (batch by batch for rolling), delete the target fleet the migration
        created, restore the source's bounds; runs to the end like ``run()``."""
        self._store.acquire(self.id, self._owner)
        try:
            st = self.refresh()._state
            if st["status"] in ("completed", "rolled_back"):
                raise self._finished("roll back")
            if st["phase"] == "migrate":
                bp = st["blueprint"]
                src, tgt = bp["source"], bp["target"]
                source_now = self.session.fleet(src["fleet"], provider=src["provider"]).capacity
                try:
                    target = self.session.fleet(tgt["fleet"], provider=tgt["provider"])
                except NotFoundError:
                    target_now: int | None = None
                else:  # only a fleet this migration created is removed
                    target_now = target.capacity if target.tags.get("migration") == self.id else None
                st.update(
                    phase="rollback",
                    steps=planning.rollback_steps(bp, source_now, target_now),
                    cursor=0,
                    pending=False,
                    gate_since=None,
                    source_capacity=source_now,
                    target_capacity=target_now,
                )
            st.update(status="running", reason="")
            self._save("rollback", f"{len(st['steps'])} steps")
        finally:
            self._store.release(self.id, self._owner)
        return self.run(timeout, progress)

    # -- the steps --------------------------------------------------------------------------
    def _finished(self, what: str) -> ConflictError:
        return ConflictError(
            f"migration {self.id} is {self._state['status']}: nothing to {what}",
            operation=what.replace(" ", ""),
            cause="A completed or rolled-back migration is over",
            solution="Create a new migration (s.create_migration) to move the fleet again",
        )

    def _virtual(self, role: str) -> bool:
        provider = self.session.manager.providers[self._state["blueprint"][role]["provider"]]
        return bool(getattr(getattr(provider, "clock", None), "virtual", False))

    def _save(self, event: str | None = None, detail: str = "") -> None:
        st = self._state
        now = self.session.now().timestamp()
        st["updated_at"] = now
        record = None
        if event is not None:
            record = (now, event, int(st["source_capacity"] or 0), int(st["target_capacity"] or 0), detail)
        self._store.save(self.id, st, record)

    def _set(self, status: str, reason: str, event: str) -> None:
        self._state.update(status=status, reason=reason)
        self._save(event, reason)
        self.session.changed()

    def _advance(self) -> bool:
        st = self.refresh()._state
        if st["status"] == "planned":
            self._set("running", "", "started")
        if st["status"] != "running":
            return False
        moved = False
        while st["cursor"] < len(st["steps"]):
            step = st["steps"][st["cursor"]]
            if step["kind"] == "gate":
                verdict = self._gate(step)
                if verdict is None:
                    return moved
                if verdict:
                    self._set("paused", verdict, "gate failed")
                    return True
                st.update(cursor=st["cursor"] + 1, gate_since=None)
                self._save("gate passed", planning.describe(step, st["blueprint"]))
            else:
                retried, st["pending"] = st["pending"], True
                self._save()
                try:
                    self._call(step, retried)
                except ComputeError as err:
                    st["pending"] = False
                    self._set("failed", f"{type(err).__name__}: {err.message}", "failed")
                    raise
                st.update(cursor=st["cursor"] + 1, pending=False)
                self._save(step["kind"], planning.describe(step, st["blueprint"]))
            moved = True
            if self.refresh()._state["status"] != "running":  # paused from elsewhere meanwhile
                return True
            st = self._state
        self._set("completed" if st["phase"] == "migrate" else "rolled_back", "", st["phase"] + " done")
        return True

    def _call(self, step: dict[str, Any], retried: bool) -> None:
        """One step's cloud call; safe to repeat (absolute capacities; a fleet already there or gone is fine)."""
        st = self._state
        bp = st["blueprint"]
        side = bp[step["role"]]
        fleet, provider = side["fleet"], side["provider"]
        kind = step["kind"]
        if kind == "scale":
            self.session.update_fleet_capacity(fleet, step["capacity"], provider=provider)
            st[f"{step['role']}_capacity"] = step["capacity"]
        elif kind == "bounds":
            config = FleetConfig(fleet, min_capacity=step["min_capacity"], max_capacity=step["max_capacity"], provider=provider)
            self.session.update_fleet(config)
        elif kind == "create":
            src = bp["source"]
            try:
                self.session.fleet(fleet, provider=provider)  # created before a crash: it is ours (we checked at the start)
            except NotFoundError:
                tags = {**src["tags"], "migrated-from": f"{src['provider']}/{src['fleet']}", "migration": self.id}
                config = FleetConfig(
                    fleet,
                    src["description"],
                    capacity=0,
                    min_capacity=0,
                    max_capacity=max(src["max_capacity"], src["capacity"]),
                    instance_type=side["instance_type"],
                    spot=src["spot"],
                    tags=tags,
                    provider=provider,
                )
                self.session.create_fleet(config)
            st["target_capacity"] = 0
        elif kind == "delete":
            try:
                self.session.delete_fleet(fleet, provider=provider)
            except NotFoundError:
                if not retried:
                    raise
            st[f"{step['role']}_capacity"] = 0

    def _gate(self, step: dict[str, Any]) -> str | None:
        """None while the gate waits, "" when it passes, else why it failed."""
        st = self._state
        bp = st["blueprint"]
        side = bp[step["role"]]
        want, grace = step["capacity"], float(bp["grace_period"])
        clock = self.session.locals.get(side["provider"]) or self._clock
        now = clock.now if clock is not None else pd.Timestamp.now(tz="UTC")
        rows = self.session.instances(side["fleet"], state="running", provider=side["provider"])
        ready = rows[rows["state_since"] <= now - pd.Timedelta(seconds=grace)]
        if len(ready) < want:
            since = st["gate_since"] if st["gate_since"] is not None else now.timestamp()
            if st["gate_since"] is None:
                st["gate_since"] = since
                self._save()
            if now.timestamp() - since > grace + GATE_TIMEOUT_SECONDS:
                return (
                    f"health gate: {len(ready)} of {want} {step['role']} instances running for {grace:g} s "
                    f"after {now.timestamp() - since:.0f} s"
                )
            return None
        if not step["check"]:
            return ""
        if self._check is None:
            if st["config"]["has_health_check"]:
                return "health gate: the health check is not stored; give it again with m.resume(health_check=...)"
            return ""
        try:
            ok = self._check(ready.reset_index(drop=True))
        except Exception as exc:  # the user's code: any failure fails the gate, with its message
            return f"health gate: the health check raised {type(exc).__name__}: {exc}"
        if not ok:
            return f"health gate: the health check returned {ok!r} for {len(ready)} {step['role']} instance(s)"
        return ""


def check_health(health_check: Callable[[pd.DataFrame], bool] | None) -> Callable[[pd.DataFrame], bool] | None:
    """``health_check`` when it is None or callable, else the ValidationError naming it."""
    if health_check is not None and not callable(health_check):
        raise ValidationError(
            f"health_check: must be a function taking the target's instances DataFrame and returning bool, not "
            f"{type(health_check).__name__}",
            field="health_check",
            rule="callable or None",
        )
    return health_check
