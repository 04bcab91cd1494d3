"""Scale one fleet: a slider and a number bounded by min/max, the $/h delta shown before Apply.

>>> sc = s.scaler("web-fleet")
>>> sc.capacity.value = 8; sc.apply.click()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..errors import ComputeError
from ..models import Fleet, Plan
from .tasks import Status, run_task

if TYPE_CHECKING:
    from ..session import ComputeSession


class Scaler(widgets.VBox):
    """Desired capacity of ``fleet`` with the hourly cost delta of the change."""

    def __init__(self, session: ComputeSession, fleet: str) -> None:
        self.session = session
        self.fleet = session.fleet(fleet)
        f = self.fleet
        self.slider = widgets.IntSlider(
            value=f.capacity,
            min=f.min_capacity,
            max=f.max_capacity,
            description="Capacity",
            continuous_update=False,
            layout=widgets.Layout(width="420px"),
        )
        self.capacity = widgets.BoundedIntText(
            value=f.capacity, min=f.min_capacity, max=f.max_capacity, layout=widgets.Layout(width="90px")
        )
        widgets.link((self.slider, "value"), (self.capacity, "value"))
        self.delta = widgets.HTML()
        self.apply = widgets.Button(description="Apply", button_style="primary", icon="check")
        self.status = Status()
        self.capacity.observe(lambda _: self._price(), "value")
        self.apply.on_click(lambda _: self._apply())
        self._price()
        super().__init__(
            [
                widgets.HTML(
                    f"<b>Scale {f.name}</b> ({f.provider}, {f.instance_type}, bounds {f.min_capacity}–{f.max_capacity})"
                ),
                widgets.HBox([self.slider, self.capacity]),
                self.delta,
                self.apply,
                self.status,
            ]
        )
        self.add_class("clusterdb-scaler")

    def _price(self) -> None:
        try:
            plan = self.session.update_fleet_capacity(self.fleet.name, self.capacity.value, dry_run=True)
        except ComputeError as err:
            self.status.error(err)
            return
        assert isinstance(plan, Plan)
        self.apply.disabled = self.capacity.value == self.fleet.capacity
        self.delta.value = (
            f"{self.fleet.capacity} → {self.capacity.value} instances: ${plan.hourly_cost_before_usd:.4f}/h → "
            f"${plan.hourly_cost_after_usd:.4f}/h (<b>{plan.hourly_cost_delta_usd:+.4f} $/h</b>)"
        )

    def _apply(self) -> None:
        target = self.capacity.value

        def applied(fleet: Any) -> None:
            assert isinstance(fleet, Fleet)
            self.fleet = fleet
            self.status.show(f"{fleet.name} scaled to {fleet.capacity}")
            self._price()

        run_task(self.status, "Scaling…", lambda: self.session.update_fleet_capacity(self.fleet.name, target), applied)
