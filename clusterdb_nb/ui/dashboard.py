"""Tabs for fleets, instances (select rows, then start / stop / terminate), functions, costs and utilization.

>>> d = s.dashboard()
>>> d.instance_picker.value = (iid,); d.stop.click()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..plots import display_output
from .tables import FLEET_COLUMNS, INSTANCE_COLUMNS, table_html
from .tasks import Status, run_task

if TYPE_CHECKING:
    from ..session import ComputeSession

TABS = ["Fleets", "Instances", "Functions", "Costs", "Utilization"]


class Dashboard(widgets.VBox):
    """Everything the session can list, in tabs, with a Refresh button."""

    def __init__(self, session: ComputeSession) -> None:
        self.session = session
        self.fleets = widgets.HTML()
        self.instance_picker = widgets.SelectMultiple(description="Instances", rows=8, layout=widgets.Layout(width="560px"))
        self.start = widgets.Button(description="Start", icon="play")
        self.stop = widgets.Button(description="Stop", icon="stop")
        self.terminate = widgets.Button(description="Terminate", button_style="danger", icon="trash")
        self.instances = widgets.HTML()
        self.functions = widgets.HTML()
        self.costs_by = widgets.ToggleButtons(options=["fleet", "instance_type", "provider"], value="fleet")
        self.costs = widgets.HTML()
        self.costs_chart = widgets.Output()
        self.fleet_picker = widgets.Dropdown(description="Fleet")
        self.chart = widgets.Output()
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.status = Status()
        for button, action in ((self.start, "start"), (self.stop, "stop"), (self.terminate, "terminate")):
            button.on_click(lambda _, a=action: self._act(a))
        self.refresh_button.on_click(lambda _: self.refresh())
        self.costs_by.observe(lambda _: self._costs(), "value")
        self.fleet_picker.observe(lambda _: self._chart(), "value")
        self.tabs = widgets.Tab(
            children=[
                self.fleets,
                widgets.VBox([self.instance_picker, widgets.HBox([self.start, self.stop, self.terminate]), self.instances]),
                self.functions,
                widgets.VBox([self.costs_by, self.costs, self.costs_chart]),
                widgets.VBox([self.fleet_picker, self.chart]),
            ]
        )
        for i, title in enumerate(TABS):
            self.tabs.set_title(i, title)
        self.refresh()
        super().__init__([widgets.HBox([self.refresh_button, self.status]), self.tabs])
        self.add_class("clusterdb-dashboard")

    def refresh(self) -> None:
        """Re-read everything from the session."""
        fleets = self.session.fleets()
        self.fleets.value = table_html(fleets, FLEET_COLUMNS, empty="no fleets")
        instances = self.session.instances()
        self.instance_picker.options = [(f"{r.id!s} · {r.fleet or '-'!s} · {r.state!s}", r.id) for r in instances.itertuples()]
        self.instances.value = table_html(instances, INSTANCE_COLUMNS, empty="no instances")
        self.functions.value = table_html(self.session.functions(), empty="no functions")
        names = fleets["name"].tolist()
        current = self.fleet_picker.value
        self.fleet_picker.options = names  # resets the value to None; setting it again redraws the chart
        self.fleet_picker.value = current if current in names else (names[0] if names else None)
        self._costs()

    def _act(self, action: str) -> None:
        ids = list(self.instance_picker.value)
        if not ids:
            self.status.show("Select one or more instances first", ok=False)
            return
        call = getattr(self.session, f"{action}_instance")

        def done(results: Any) -> None:
            self.refresh()
            self.status.show(f"{action}: " + ", ".join(f"{i.id} → {i.state}" for i in results))

        run_task(self.status, f"{action.title()}…", lambda: [call(i) for i in ids], done)

    def _costs(self) -> None:
        by = self.costs_by.value
        self.costs.value = table_html(self.session.costs(by=by), empty="no costs yet")
        self.costs_chart.outputs = (display_output(self.session.plot_costs(by=by)),)

    def _chart(self) -> None:
        fleet = self.fleet_picker.value
        self.chart.outputs = (display_output(self.session.plot_utilization(fleet)),) if fleet else ()
