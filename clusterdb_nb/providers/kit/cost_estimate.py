"""Costs when a cloud's billing data is not at hand: running time times the catalog's list price.

The window defaults to the month so far; each running instance costs its
hours since its last (re)launch within the window times its hourly price
(``source="estimate"``). ``billed_else_estimated`` puts the two together for
a cloud that has a billing API (AWS Cost Explorer, Azure Cost Management)::

    >>> cost_window(None, pd.Timestamp("2026-03-10T12:00Z"))
    (Timestamp('2026-03-01 00:00:00+0000', tz='UTC'), Timestamp('2026-03-10 12:00:00+0000', tz='UTC'))
    >>> df = await billed_else_estimated(billed, lambda: provider.list_instances(None, {InstanceState.RUNNING}), lo, hi)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import pandas as pd

from ... import durations, frames
from ...errors import ComputeError, NetworkError

__all__ = ["billed_else_estimated", "cost_window", "estimate"]

log = logging.getLogger("clusterdb_nb.costs")


def cost_window(
    start: pd.Timestamp | None, end: pd.Timestamp | None, now: pd.Timestamp | None = None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The cost window: ``start`` defaults to the first day of ``end``'s month, ``end`` to now (UTC), never after now.

    A window that lies after now is empty (``lo == hi``), as every window with ``start == end`` is.
    """
    durations.check_window(start, end)
    now = now or pd.Timestamp.now(tz="UTC")
    hi = min(end, now) if end is not None else now
    lo = start if start is not None else hi.normalize().replace(day=1)
    return min(lo, hi), hi


def estimate(instances: pd.DataFrame, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DataFrame:
    """``frames.COSTS`` rows for the running instances of a ``frames.INSTANCES`` frame: hours in the window times price."""
    df = instances[instances["state"] == "running"]
    since = df["launched_at"].where(df["launched_at"] > lo, lo)  # running since its (re)launch, or the window's start
    seconds = (hi - since).dt.total_seconds().clip(lower=0.0)  # until hi <= now
    df = df.assign(running_seconds=seconds)[seconds > 0].sort_values(["fleet", "id"], na_position="last")
    return frames.costs(
        provider=df["provider"].to_numpy(),
        kind="instance",
        resource=df["id"].to_numpy(),
        fleet=df["fleet"].to_numpy(),
        instance_type=df["instance_type"].to_numpy(),
        region=df["region"].to_numpy(),
        spot=df["spot"].to_numpy(dtype=bool),
        running_seconds=df["running_seconds"].to_numpy(dtype=float),
        cost_usd=(df["running_seconds"] / 3600.0 * df["hourly_cost_usd"]).round(9).to_numpy(dtype=float),
        source="estimate",
    )


async def billed_else_estimated(
    billed: Callable[[], Awaitable[pd.DataFrame | None]],
    running: Callable[[], Awaitable[pd.DataFrame]],
    lo: pd.Timestamp,
    hi: pd.Timestamp,
) -> pd.DataFrame:
    """The billing API's frame when it attributes costs, else the estimate for the ``running`` instances.

    ``billed()`` returns None when the bill holds nothing attributable (e.g. the fleet tag is not yet
    activated for billing); a ComputeError from it (no permission, not enabled) falls back to the
    estimate too, but a NetworkError is raised: the cloud is unreachable, so listing would fail as well.
    """
    try:
        found = await billed()
    except NetworkError:
        raise
    except ComputeError as err:
        log.info("billing data unavailable (%s); estimating from the catalog", err)
        found = None
    return found if found is not None else estimate(await running(), lo, hi)
