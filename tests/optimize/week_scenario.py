"""The runbook's week (notebook 10): three local fleets under a week of virtual load.

- ``batch`` is oversized: 4 x m5.xlarge at about 12 % CPU;
- ``office`` is idle at night: 4 x t3.large, about 60 % from 08:00 to 20:00 UTC on weekdays, 3 % otherwise;
- ``api`` is steady: 3 x m5.large at about 55 % all week.

``week(s)`` creates them, attaches the traces and advances the virtual clock by seven days, so
``s.recommendations(window="7d")`` has a week of history. The notebook and the tests share it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import clusterdb_nb as cdb

__all__ = ["FLEETS", "START", "constant", "run", "traces", "week"]

START = pd.Timestamp("2026-01-05T00:00:00Z")  # a Monday: where a virtual local clock starts
FLEETS = {
    "batch": cdb.FleetConfig("batch", capacity=4, instance_type="m5.xlarge", provider="local"),
    "office": cdb.FleetConfig("office", capacity=4, instance_type="t3.large", provider="local"),
    "api": cdb.FleetConfig("api", capacity=3, instance_type="m5.large", provider="local"),
}


def traces(seed: int = 7) -> dict[str, pd.Series]:
    """A week of CPU % per fleet, every 5 minutes from START."""
    index = pd.date_range(START, periods=7 * 24 * 12, freq="5min")
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 1.0, (3, len(index)))
    office_hours = (index.day_of_week < 5) & (index.hour >= 8) & (index.hour < 20)
    return {
        "batch": pd.Series(np.clip(12.0 + 2.0 * noise[0], 0, 100), index=index),
        "office": pd.Series(np.clip(np.where(office_hours, 60.0, 3.0) + 1.0 * noise[1], 0, 100), index=index),
        "api": pd.Series(np.clip(55.0 + 3.0 * noise[2], 0, 100), index=index),
    }


def constant(cpu: float, days: float = 7) -> pd.Series:
    """``cpu`` % every 5 minutes for ``days`` from START (a flat load, for exact thresholds)."""
    return pd.Series(float(cpu), index=pd.date_range(START, periods=int(days * 24 * 12), freq="5min"))


def run(s: cdb.ComputeSession, fleets: dict[str, tuple[cdb.FleetConfig, pd.Series]], days: float = 7) -> cdb.ComputeSession:
    """Create each fleet at START (a virtual clock's start), drive it by its trace and advance ``days``."""
    assert s.local.now == START, "a fresh virtual local cloud starts at START"
    for config, _ in fleets.values():
        s.create_fleet(config)
    s.local.advance("1min")  # booted
    for name, (_, trace) in fleets.items():
        s.local.attach_trace(name, trace)
    s.local.advance(pd.Timedelta(days=days) - pd.Timedelta("1min"))
    return s


def week(s: cdb.ComputeSession) -> cdb.ComputeSession:
    """The runbook's three fleets under a week of their traces."""
    return run(s, {name: (FLEETS[name], trace) for name, trace in traces().items()}, days=7)
