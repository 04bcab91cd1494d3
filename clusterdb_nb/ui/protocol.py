"""What a widget needs from a session: the public methods it calls, and nothing else.

The widgets take any object with these methods (a ``ComputeSession`` is one), so ``ui/`` never imports
``clusterdb_nb.session`` and the session builds its widgets without an import cycle. A test can hand a
widget a small fake instead of a session.

>>> def fleet_names(session: SessionAPI) -> list[str]:
...     return session.fleets()["name"].tolist()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import pandas as pd

from ..models import AutoScalingConfig, Fleet, FleetConfig, Instance, Plan

if TYPE_CHECKING:
    from ..optimize import Applied, Recommendation
    from ..plots import Figure

TimeLike: TypeAlias = "str | datetime | pd.Timestamp | None"

__all__ = ["SessionAPI"]


class SessionAPI(Protocol):
    """The session methods the widgets call (see ``clusterdb_nb.session.ComputeSession`` for what each does)."""

    # listings
    def fleets(self) -> pd.DataFrame: ...
    def instances(
        self, fleet: str | None = None, state: str | Iterable[str] | None = None, provider: str | None = None
    ) -> pd.DataFrame: ...
    def functions(self) -> pd.DataFrame: ...
    def costs(self, start: TimeLike = None, end: TimeLike = None, by: str = "fleet") -> pd.DataFrame: ...
    def fleet(self, fleet: str, provider: str | None = None) -> Fleet: ...
    def instance(self, instance_id: str, provider: str | None = None) -> Instance: ...

    # changes (``dry_run=True``: the plan)
    def create_fleet(self, config: FleetConfig, dry_run: bool = False, wait: bool = False) -> Fleet | Plan: ...
    def update_fleet_capacity(
        self, fleet: str, capacity: int, dry_run: bool = False, provider: str | None = None, wait: bool = False
    ) -> Fleet | Plan: ...
    def configure_auto_scaling(
        self, fleet: str, config: AutoScalingConfig | dict[str, Any], dry_run: bool = False, provider: str | None = None
    ) -> Fleet | Plan: ...
    def start_instance(
        self, instance_id: str, dry_run: bool = False, provider: str | None = None, wait: bool = False
    ) -> Instance | Plan: ...
    def stop_instance(
        self, instance_id: str, dry_run: bool = False, provider: str | None = None, wait: bool = False
    ) -> Instance | Plan: ...
    def terminate_instance(self, instance_id: str, dry_run: bool = False, provider: str | None = None) -> Instance | Plan: ...

    # charts
    def plot_costs(self, by: str = "fleet", start: TimeLike = None, end: TimeLike = None, period: str = "1h") -> Figure: ...
    def plot_utilization(
        self, fleet: str, start: TimeLike = None, end: TimeLike = None, period: str = "5min", provider: str | None = None
    ) -> Figure: ...

    # refresh, time and waiting
    def on_change(self, callback: Callable[[], object]) -> Callable[[], None]: ...
    def now(self) -> pd.Timestamp: ...
    def on_virtual_clock(self, instances: pd.DataFrame | None = None) -> bool: ...
    def wait(
        self,
        targets: str | Iterable[str],
        state: str = "running",
        timeout: str | float | pd.Timedelta = "10min",
        progress: bool = True,
        on_progress: Callable[[int, int], object] | None = None,
    ) -> pd.DataFrame: ...

    # what a new fleet can be
    def fleet_defaults(self) -> pd.DataFrame: ...
    def instance_types(self, provider: str | None = None) -> pd.DataFrame: ...
    def hourly_price(self, instance_type: str, spot: bool = False, provider: str | None = None) -> float: ...

    # cost recommendations
    def recommendations(
        self, window: str | float | pd.Timedelta = "14d", kinds: str | Iterable[str] | None = None, **thresholds: Any
    ) -> pd.DataFrame: ...
    def apply(self, recommendation: Recommendation | pd.Series | str, dry_run: bool = False) -> Applied: ...
