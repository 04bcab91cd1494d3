"""A static HTML picture of a widget, shown where no kernel runs it (GitHub, nbviewer, a saved notebook).

JupyterLab with a kernel prefers the live widget; a reader elsewhere sees this snapshot instead of
``FleetForm(children=(HTML(...``.

>>> html = snapshot(s.fleet_form())
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

__all__ = ["CHART", "NOTE", "snapshot", "StaticFallback"]

CHART = "<i class='clusterdb-muted'>(a chart: run the notebook to draw it)</i>"
NOTE = "<p class='clusterdb-muted' style='font-size:smaller'>A snapshot: run the notebook to use this {name}.</p>"


def _label(w: Any) -> str:
    return (
        f"<span style='display:inline-block;min-width:90px'>{html.escape(w.description)}</span> "
        if getattr(w, "description", "")
        else ""
    )


def snapshot(w: Any) -> str:
    """HTML that looks like ``w`` as it is now (inputs disabled)."""
    if isinstance(w, widgets.Tab):
        titles = [w.get_title(i) for i in range(len(w.children))]
        return "".join(
            f"<details{' open' if i == 0 else ''}><summary><b>{html.escape(t)}</b></summary>{snapshot(c)}</details>"
            for i, (t, c) in enumerate(zip(titles, w.children))
        )
    if isinstance(w, widgets.GridBox):
        columns = len(str(w.layout.grid_template_columns or "").split()) or 1
        cells = [snapshot(c) for c in w.children]
        rows = ["".join(f"<td>{c}</td>" for c in cells[i : i + columns]) for i in range(0, len(cells), columns)]
        return "<table class='clusterdb-table'>" + "".join(f"<tr>{r}</tr>" for r in rows) + "</table>"
    if isinstance(w, widgets.Box):
        if getattr(w.layout, "display", None) == "none":
            return ""
        direction = "row" if isinstance(w, widgets.HBox) else "column"
        inner = "".join(snapshot(c) for c in w.children)
        return f"<div style='display:flex;flex-direction:{direction};gap:6px;flex-wrap:wrap;margin:2px 0'>{inner}</div>"
    if isinstance(w, (widgets.HTML, widgets.Label)):
        return str(w.value) if isinstance(w, widgets.HTML) else html.escape(w.value)
    if isinstance(w, widgets.Button):
        return f"<button disabled>{html.escape(w.description)}</button>"
    if isinstance(w, widgets.Checkbox):
        return f"<label><input type='checkbox' disabled{' checked' if w.value else ''}> {html.escape(w.description)}</label>"
    if isinstance(w, widgets.Textarea):
        return f"<div>{_label(w)}<textarea disabled rows='2'>{html.escape(w.value)}</textarea></div>"
    if isinstance(w, (widgets.Dropdown, widgets.ToggleButtons)):
        return f"<div>{_label(w)}<select disabled><option>{html.escape(str(w.label or ''))}</option></select></div>"
    if isinstance(w, (widgets.IntSlider, widgets.FloatProgress)):
        if getattr(w.layout, "display", None) == "none":
            return ""
        return f"<div>{_label(w)}<input type='range' disabled min='{w.min}' max='{w.max}' value='{w.value}'></div>"
    if isinstance(w, (widgets.Text, widgets.IntText, widgets.BoundedIntText)):
        hint = html.escape(str(getattr(w, "placeholder", "")))
        return f"<div>{_label(w)}<input disabled value='{html.escape(str(w.value))}' placeholder='{hint}'></div>"
    if isinstance(w, widgets.ToggleButton):
        return ""
    if isinstance(w, widgets.Output):
        return CHART if w.outputs else ""
    from plotly.basewidget import BaseFigureWidget

    if isinstance(w, BaseFigureWidget):
        return CHART if w.data else ""
    return ""


class StaticFallback:
    """Mixin for our widgets: a ``text/html`` snapshot and a one-line ``text/plain`` beside the live view."""

    kind = "widget"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        data: dict[str, Any] | None = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        if data is not None:
            data["text/html"] = "<div class='clusterdb-static'>" + snapshot(self) + NOTE.format(name=self.kind) + "</div>"
            data["text/plain"] = f"{type(self).__name__}: a {self.kind} (run the notebook to use it)"
        return data
