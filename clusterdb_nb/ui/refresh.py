"""The refresh bar every widget carries: Refresh, "last refreshed" time, optional auto-refresh.

It subscribes to the session's change signal (``s.on_change``), so a change made anywhere through the
session (another widget, a cell) refreshes every open widget.

>>> bar = RefreshBar(s, widget.refresh_view, auto=True)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import ipywidgets as widgets

from .protocol import SessionAPI

__all__ = ["INTERVALS", "RefreshBar"]

INTERVALS = [("off", 0), ("10 s", 10), ("30 s", 30), ("1 min", 60), ("5 min", 300)]


class RefreshBar(widgets.HBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """Refresh button, the time of the last refresh and, with ``auto``, an auto-refresh interval."""

    def __init__(self, session: SessionAPI, redraw: Callable[[], Any], auto: bool = False) -> None:
        self._redraw = redraw
        self.button = widgets.Button(description="Refresh", icon="refresh", layout=widgets.Layout(width="100px"))
        self.last = widgets.HTML()
        self.interval = widgets.Dropdown(
            options=INTERVALS, value=0, description="Auto-refresh", layout=widgets.Layout(width="200px")
        )
        self.interval.style.description_width = "initial"  # the label in full, not "Auto-refre…"
        self._task: asyncio.Task[None] | None = None
        self.button.on_click(lambda _: self.refresh())
        self.interval.observe(lambda _: self._schedule(), "value")
        self._unsubscribe = session.on_change(self.refresh)
        super().__init__([self.button, *([self.interval] if auto else []), self.last])
        self.add_class("clusterdb-refresh")

    def refresh(self) -> None:
        """Redraw the widget and note the time."""
        self._redraw()
        self.last.value = f"<span class='clusterdb-muted'>last refreshed {datetime.now(timezone.utc):%H:%M:%S} UTC</span>"

    def _schedule(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        seconds = self.interval.value
        if not seconds:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no kernel loop (plain Python): nothing to schedule on
            return

        async def every() -> None:
            while True:
                await asyncio.sleep(seconds)
                self.refresh()

        self._task = loop.create_task(every())

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._unsubscribe()
        super().close()
