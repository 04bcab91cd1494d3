"""What the rules look at: each fleet's utilization over the window, read once through the session.

    >>> seen = observe(s, window="14d")
    >>> seen.fleets["web"].p95_cpu, seen.fleets["web"].hours_observed

Every figure comes from the provider interface (``s.fleets()``, ``s.utilization()``, ``s.instances()``,
``s.costs()``), so the rules work the same on every cloud. A provider whose listing or metrics fail is
recorded in ``errors`` and its fleets are left out; the others still come back.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import durations
from ..display import HOURS_PER_MONTH
from ..errors import ComputeError, ValidationError
from ..models import Fleet

__all__ = ["FleetSeen", "HOURS_PER_MONTH", "MIN_HOURS", "Observed", "confidence_of", "detached", "observe"]

MIN_HOURS = 24.0  # a fleet with less history than this gets no finding: one day says nothing about a week


@dataclass
class FleetSeen:
    """One fleet and its utilization (``frames.UTILIZATION`` rows, 5-minute means) over the window."""

    fleet: Fleet
    kind: str  # the provider's kind (local, aws, gcp, azure, ...)
    region: str
    util: pd.DataFrame
    price_per_hour: float  # $/h of one instance as it runs now (on-demand or spot)

    @property
    def hours_observed(self) -> float:
        """Hours of the window with a utilization sample (5-minute rows / 12)."""
        return float(self.util["cpu_percent"].notna().sum()) / 12.0

    @property
    def p95_cpu(self) -> float:
        """95th percentile of the 5-minute mean CPU %, over the hours an instance ran."""
        cpu = self.util.loc[self.util["running"] > 0, "cpu_percent"].dropna()
        return float(np.percentile(cpu, 95)) if len(cpu) else math.nan

    @property
    def mean_running(self) -> float:
        """Instances running on average over the window."""
        return float(self.util["running"].mean()) if len(self.util) else float(self.fleet.running)

    @property
    def demand(self) -> pd.Series:
        """Hourly mean demand in instances (CPU % x running / 100), on a UTC index."""
        util = self.util.dropna(subset=["cpu_percent"])
        units = util["cpu_percent"].to_numpy() * util["running"].to_numpy() / 100.0
        series: pd.Series = pd.Series(units, index=pd.DatetimeIndex(util["time"])).resample("1h").mean().dropna()
        return series


@dataclass
class Observed:
    """Everything the rules read: the window, each fleet's history, and the providers that failed."""

    session: Any
    start: pd.Timestamp
    end: pd.Timestamp
    fleets: dict[tuple[str, str], FleetSeen] = field(default_factory=dict)  # (provider, fleet) -> seen
    errors: dict[str, ComputeError] = field(default_factory=dict)

    @property
    def window_hours(self) -> float:
        return float((self.end - self.start) / pd.Timedelta("1h"))

    def usable(self) -> list[FleetSeen]:
        """The fleets with at least :data:`MIN_HOURS` of history, in provider and name order."""
        return [f for _, f in sorted(self.fleets.items()) if f.hours_observed >= MIN_HOURS]


def detached(err: ComputeError) -> ComputeError:
    """A copy of ``err`` without its traceback and chained causes, so a frame's ``attrs`` holding it can be deep-copied
    (pandas copies ``attrs`` on every operation; with tblib's exception pickling, as dask installs, a traceback would
    be copied frame by frame)."""
    bare = copy.copy(err)
    bare.__traceback__ = bare.__cause__ = bare.__context__ = None
    return bare


def confidence_of(hours: float, window_hours: float) -> str:
    """high when the history covers at least 90 % of the window, medium from 25 %, else low."""
    share = hours / window_hours if window_hours else 0.0
    return "high" if share >= 0.9 else "medium" if share >= 0.25 else "low"


def observe(
    session: Any, window: str | float | pd.Timedelta = "14d", report: Callable[[str, dict[str, ComputeError]], None] | None = None
) -> Observed:
    """Read every fleet's utilization over the last ``window`` (up to the session's now).

    A fleet whose metrics cannot be read is left out and its provider's error goes to ``errors`` and to ``report``
    (the session's warning and ``s.errors()``; its own listings report their failures themselves).
    """
    seconds = durations.seconds(window)
    if seconds < MIN_HOURS * 3600:
        raise ValidationError(
            f"window: {window!r} is shorter than {MIN_HOURS:g} hours; the rules need at least a day of history",
            field="window",
            rule=f">= {MIN_HOURS:g}h",
            solution="Pass a window such as '7d' or '14d'",
        )
    end = session.now()
    seen = Observed(session, end - pd.Timedelta(seconds=seconds), end)
    fleets = session.fleets()
    seen.errors.update(fleets.attrs.get("errors", {}))
    for row in fleets.itertuples():
        try:
            fleet = session.fleet(row.name, provider=row.provider)
            provider = session.manager.provider(row.provider)
            util = session.utilization(row.name, start=seen.start, end=end, period="5min", provider=row.provider)
            price = provider.hourly_price(fleet.instance_type, fleet.spot)
        except ComputeError as err:
            seen.errors[row.provider] = err
            if report is not None:
                report("recommendations", {row.provider: err})
            continue
        seen.fleets[(row.provider, row.name)] = FleetSeen(fleet, provider.kind, provider.region, util, price)
    return seen
