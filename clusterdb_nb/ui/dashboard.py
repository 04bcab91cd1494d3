"""Tabs for fleets, instances (one grid: select rows, then start / stop / terminate), functions, costs and utilization.

>>> d = s.dashboard()
>>> d.instances.select([iid]); d.instances.stop.click(); d.instances.confirm.click()
"""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd

from ..plots import display_output, pick_period
from .instances import InstancesGrid
from .protocol import SessionAPI
from .refresh import RefreshBar
from .static import StaticFallback
from .tables import FLEET_COLUMNS, table_html
from .tasks import Status

__all__ = ["Dashboard", "TABS"]

TABS = ["Fleets", "Instances", "Functions", "Costs", "Utilization"]


class Dashboard(StaticFallback, widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """Everything the session can list, in tabs, refreshed by any change made through the session."""

    kind = "dashboard"

    def __init__(self, session: SessionAPI) -> None:
        self.session = session
        self.fleets = widgets.HTML()
        self.instances = InstancesGrid(session)
        self.functions = widgets.HTML()
        self.costs_by = widgets.ToggleButtons(
            options=[("fleet", "fleet"), ("instance type", "instance_type"), ("provider", "provider")],
            value="fleet",
            description="Group by",
        )
        self.costs = widgets.HTML()
        self.costs_chart = widgets.Output()
        self.fleet_picker = widgets.Dropdown(description="Fleet")
        self.chart = widgets.Output()
        self.costs_by.observe(lambda _: self._costs(), "value")
        self.fleet_picker.observe(lambda _: self._chart(), "value")
        self.tabs = widgets.Tab(
            children=[
                self.fleets,
                self.instances,
                self.functions,
                widgets.VBox([self.costs_by, self.costs, self.costs_chart]),
                widgets.VBox([self.fleet_picker, self.chart]),
            ]
        )
        for i, title in enumerate(TABS):
            self.tabs.set_title(i, title)
        self.bar = RefreshBar(session, self._redraw, auto=True)
        self.bar.refresh()
        super().__init__([self.bar, self.tabs])
        self.add_class("clusterdb-dashboard")

    @property
    def status(self) -> Status:
        """The instances tab's status line (progress, results, errors)."""
        return self.instances.status

    def refresh(self) -> None:
        """Re-read everything from the session."""
        self.bar.refresh()

    def _redraw(self) -> None:
        fleets = self.session.fleets()
        self.fleets.value = table_html(fleets, FLEET_COLUMNS, empty="no fleets")
        self.instances.refresh()
        self.functions.value = table_html(self.session.functions(), empty="no functions")
        names = fleets["name"].tolist()
        current = self.fleet_picker.value
        self.fleet_picker.options = names  # resets the value to None; setting it again redraws the chart
        self.fleet_picker.value = current if current in names else (names[0] if names else None)
        self._costs()

    def _costs(self) -> None:
        by = self.costs_by.value
        self.costs.value = table_html(self.session.costs(by=by), empty="no costs yet")
        launched = self.session.instances(state="all")["launched_at"]
        end = self.session.now()
        start = launched.min() if len(launched) else end - pd.Timedelta("1h")
        period = pick_period(end - start)
        fig = self.session.plot_costs(by=by, start=start, end=end, period=period)
        self.costs_chart.outputs = (display_output(fig),)

    def _chart(self) -> None:
        fleet = self.fleet_picker.value
        self.chart.outputs = (display_output(self.session.plot_utilization(fleet)),) if fleet else ()
