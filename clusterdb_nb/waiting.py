"""Wait for fleets or instances to reach a state, as boto3's waiters do, on every provider.

    >>> s.create_fleet(FleetConfig("web").with_capacity(5))
    >>> s.wait("web")                                   # until 5 instances run (default timeout 10 min)
    >>> s.wait(["i-0abc", "i-0def"], state="stopped", timeout="5min")

On a local cloud with a virtual clock the clock is advanced (nothing sleeps); elsewhere the
instances are polled with a growing interval. A ``tqdm.auto`` bar counts the instances settled;
Ctrl-C (or the kernel's interrupt) stops the wait. Past the timeout, ``WaitTimeoutError`` lists
every instance not there yet and its state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from . import durations
from .errors import ValidationError, WaitTimeoutError
from .models import Fleet, InstanceState

if TYPE_CHECKING:
    from .providers.local import LocalCloud

__all__ = ["BACKOFF", "ComputeSession", "FIRST_POLL", "MAX_POLL", "Progress", "progress", "VIRTUAL_STEP", "wait"]


class ComputeSession(Protocol):
    """What a wait reads of a session: its public API (no import back into ``session.py``, which calls this)."""

    def fleets(self) -> pd.DataFrame: ...
    def instances(
        self, fleet: str | None = None, state: str | Iterable[str] | None = None, provider: str | None = None
    ) -> pd.DataFrame: ...
    def fleet(self, fleet: str, provider: str | None = None) -> Fleet: ...
    def on_virtual_clock(self, instances: pd.DataFrame | None = None) -> bool: ...
    @property
    def local(self) -> LocalCloud: ...


VIRTUAL_STEP = 5.0  # seconds of virtual time per step
FIRST_POLL, MAX_POLL, BACKOFF = 1.0, 15.0, 1.5  # wall-clock polling, seconds
_FINAL = {InstanceState.TERMINATED.value}


@dataclass
class Progress:
    """Where a wait stands: instances settled out of those awaited, and the ones still not there."""

    settled: int
    total: int
    waiting: dict[str, str] = field(default_factory=dict)  # instance id or fleet -> what it is now
    impossible: dict[str, str] = field(default_factory=dict)  # instance id -> a final state it cannot leave

    @property
    def done(self) -> bool:
        return not self.waiting


def _split(session: ComputeSession, targets: str | Iterable[str], provider: str | None) -> tuple[list[str], list[str]]:
    """(fleet names, instance ids) among ``targets`` (on ``provider``, when given); else a ValidationError naming it."""
    names = [targets] if isinstance(targets, str) else list(targets)
    if not names:
        raise ValidationError("targets: give a fleet name or instance ids to wait for", field="targets", rule="non-empty")
    listed, rows = session.fleets(), session.instances(state="all")
    if provider is not None:
        listed, rows = listed[listed["provider"] == provider], rows[rows["provider"] == provider]
    fleets, instances = set(listed["name"]), set(rows["id"])
    unknown = [n for n in names if n not in fleets and n not in instances]
    if unknown:
        raise ValidationError(
            f"targets: no fleet or instance named {', '.join(map(repr, unknown))}",
            field="targets",
            rule="fleet names or instance ids",
            solution="List them with s.fleets() and s.instances()",
        )
    return [n for n in names if n in fleets], [n for n in names if n not in fleets]


def progress(
    session: ComputeSession, fleets: list[str], ids: list[str], state: str, provider: str | None = None
) -> tuple[Progress, pd.DataFrame]:
    """How far ``fleets`` (their desired capacity in ``state``) and instances ``ids`` are, and their rows."""
    rows = session.instances(state="all")
    if provider is not None:
        rows = rows[rows["provider"] == provider]
    settled = total = 0
    waiting: dict[str, str] = {}
    impossible: dict[str, str] = {}
    for name in fleets:
        fleet = session.fleet(name, provider=provider)
        members = rows[(rows["fleet"] == name) & ~rows["state"].isin(_FINAL)]
        if state == InstanceState.RUNNING.value:
            want, there = fleet.capacity, int((members["state"] == state).sum())
            moving = members[members["state"] != state]
            done = there == want and moving.empty
        else:
            want, there = len(members), int((members["state"] == state).sum())
            moving = members[members["state"] != state]
            done = moving.empty
        total += want
        settled += min(there, want)
        if not done:
            counts = moving["state"].value_counts().sort_index()
            waiting[name] = f"{there} of {want} {state}" + "".join(f", {n} {st}" for st, n in counts.items())
    by_id = rows.set_index("id")
    for iid in ids:
        now = str(by_id.at[iid, "state"])
        total += 1
        if now == state:
            settled += 1
        elif now in _FINAL:
            impossible[iid] = now
        else:
            waiting[iid] = now
    return Progress(settled, total, waiting, impossible), rows[rows["id"].isin(ids) | rows["fleet"].isin(fleets)]


def wait(
    session: ComputeSession,
    targets: str | Iterable[str],
    state: str = "running",
    timeout: str | float | pd.Timedelta = "10min",
    show_progress: bool = True,
    on_progress: Callable[[int, int], object] | None = None,
    provider: str | None = None,
) -> pd.DataFrame:
    """Block until ``targets`` (fleet names and/or instance ids, on ``provider`` when given) are ``state``; returns
    their instance rows.

    ``on_progress(settled, total)`` is called at each poll (a widget's progress bar uses it).
    """
    from tqdm.auto import tqdm

    try:
        wanted = InstanceState(state).value
    except ValueError:
        allowed = ", ".join(s.value for s in InstanceState)
        raise ValidationError(f"state: {state!r} is not one of {allowed}", field="state", rule=allowed) from None
    limit = durations.seconds(timeout, "timeout")
    fleets, ids = _split(session, targets, provider)
    now, rows = progress(session, fleets, ids, wanted, provider)
    virtual = session.on_virtual_clock(rows)
    waited, pause = 0.0, FIRST_POLL
    bar = tqdm(total=now.total, desc=f"waiting for {wanted}", unit="instance", disable=not show_progress, leave=False)
    try:
        while True:
            bar.total = now.total
            bar.n = now.settled
            bar.set_postfix_str(", ".join(f"{k}: {v}" for k, v in list(now.waiting.items())[:3]), refresh=True)
            if on_progress is not None:
                on_progress(now.settled, now.total)
            if now.impossible:
                raise _timeout(wanted, waited, now, "cannot get there: ")
            if now.done:
                return rows
            if waited >= limit:
                raise _timeout(wanted, waited, now, f"still not {wanted} after {pd.Timedelta(seconds=waited)}: ")
            step = min(VIRTUAL_STEP if virtual else pause, limit - waited)
            if virtual:
                session.local.advance(step)
            else:
                time.sleep(step)
                pause = min(pause * BACKOFF, MAX_POLL)
            waited += step
            now, rows = progress(session, fleets, ids, wanted, provider)
    finally:
        bar.close()


def _timeout(state: str, waited: float, now: Progress, prefix: str) -> WaitTimeoutError:
    stuck = {**now.impossible, **now.waiting}
    listed = ", ".join(f"{k} ({v})" for k, v in stuck.items())
    return WaitTimeoutError(
        f"{prefix}{listed}",
        operation="wait",
        cause=f"{now.settled} of {now.total} instances reached {state} in {pd.Timedelta(seconds=waited)}",
        solution="Look at them with s.instances(); wait longer with s.wait(..., timeout='30min'), or start what is stopped",
        waiting=stuck,
    )
