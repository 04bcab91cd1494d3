"""A migration's progress: a bar, both fleets' capacity, its latest steps, and Step / Run / Pause / Resume /
Roll back buttons. It reads the migration through the session (``session.migration(id)``), so it shows what
any session did to it; Pause works while Run drives it.

>>> m = s.create_migration(MigrationConfig(source_fleet="web", target_provider="local-b"))
>>> m.widget()
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from .protocol import MigrationHandle, SessionAPI
from .refresh import RefreshBar
from .static import StaticFallback
from .tasks import Status, run_task

__all__ = ["MigrationProgress"]

_COLORS = {"completed": "success", "rolled_back": "info", "paused": "warning", "failed": "danger"}


class MigrationProgress(StaticFallback, widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """Where migration ``migration_id`` stands, with the buttons that move it."""

    kind = "migration"

    def __init__(self, session: SessionAPI, migration_id: str) -> None:
        self.session = session
        self.migration_id = migration_id
        self.title = widgets.HTML()
        self.bar = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, layout=widgets.Layout(width="420px"))
        self.detail = widgets.HTML()
        self.steps = widgets.HTML()
        self.buttons = {
            name: widgets.Button(description=name, icon=icon)
            for name, icon in (
                ("Step", "step-forward"),
                ("Run", "play"),
                ("Pause", "pause"),
                ("Resume", "redo"),
                ("Roll back", "undo"),
            )
        }
        self.buttons["Run"].button_style = "primary"
        self.buttons["Step"].on_click(lambda _: self._act("Stepping…", lambda m: m.step()))
        self.buttons["Run"].on_click(lambda _: self._act("Running…", lambda m: m.run(progress=False)))
        self.buttons["Pause"].on_click(lambda _: self._act("Pausing…", lambda m: m.pause()))
        self.buttons["Resume"].on_click(lambda _: self._act("Resuming…", lambda m: m.resume()))
        self.buttons["Roll back"].on_click(lambda _: self._act("Rolling back…", lambda m: m.rollback(progress=False)))
        self.status = Status()
        self.refresh_bar = RefreshBar(session, self._reload, auto=True)
        self._reload()
        super().__init__(
            [
                self.title,
                self.bar,
                self.detail,
                widgets.HBox(list(self.buttons.values())),
                self.status,
                self.steps,
                self.refresh_bar,
            ]
        )
        self.add_class("clusterdb-migration")

    @property
    def migration(self) -> MigrationHandle:
        return self.session.migration(self.migration_id)

    def _reload(self) -> None:
        m = self.migration
        status, reason, (done, total) = m.status, m.reason, m.steps_done
        history = m.history()
        first = history.iloc[0] if len(history) else None
        self.title.value = f"<b>Migration {html.escape(m.id)}</b> ({html.escape(m.phase)})"
        self.bar.value = m.progress
        self.bar.description = f"{m.progress:.0%}"
        self.bar.bar_style = _COLORS.get(status, "")
        last = history.iloc[-1] if len(history) else first
        capacities = "" if last is None else f" · source {last['source_capacity']}, target {last['target_capacity']}"
        why = f" · <i>{html.escape(reason)}</i>" if reason else ""
        self.detail.value = f"<b>{html.escape(status)}</b> · step {done}/{total}{capacities}{why}"
        rows = "".join(
            f"<tr><td>{r.time:%H:%M:%S}</td><td>{html.escape(r.event)}</td><td>{r.source_capacity}</td>"
            f"<td>{r.target_capacity}</td><td style='text-align:left'>{html.escape(r.detail)}</td></tr>"
            for r in history.tail(6).itertuples()
        )
        self.steps.value = (
            "<table class='clusterdb-table'><tr><th>time</th><th>event</th><th>source</th><th>target</th><th>detail</th></tr>"
            f"{rows}</table>"
        )
        over = status in ("completed", "rolled_back")
        for name, button in self.buttons.items():
            button.disabled = over or (name == "Resume" and status not in ("paused", "failed"))
        self.buttons["Pause"].disabled = status not in ("planned", "running")

    def _act(self, label: str, call: Any) -> None:
        def done(_: Any) -> None:
            self._reload()
            m = self.migration
            self.status.show(f"{m.id}: {m.status}" + (f" ({m.reason})" if m.reason else ""), ok=m.status not in ("failed",))

        run_task(self.status, label, lambda: call(self.migration), done)
