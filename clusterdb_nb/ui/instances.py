"""One grid of instances: row checkboxes, sorting, filtering; Start / Stop / Terminate enabled by the selection.

Stop and Terminate first show what they would do (the dry-run plans, their $/h and $/month change)
and act only on Confirm; on the wall clock the grid then waits, with progress, until the states settle.

>>> grid = InstancesGrid(s)
>>> grid.select([iid]); grid.stop.click(); grid.confirm.click()
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pandas as pd

from ..display import HOURS_PER_MONTH, cell, money, signed_money
from ..models import Instance, Plan
from .protocol import SessionAPI
from .tasks import Status, run_task

__all__ = ["CELL_CSS", "COLUMNS", "InstancesGrid", "REPLACED", "TARGET"]

COLUMNS = ["id", "fleet", "state", "instance_type", "provider", "private_ip", "hourly_cost_usd", "launched_at"]
REPLACED = "Fleet members are replaced to keep the fleet's capacity."
TARGET = {"start": "running", "stop": "stopped", "terminate": "terminated"}
CELL_CSS = (
    "<style>.clusterdb-grid .clusterdb-cell{padding:2px 8px;white-space:nowrap;color:var(--jp-ui-font-color1,#1f2937)}"
    ".clusterdb-grid .clusterdb-head{font-weight:600;border-bottom:1px solid var(--jp-border-color1,#cbd5e1)}"
    ".clusterdb-grid .num{text-align:right}</style>"
)


class InstancesGrid(widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """Instances with a checkbox per row; the action buttons follow what is selected."""

    def __init__(self, session: SessionAPI) -> None:
        self.session = session
        self.filter = widgets.Text(placeholder="filter: id, fleet, state, type…", layout=widgets.Layout(width="260px"))
        self.sort = widgets.Dropdown(options=COLUMNS, value="fleet", description="Sort by", layout=widgets.Layout(width="220px"))
        self.descending = widgets.ToggleButton(
            value=False, icon="sort-amount-desc", tooltip="descending", layout=widgets.Layout(width="40px")
        )
        self.select_all = widgets.Checkbox(
            value=False, indent=False, description="all shown", layout=widgets.Layout(width="110px")
        )
        self.start = widgets.Button(description="Start", icon="play", disabled=True)
        self.stop = widgets.Button(description="Stop", icon="stop", disabled=True)
        self.terminate = widgets.Button(description="Terminate", button_style="danger", icon="trash", disabled=True)
        self.summary = widgets.HTML()
        self.grid = widgets.GridBox(layout=widgets.Layout(grid_gap="0px 4px"))
        self.grid.add_class("clusterdb-grid")
        self.question = widgets.HTML()
        self.confirm = widgets.Button(description="Confirm", button_style="danger", icon="check")
        self.cancel = widgets.Button(description="Cancel", icon="times")
        self.confirm_box = widgets.VBox(
            [self.question, widgets.HBox([self.confirm, self.cancel])], layout=widgets.Layout(display="none")
        )
        self.confirm_box.add_class("clusterdb-confirm")
        self.status = Status()
        self.checks: dict[str, widgets.Checkbox] = {}
        self._rows = pd.DataFrame(columns=COLUMNS)
        self._pending: str | None = None
        self.filter.observe(lambda _: self._draw(), "value")
        self.sort.observe(lambda _: self._draw(), "value")
        self.descending.observe(lambda _: self._draw(), "value")
        self.select_all.observe(self._on_select_all, "value")
        self.start.on_click(lambda _: self._act("start"))
        self.stop.on_click(lambda _: self._ask("stop"))
        self.terminate.on_click(lambda _: self._ask("terminate"))
        self.confirm.on_click(lambda _: self._confirmed())
        self.cancel.on_click(lambda _: self._hide_question())
        super().__init__(
            [
                widgets.HBox([self.filter, self.sort, self.descending, self.select_all]),
                widgets.HBox([self.start, self.stop, self.terminate, self.summary]),
                self.confirm_box,
                self.status,
                widgets.HTML(CELL_CSS),
                self.grid,
            ]
        )
        self.add_class("clusterdb-instances")
        self.refresh()

    # -- data and drawing ----------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the instances, keeping the selection of those still there."""
        self._rows = self.session.instances()
        self._draw()

    def shown(self) -> pd.DataFrame:
        """The rows after filtering and sorting, as drawn."""
        df = self._rows
        needle = self.filter.value.strip().lower()
        if needle:
            text = df[["id", "fleet", "state", "instance_type", "provider", "private_ip"]].astype(str).agg(" ".join, axis=1)
            df = df[text.str.lower().str.contains(needle, regex=False)]
        out: pd.DataFrame = df.sort_values([self.sort.value, "id"], ascending=not self.descending.value, kind="stable")
        return out

    def selected(self) -> list[str]:
        return [iid for iid, box in self.checks.items() if box.value]

    def select(self, ids: list[str]) -> None:
        """Tick exactly ``ids`` (what a user's clicks do)."""
        for iid, box in self.checks.items():
            box.value = iid in ids

    def _draw(self) -> None:
        keep = set(self.selected())
        df = self.shown()
        head = [widgets.HTML("")] + [widgets.HTML(f"<div class='clusterdb-cell clusterdb-head'>{c}</div>") for c in COLUMNS]
        cells: list[widgets.Widget] = []
        self.checks = {}
        for row in df.itertuples(index=False):
            box = widgets.Checkbox(value=row.id in keep, indent=False, layout=widgets.Layout(width="28px"))
            box.observe(lambda _: self._enable(), "value")
            self.checks[str(row.id)] = box
            cells.append(box)
            for col in COLUMNS:
                value = getattr(row, col)
                kind = " num" if col == "hourly_cost_usd" else ""
                cells.append(widgets.HTML(f"<div class='clusterdb-cell{kind}'>{html.escape(cell(col, value))}</div>"))
        self.grid.layout.grid_template_columns = "32px " + " ".join(["auto"] * len(COLUMNS))
        self.grid.children = head + cells if len(df) else [widgets.HTML("<i class='clusterdb-muted'>no instances</i>")]
        self._enable()

    def _on_select_all(self, change: dict[str, Any]) -> None:
        for box in self.checks.values():
            box.value = bool(change["new"])

    def _enable(self) -> None:
        ids = self.selected()
        states = set(self._rows.loc[self._rows["id"].isin(ids), "state"])
        self.start.disabled = "stopped" not in states
        self.stop.disabled = "running" not in states
        self.terminate.disabled = not ids
        self.summary.value = f"<span class='clusterdb-muted'>{len(ids)} selected of {len(self.checks)} shown</span>"

    # -- actions ---------------------------------------------------------------------
    def _targets(self, action: str) -> list[str]:
        """The selected instances the action applies to (Start: stopped ones; Stop: running ones)."""
        ids = self.selected()
        state = {"start": "stopped", "stop": "running"}.get(action)
        if state is None:
            return ids
        rows = self._rows.set_index("id")
        return [i for i in ids if rows.at[i, "state"] == state]

    def _call(self, action: str) -> Callable[..., Instance | Plan]:
        """The session method behind ``action`` (start, stop, terminate)."""
        s = self.session
        return {"start": s.start_instance, "stop": s.stop_instance, "terminate": s.terminate_instance}[action]

    def plans(self, action: str) -> list[Plan]:
        """The dry-run plan of ``action`` on each selected instance it applies to."""
        call = self._call(action)
        return [p for p in (call(iid, dry_run=True) for iid in self._targets(action)) if isinstance(p, Plan)]

    def _ask(self, action: str) -> None:
        self.status.clear()
        try:
            plans = self.plans(action)
        except Exception as err:  # shown in the widget
            self.status.error(err)
            return
        delta = sum(p.hourly_cost_delta_usd for p in plans)
        before = sum(p.hourly_cost_before_usd for p in plans)
        items = "".join(f"<li>{html.escape(p.calls[0].call)}</li>" for p in plans)
        self.question.value = (
            f"<b>{action.title()} {len(plans)} instance{'s' if len(plans) != 1 else ''}?</b> "
            f"Their cost goes from {money(before)}/h to {money(before + delta)}/h: "
            f"<b>{signed_money(delta)}/h</b>, {signed_money(delta * HOURS_PER_MONTH)}/month."
            f"<ul style='margin:4px 0'>{items}</ul>"
            + (
                "<span class='clusterdb-muted'>Fleet members are replaced to keep the fleet's capacity.</span>"
                if action == "terminate"
                else ""
            )
        )
        self.confirm.description = f"{action.title()} {len(plans)}"
        self._pending = action
        self.confirm_box.layout.display = ""

    def _hide_question(self) -> None:
        self._pending = None
        self.confirm_box.layout.display = "none"

    def _confirmed(self) -> None:
        action = self._pending
        self._hide_question()
        if action:
            self._act(action)

    def _act(self, action: str) -> None:
        ids = self._targets(action)
        call = self._call(action)
        label = action.title()

        def work() -> list[Instance | Plan]:
            results = [call(iid) for iid in ids]
            if not self.session.on_virtual_clock(self._rows[self._rows["id"].isin(ids)]):  # a virtual clock waits for no one
                self.session.wait(ids, TARGET[action], progress=False, on_progress=lambda d, n: self.status.progress(d, n, label))
                results = [self.session.instance(iid) for iid in ids]
            return results

        def done(results: Any) -> None:
            self.status.show(f"{action}: " + ", ".join(f"{i.id} → {i.state}" for i in results))

        run_task(self.status, f"{label}…", work, done)
