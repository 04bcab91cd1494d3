"""A form that creates a fleet, validating as you type and pricing before you click.

>>> form = s.fleet_form()
>>> form.name.value = "web"; form.create.click()
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from ..errors import ComputeError, ValidationError
from ..models import Fleet, FleetConfig, Plan
from .protocol import SessionAPI
from .refresh import RefreshBar
from .static import StaticFallback
from .tables import FLEET_COLUMNS, table_html
from .tasks import Status, run_task

__all__ = ["ERROR", "FleetForm", "OK", "parse_tags", "planned", "type_options"]

OK, ERROR = "var(--jp-success-color1,#15803d)", "var(--jp-error-color1,#b91c1c)"


def planned(session: SessionAPI, fleets: pd.DataFrame) -> pd.DataFrame:
    """``fleets`` with ``planned_hourly_usd``: what each costs per hour at its desired capacity (while it boots, too)."""
    prices = [session.hourly_price(str(r.instance_type), bool(r.spot), provider=str(r.provider)) for r in fleets.itertuples()]
    hourly = fleets["capacity"].to_numpy(dtype=float) * np.asarray(prices, dtype=float)
    out: pd.DataFrame = fleets.assign(planned_hourly_usd=hourly)
    return out


def parse_tags(text: str) -> dict[str, str]:
    """``key=value`` lines as a dict (blank lines skipped)."""
    tags = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ValidationError(f"tags: line {n} ({line.strip()!r}) is not key=value", field="tags", rule="key=value lines")
        tags[key.strip()] = value.strip()
    return tags


def type_options(types: pd.DataFrame) -> list[tuple[str, str]]:
    """(label, name) pairs for the instance-type dropdown from ``s.instance_types(provider)``: vCPU, memory, $/h
    (the cloud first when the listing spans several, as the local cloud's does)."""
    several = types["provider"].nunique() > 1
    return [
        (
            f"{f'{r.provider} · ' if several else ''}{r.instance_type} · {r.vcpu} vCPU · {r.memory_gib:g} GiB · "
            f"${r.on_demand_usd:.4f}/h",
            str(r.instance_type),
        )
        for r in types.itertuples()
    ]


class FleetForm(StaticFallback, widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """Name, description, provider, region, instance type, capacity, spot, tags; Preview and Create."""

    kind = "form"

    def __init__(self, session: SessionAPI) -> None:
        self.session = session
        self.defaults = session.fleet_defaults().set_index("provider")
        first = self.defaults[self.defaults["default"]].iloc[0]
        wide = widgets.Layout(width="460px")
        self.name = widgets.Text(description="Name", placeholder="web-fleet", layout=wide)
        self.description = widgets.Text(description="Description", layout=wide)
        self.provider = widgets.Dropdown(description="Provider", options=list(self.defaults.index), value=first.name, layout=wide)
        self.region = widgets.Text(description="Region", layout=wide)
        self.instance_type = widgets.Dropdown(description="Type", layout=wide)
        self.capacity = widgets.BoundedIntText(description="Capacity", value=int(first["capacity"]), min=0, max=10_000)
        self.spot = widgets.Checkbox(description="Spot / preemptible", value=False, indent=False)
        self.tags = widgets.Textarea(
            description="Tags",
            placeholder="environment=dev\nowner=me",
            value="\n".join(f"{k}={v}" for k, v in first["tags"].items()),
            layout=wide,
        )
        self.validation = widgets.HTML()
        self.preview = widgets.Button(description="Preview", icon="eye")
        self.create = widgets.Button(description="Create", button_style="primary", icon="plus")
        self.plan = widgets.HTML()
        self.status = Status()
        self.fleets = widgets.HTML()
        self._existing: dict[str, str] = {}  # fleet name -> provider
        self._on_provider()
        self.provider.observe(lambda _: self._on_provider(), "value")
        for w in (self.name, self.description, self.region, self.instance_type, self.capacity, self.spot, self.tags):
            w.observe(lambda _: self._validate(), "value")
        self.preview.on_click(lambda _: self._preview())
        self.create.on_click(lambda _: self._create())
        self.bar = RefreshBar(session, self._refresh)
        self.bar.refresh()
        super().__init__(
            [
                widgets.HTML("<b>New fleet</b>"),
                self.name,
                self.description,
                self.provider,
                self.region,
                self.instance_type,
                widgets.HBox([self.capacity, self.spot]),
                self.tags,
                self.validation,
                widgets.HBox([self.preview, self.create]),
                self.plan,
                self.status,
                widgets.HTML("<b>Fleets</b>"),
                self.bar,
                self.fleets,
            ]
        )
        self.add_class("clusterdb-fleet-form")

    def _on_provider(self) -> None:
        provider = self.provider.value
        default = self.defaults.loc[provider]
        self.region.value = default["region"]
        options = type_options(self.session.instance_types(provider))
        names = [name for _, name in options]
        self.instance_type.options = options
        self.instance_type.value = (
            default["instance_type"] if default["instance_type"] in names else (names[0] if names else None)
        )
        self._validate()

    def config(self) -> FleetConfig:
        """The FleetConfig the form describes (raises ValidationError)."""
        config = FleetConfig(
            name=self.name.value.strip(),
            description=self.description.value,
            provider=self.provider.value,
            region=self.region.value or None,
            instance_type=self.instance_type.value,
            capacity=self.capacity.value,
            spot=self.spot.value,
            tags=parse_tags(self.tags.value),
        )
        if config.spot:  # a ValidationError naming the type when it is not sold as spot there
            self.session.hourly_price(str(config.instance_type), spot=True, provider=config.provider)
        return config

    def _validate(self) -> FleetConfig | None:
        if not self.name.value.strip():  # a fresh form is not an error yet
            self.validation.value = "<span class='clusterdb-muted'>Name the fleet to begin</span>"
            self.create.disabled = self.preview.disabled = True
            return None
        try:
            config = self.config()
            if config.name in self._existing:
                raise ValidationError(
                    f"name: fleet {config.name!r} already exists on {self._existing[config.name]}; pick another name",
                    field="name",
                    rule="a new fleet name",
                )
        except ValidationError as err:
            self.validation.value = (
                f"<span style='color:{ERROR}'>⚠ {err.field}: {html.escape(err.message.removeprefix(f'{err.field}: '))}</span>"
            )
            self.create.disabled = self.preview.disabled = True
            return None
        self.validation.value = f"<span style='color:{OK}'>✓ ready to create {html.escape(config.name)}</span>"
        self.create.disabled = self.preview.disabled = False
        return config

    def _preview(self) -> None:
        self.status.clear()
        self.plan.value = ""
        config = self._validate()
        if config is None:
            return
        try:
            plan = self.session.create_fleet(config, dry_run=True)
        except ComputeError as err:
            self.status.error(err)
            return
        assert isinstance(plan, Plan)
        self.plan.value = plan._repr_html_()

    def _create(self) -> None:
        self.status.clear()
        self.plan.value = ""
        config = self._validate()
        if config is None:
            return

        def created(fleet: Any) -> None:
            assert isinstance(fleet, Fleet)
            self.name.value = ""  # the form is ready for the next fleet
            self.bar.refresh()
            self.status.show(f"Created fleet {fleet.name} on {fleet.provider}: {fleet.capacity} × {fleet.instance_type}")

        run_task(self.status, "Creating…", lambda: self.session.create_fleet(config), created)

    def _refresh(self) -> None:
        fleets = planned(self.session, self.session.fleets())
        self._existing = dict(zip(fleets["name"], fleets["provider"]))
        columns = [c for c in FLEET_COLUMNS if c != "hourly_cost_usd"] + ["hourly_cost_usd", "planned_hourly_usd"]
        self.fleets.value = table_html(fleets, columns, empty="no fleets yet")
        if self.name.value.strip():
            self._validate()
