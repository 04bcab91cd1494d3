"""Scale one fleet: a slider sized to the fleet and a number within its bounds, the $/h delta shown before Apply.

A value outside the fleet's bounds is brought within them, and the widget says so.

>>> sc = s.scaler("web-fleet")
>>> sc.capacity.value = 8; sc.apply.click()
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from ..display import HOURS_PER_MONTH, money, signed_money
from ..errors import ComputeError
from ..models import Fleet, Plan
from .protocol import SessionAPI
from .refresh import RefreshBar
from .static import StaticFallback
from .tasks import Status, run_task

__all__ = ["Scaler", "slider_max"]


def slider_max(fleet: Fleet, value: int) -> int:
    """The slider's top: the fleet's max, unless that is far beyond what is in use (then twice the capacity, at least 10)."""
    return min(fleet.max_capacity, max(10, 2 * max(fleet.capacity, value), fleet.min_capacity + 1))


class Scaler(StaticFallback, widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """Desired capacity of ``fleet`` with the hourly and monthly cost change of the change."""

    kind = "scaler"

    def __init__(self, session: SessionAPI, fleet: str) -> None:
        self.session = session
        self.fleet = session.fleet(fleet)
        f = self.fleet
        self.title = widgets.HTML()
        self.slider = widgets.IntSlider(
            value=f.capacity,
            min=f.min_capacity,
            max=slider_max(f, f.capacity),
            description="Capacity",
            readout=False,
            continuous_update=False,
            layout=widgets.Layout(width="420px"),
        )
        self.capacity = widgets.IntText(value=f.capacity, layout=widgets.Layout(width="90px"))
        self.note = widgets.HTML()
        self.delta = widgets.HTML()
        self.apply = widgets.Button(description="Apply", button_style="primary", icon="check")
        self.status = Status()
        self._setting = False
        self.slider.observe(lambda ch: self._set(ch["new"]), "value")
        self.capacity.observe(lambda ch: self._set(ch["new"]), "value")
        self.apply.on_click(lambda _: self._apply())
        self.bar = RefreshBar(session, self._reload)
        self._title()
        self._price()
        super().__init__(
            [self.title, widgets.HBox([self.slider, self.capacity]), self.note, self.delta, self.apply, self.status, self.bar]
        )
        self.add_class("clusterdb-scaler")

    def _title(self) -> None:
        f = self.fleet
        self.title.value = (
            f"<b>Scale {html.escape(f.name)}</b> ({html.escape(f.provider)}, {html.escape(f.instance_type)}, "
            f"bounds {f.min_capacity}–{f.max_capacity}, now {f.capacity})"
        )

    def _set(self, value: int) -> None:
        """One value for slider and number: brought within the fleet's bounds (saying so), then priced."""
        if self._setting:
            return
        f = self.fleet
        self.status.clear()
        clamped = min(max(value, f.min_capacity), f.max_capacity)
        self._setting = True
        try:
            if clamped > self.slider.max:
                self.slider.max = slider_max(f, clamped)
            self.slider.value = clamped
            self.capacity.value = clamped
        finally:
            self._setting = False
        self.note.value = ""  # the value first, then the note: what is read after the note is the value shown
        if clamped != value:
            side = "above the maximum" if value > f.max_capacity else "below the minimum"
            self.note.value = (
                f"<span style='color:var(--jp-warn-color1,#b45309)'>{value} is {side} of {html.escape(f.name)} "
                f"({f.min_capacity}–{f.max_capacity}): set to {clamped}</span>"
            )
        self._price()

    def _price(self) -> None:
        target = self.capacity.value
        try:
            plan = self.session.update_fleet_capacity(self.fleet.name, target, dry_run=True)
        except ComputeError as err:
            self.status.error(err)
            return
        assert isinstance(plan, Plan)
        self.apply.disabled = target == self.fleet.capacity
        if target == self.fleet.capacity:
            self.delta.value = f"{target} instances: {money(plan.hourly_cost_after_usd)}/h (no change)"
            return
        delta = plan.hourly_cost_delta_usd
        self.delta.value = (
            f"{self.fleet.capacity} → {target} instances: {money(plan.hourly_cost_before_usd)}/h → "
            f"{money(plan.hourly_cost_after_usd)}/h (<b>{signed_money(delta)}/h</b>, "
            f"{signed_money(delta * HOURS_PER_MONTH)}/month)"
        )

    def _reload(self) -> None:
        """Re-read the fleet (another widget or cell may have changed it) and show it."""
        self.fleet = self.session.fleet(self.fleet.name)
        self._title()
        self._price()

    def _apply(self) -> None:
        target = self.capacity.value
        self.note.value = ""

        def applied(fleet: Any) -> None:
            assert isinstance(fleet, Fleet)
            self.fleet = fleet
            self._title()
            self._price()
            self.status.show(f"{fleet.name} scaled to {fleet.capacity}")

        run_task(self.status, "Scaling…", lambda: self.session.update_fleet_capacity(self.fleet.name, target), applied)
