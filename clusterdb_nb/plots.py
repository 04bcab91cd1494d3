"""Plotly figures with one consistent look.

    >>> fig = utilization_figure(s.utilization("web-fleet"), target=70.0, events=s.scaling_activities("web-fleet"))
    >>> fig = costs_figure(s.costs_over_time(by="fleet"), by="fleet")

Plotly is imported when a figure is made, not with ``clusterdb_nb``.
"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import plotly.graph_objects as go

COLORS = ["#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777"]
CPU_COLOR, CAPACITY_COLOR, TARGET_COLOR, EVENT_COLOR = "#2563eb", "#64748b", "#dc2626", "#f97316"


@cache
def template() -> go.layout.Template:
    """The clusterdb template: plotly_white, our colours, compact margins, hover across traces."""
    import plotly.graph_objects as go
    import plotly.io as pio

    base = pio.templates["plotly_white"]
    tpl = go.layout.Template(base)
    tpl.layout.update(
        colorway=COLORS,
        font={"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13},
        margin={"l": 60, "r": 60, "t": 90, "b": 50},
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.03, "x": 0},
        title={"x": 0, "xanchor": "left", "font": {"size": 16}},
    )
    return tpl


def utilization_figure(
    df: pd.DataFrame, target: float | None = None, events: pd.DataFrame | None = None, title: str | None = None
) -> go.Figure:
    """CPU % over time with the target line, capacity as a step line on a second axis, scaling events marked.

    ``df`` has the columns of ``s.utilization(fleet)``; ``events`` those of ``s.scaling_activities(fleet)``.
    """
    import plotly.graph_objects as go

    fleet = str(df["fleet"].iloc[0]) if len(df) else ""
    fig = go.Figure(layout={"template": template()})
    fig.add_trace(
        go.Scatter(
            x=df["time"], y=df["cpu_percent"], name="CPU %", line={"color": CPU_COLOR, "width": 2}, hovertemplate="%{y:.1f}%"
        )
    )
    fig.add_trace(
        go.Scatter(
            x=df["time"],
            y=df["running"],
            name="running instances",
            yaxis="y2",
            line_shape="hv",
            line={"color": CAPACITY_COLOR, "width": 2, "dash": "dot"},
            hovertemplate="%{y}",
        )
    )
    if target is not None:
        fig.add_hline(
            y=target,
            line={"color": TARGET_COLOR, "dash": "dash", "width": 1.5},
            annotation_text=f"target {target:g}%",
            annotation_position="top left",
        )
    if events is not None and len(events):
        fig.add_trace(
            go.Scatter(
                x=events["time"],
                y=events["to_capacity"],
                yaxis="y2",
                mode="markers",
                name="scaling events",
                marker={"symbol": "diamond", "size": 10, "color": EVENT_COLOR},
                customdata=events[["from_capacity", "reason"]].to_numpy(),
                hovertemplate="%{customdata[0]} → %{y}: %{customdata[1]}<extra></extra>",
            )
        )
    top = max(
        float(df["running"].max()) if len(df) else 1.0,
        float(events["to_capacity"].max()) if events is not None and len(events) else 0.0,
    )
    fig.update_layout(
        title=title or f"Utilization of {fleet}",
        yaxis={"title": "CPU %", "range": [0, 105]},
        yaxis2={
            "title": "instances",
            "overlaying": "y",
            "side": "right",
            "range": [0, top * 1.15 + 1],
            "dtick": max(1, math.ceil(top / 5)),
            "tickformat": "d",
            "showgrid": False,
        },
    )
    return fig


def costs_figure(df: pd.DataFrame, by: str, period: str, title: str | None = None) -> go.Figure:
    """Stacked cost bars, one per ``period``, one colour per ``by`` group (``df`` from ``s.costs_over_time``)."""
    import plotly.graph_objects as go

    step = pd.Timedelta(period)
    fig = go.Figure(layout={"template": template()})
    for name, part in df.groupby(by, dropna=False, sort=True):
        label = "(none)" if pd.isna(name) else str(name)
        fig.add_trace(
            go.Bar(
                x=part["period_start"] + step / 2,
                y=part["cost_usd"],
                width=0.9 * step.total_seconds() * 1000,
                name=label,
                customdata=part["period_start"],
                hovertemplate="$%{y:.4f} from %{customdata}",
            )
        )
    fig.update_layout(
        barmode="stack", title=title or f"Cost by {by.replace('_', ' ')} per {period}", yaxis={"title": "USD", "tickprefix": "$"}
    )
    if len(df):
        fig.update_xaxes(range=[df["period_start"].min() - step * 0.1, df["period_start"].max() + step * 1.1])
    return fig


def display_output(fig: Any) -> dict[str, Any]:
    """``fig`` as a notebook display_data output (what an ``ipywidgets.Output`` holds), kernel or not."""
    return {
        "output_type": "display_data",
        "data": {"application/vnd.plotly.v1+json": json.loads(fig.to_json()), "text/plain": summarize(fig)},
        "metadata": {},
    }


def summarize(fig: Any) -> str:
    """One line per trace (name, kind, points): what a test or a notebook compares instead of the figure's JSON."""
    return "\n".join(f"{t.name}: {t.type}, {len(t.x) if t.x is not None else 0} points" for t in fig.data)
