"""Replay, compare, apply: an autoscaling policy tuned on a trace, in one widget.

Sliders for the target and the cooldown redraw the simulation (aggregated to what the width shows,
with a range slider); the Pareto chart shows every policy of the grid: clicking a point (or picking one
of the front in the list beside it, from the keyboard) shows its numbers and moves the sliders to it;
"Apply to fleet" shows the dry-run plan, then applies on Confirm.

>>> t = s.tuner("web", trace)           # or cdb.tuner(trace, provider="gcp", instance_type="n2-standard-2")
>>> t.target.value = 60; t.cooldown.value = 300; t.apply.click(); t.confirm.click()
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from ..autoscaling import Trace, load_trace, simulate, tune
from ..display import money, number
from ..errors import ComputeError, ValidationError
from ..models import AutoScalingConfig, Fleet, Plan
from ..plots import display_output
from .protocol import SessionAPI
from .static import StaticFallback
from .tasks import Status, run_task

if TYPE_CHECKING:
    from plotly.basedatatypes import BaseTraceType
    from plotly.callbacks import InputDeviceState, Points

__all__ = ["Tuner"]


class Tuner(StaticFallback, widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """Target and cooldown sliders over a simulated trace, the Pareto chart of the grid, and Apply to fleet."""

    kind = "tuner"

    def __init__(
        self,
        trace: Any,
        provider: str = "aws",
        instance_type: str | None = "m5.large",
        targets: Iterable[float] = (40, 50, 60, 70, 80),
        cooldowns: Iterable[int] = (60, 180, 300, 600),
        min_capacity: int = 1,
        max_capacity: int = 10,
        observed_capacity: float | None = None,
        session: SessionAPI | None = None,
        fleet: str | None = None,
    ) -> None:
        self.trace: Trace = trace if isinstance(trace, Trace) else load_trace(trace, "1min", observed_capacity)
        self.provider, self.instance_type = provider, instance_type
        self.min_capacity, self.max_capacity = min_capacity, max_capacity
        self.session, self.fleet = session, fleet
        targets, cooldowns = sorted(set(map(float, targets))), sorted(set(map(int, cooldowns)))
        if not targets or not cooldowns:
            raise ValidationError("targets, cooldowns: give at least one of each", field="targets", rule="non-empty grids")
        self.result = tune(
            self.trace, targets=targets, cooldowns=cooldowns, min_capacity=min_capacity, max_capacity=max_capacity,
            provider=provider, instance_type=instance_type, progress=False,
        )  # fmt: skip
        best = self.result.recommended
        self.target = widgets.SelectionSlider(
            options=[(f"{t:g}%", t) for t in targets], value=best.target_cpu_utilization, description="Target CPU",
            continuous_update=False, layout=widgets.Layout(width="420px"),
        )  # fmt: skip
        self.cooldown = widgets.SelectionSlider(
            options=[(f"{c} s", c) for c in cooldowns], value=best.cooldown_seconds, description="Cooldown",
            continuous_update=False, layout=widgets.Layout(width="420px"),
        )  # fmt: skip
        self.numbers = widgets.HTML()
        self.simulation = widgets.Output()
        import plotly.graph_objects as go  # on first use: importing the widgets stays light

        self.pareto = go.FigureWidget()
        front = self.result.pareto
        self.front = widgets.Select(
            options=[(self._words(r), i) for i, r in front.iterrows()], description="Front", rows=min(8, max(len(front), 2)),
            layout=widgets.Layout(width="560px"),
        )  # fmt: skip
        self.apply = widgets.Button(description="Apply to fleet", button_style="primary", icon="check", disabled=fleet is None)
        self.plan = widgets.HTML()
        self.confirm = widgets.Button(description="Confirm", button_style="danger", icon="check")
        self.confirm.layout.display = "none"
        self.status = Status()
        self.target.observe(lambda _: self._redraw(), "value")
        self.cooldown.observe(lambda _: self._redraw(), "value")
        self.front.observe(lambda ch: self._pick(ch["new"]), "value")
        self.apply.on_click(lambda _: self._ask())
        self.confirm.on_click(lambda _: self._apply())
        self._redraw()
        where = f" for fleet <b>{html.escape(fleet)}</b>" if fleet else ""
        super().__init__(
            [
                widgets.HTML(f"<b>Tune an autoscaling policy</b>{where}: {html.escape(provider)} rules, {self.result.reason}"),
                self.target,
                self.cooldown,
                self.numbers,
                self.simulation,
                widgets.HBox([self.pareto, self.front]),
                widgets.HBox([self.apply, self.confirm]),
                self.plan,
                self.status,
            ]
        )
        self.add_class("clusterdb-tuner")

    @staticmethod
    def _words(row: pd.Series) -> str:
        cost = money(row["cost_usd"]) if pd.notna(row["cost_usd"]) else f"{number(row['instance_hours'])} instance-h"
        saturated = number(row["minutes_saturated"])
        return f"{row['target_cpu_utilization']:g}% / {row['cooldown_seconds']} s: {cost}, {saturated} min saturated"

    def policy(self) -> AutoScalingConfig:
        """The policy the sliders describe."""
        return AutoScalingConfig(
            min_capacity=self.min_capacity, max_capacity=self.max_capacity,
            target_cpu_utilization=self.target.value, cooldown_seconds=self.cooldown.value,
        )  # fmt: skip

    def selected_row(self) -> int | None:
        """The grid row (``result.table`` index) of the policy the sliders describe."""
        t = self.result.table
        hit = t[(t["target_cpu_utilization"] == self.target.value) & (t["cooldown_seconds"] == self.cooldown.value)]
        return int(hit.index[0]) if len(hit) else None

    def _redraw(self) -> None:
        self.plan.value, self.confirm.layout.display = "", "none"
        self.status.clear()
        sim = simulate(self.trace, self.policy(), provider=self.provider, instance_type=self.instance_type)
        s = sim.summary
        self.numbers.value = (
            f"<b>{self.target.value:g}% / {self.cooldown.value} s</b>: "
            f"{money(s.cost_usd) if pd.notna(s.cost_usd) else number(s.instance_hours) + ' instance-h'} over the trace, "
            f"{number(s.minutes_saturated)} min saturated, {number(s.minutes_above_target)} min above target, "
            f"{s.scaling_actions} scaling actions, p95 utilization {number(s.p95_utilization)}%"
        )
        self.simulation.outputs = (display_output(sim.figure()),)
        self._draw_pareto()

    def _draw_pareto(self) -> None:
        fig = self.result.figure(selected=self.selected_row())
        with self.pareto.batch_update():
            self.pareto.data = ()
            self.pareto.add_traces(fig.data)
            self.pareto.layout = fig.layout
        for trace in self.pareto.data:
            trace.on_click(self._clicked)

    def _clicked(self, trace: BaseTraceType, points: Points, state: InputDeviceState | None = None) -> None:
        """Plotly's click callback: the clicked policy (its grid row rides in ``customdata``) is selected."""
        if points.point_inds:
            self.select(int(trace.customdata[points.point_inds[0]]))

    def select(self, index: int) -> None:
        """Select the grid's policy at ``index`` (a ``result.table`` row): the sliders, numbers and charts follow."""
        on_front = index in {value for _, value in self.front.options}
        self.front.value = index if on_front else None
        self._pick(index)

    def _pick(self, index: int | None) -> None:
        if index is None:
            return
        row = self.result.table.loc[index]
        self.target.value, self.cooldown.value = float(row["target_cpu_utilization"]), int(row["cooldown_seconds"])

    def _ask(self) -> None:
        if self.session is None or self.fleet is None:
            return
        self.status.clear()
        try:
            plan = self.session.configure_auto_scaling(self.fleet, self.policy(), dry_run=True)
        except ComputeError as err:
            self.status.error(err)
            return
        assert isinstance(plan, Plan)
        self.plan.value = plan._repr_html_()
        self.confirm.description = f"Apply {self.target.value:g}% / {self.cooldown.value} s"
        self.confirm.layout.display = ""

    def _apply(self) -> None:
        if self.session is None or self.fleet is None:
            return
        session, fleet, policy = self.session, self.fleet, self.policy()
        self.confirm.layout.display = "none"

        def applied(result: Any) -> None:
            assert isinstance(result, Fleet)
            self.plan.value = ""
            self.status.show(
                f"{result.name} now scales to {policy.target_cpu_utilization:g}% CPU, cooldown {policy.cooldown_seconds} s"
            )

        run_task(self.status, "Applying…", lambda: session.configure_auto_scaling(fleet, policy), applied)
