"""Run a session call from a widget without freezing the kernel.

In a kernel (a running asyncio loop) the call runs on the session's loop
thread and is awaited by a task on the kernel's loop, so the kernel keeps
answering; elsewhere (plain Python, tests) it runs to completion at once.
The widget shows a progress bar meanwhile and one short line on failure.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..errors import ComputeError

__all__ = ["run_task", "Status"]


class Status(widgets.VBox):  # type: ignore[misc]  # ipywidgets ships no type hints
    """A progress bar while busy, then one short message (ok, or the error's first line and its solution)."""

    def __init__(self) -> None:
        self.bar = widgets.FloatProgress(
            value=1.0, min=0.0, max=1.0, bar_style="info", layout=widgets.Layout(display="none", width="240px")
        )
        self.message = widgets.HTML()
        super().__init__([self.bar, self.message])

    @property
    def text(self) -> str:
        """The message as plain text (what tests read)."""
        return html.unescape(self.message.value.split(">", 1)[-1].rsplit("<", 1)[0]) if self.message.value else ""

    def busy(self, label: str) -> None:
        self.bar.description = label
        self.bar.max, self.bar.value = 1.0, 1.0
        self.bar.layout.display = ""
        self.message.value = ""

    def progress(self, done: int, total: int, label: str) -> None:
        """Show ``done`` of ``total`` (e.g. instances settled) on the bar, labelled."""
        self.bar.layout.display = ""
        self.bar.max = float(max(total, 1))
        self.bar.value = float(done)
        self.bar.description = f"{label} {done}/{total}"

    def clear(self) -> None:
        """No bar, no message (each new action starts clean)."""
        self.bar.layout.display = "none"
        self.message.value = ""

    def show(self, text: str, ok: bool = True) -> None:
        self.bar.layout.display = "none"
        color = "var(--jp-success-color1, #15803d)" if ok else "var(--jp-error-color1, #b91c1c)"
        self.message.value = f"<span style='color:{color}'>{html.escape(text)}</span>"

    def error(self, err: Exception) -> None:
        if isinstance(err, ComputeError):
            self.show(f"{err.message} — {err.solution}", ok=False)
        else:
            self.show(f"{type(err).__name__}: {err}", ok=False)


def run_task(status: Status, label: str, call: Callable[[], Any], done: Callable[[Any], None]) -> asyncio.Task[None] | None:
    """Run ``call()`` (a blocking session call) off the kernel's loop; then ``done(result)`` or show the error."""
    status.busy(label)

    def finish(result: Any = None, err: Exception | None = None) -> None:
        if err is not None:
            status.error(err)
        else:
            done(result)

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        try:
            result = call()
        except Exception as err:  # shown in the widget, not as a traceback
            finish(err=err)
        else:
            finish(result)
        return None

    async def background() -> None:
        try:
            result = await loop.run_in_executor(None, call)
        except Exception as err:  # shown in the widget, not as a traceback
            finish(err=err)
        else:
            finish(result)

    return loop.create_task(background())
