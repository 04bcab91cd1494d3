"""The local cloud's public handle (``s.local``): its clock, load traces and history.

>>> s.local.advance("30min")
>>> s.local.attach_trace("web", cpu)      # a CPU % Series on a DatetimeIndex
>>> s.local.history("web")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .clock import parse_duration

if TYPE_CHECKING:
    from .provider import LocalProvider


class LocalCloud:
    """Handle on the local cloud: its clock, load traces and history."""

    def __init__(self, provider: LocalProvider) -> None:
        self._provider = provider

    @property
    def now(self) -> pd.Timestamp:
        """The local cloud's time (UTC)."""
        return pd.Timestamp(self._provider.clock.now(), unit="s", tz="UTC")

    def advance(self, duration: str | float | pd.Timedelta) -> pd.Timestamp:
        """Move the virtual clock forward (``"30min"``, ``"2h"``, seconds); returns the new time."""
        return pd.Timestamp(self._provider.advance(parse_duration(duration)), unit="s", tz="UTC")

    def attach_trace(self, fleet: str, cpu_percent: pd.Series) -> None:
        """Drive ``fleet``'s load from a CPU % series on a DatetimeIndex, replayed from now."""
        self._provider.attach_trace(fleet, cpu_percent)

    def history(self, fleet: str | None = None) -> pd.DataFrame:
        """Every recorded instance state change."""
        return self._provider.history(fleet)
