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
DESIRED_COLOR, STOP_COLOR, TERMINATE_COLOR = "#16a34a", "#9333ea", "#111827"
THEMES = ("light", "dark")
_theme = {"name": "light"}


def set_theme(name: str) -> None:
    """Draw figures for JupyterLab's ``"light"`` or ``"dark"`` theme from now on (default light).

    >>> cdb.plots.set_theme("dark")
    """
    from .errors import ValidationError

    if name not in THEMES:
        raise ValidationError(f"theme: {name!r} is not one of {', '.join(THEMES)}", field="theme", rule=" | ".join(THEMES))
    _theme["name"] = name


@cache
def _template(name: str) -> go.layout.Template:
    import plotly.graph_objects as go
    import plotly.io as pio

    dark = name == "dark"
    tpl = go.layout.Template(pio.templates["plotly_dark" if dark else "plotly_white"])
    background = "#111111" if dark else "#ffffff"
    tpl.layout.update(
        colorway=COLORS,
        font={"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13, "color": "#e5e7eb" if dark else "#1f2937"},
        paper_bgcolor=background,
        plot_bgcolor=background,
        margin={"l": 60, "r": 60, "t": 90, "b": 50},
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.03, "x": 0},
        title={"x": 0, "xanchor": "left", "font": {"size": 16}},
    )
    return tpl


def template(name: str | None = None) -> go.layout.Template:
    """The clusterdb template for the ``"light"`` or ``"dark"`` theme (default: the one set with ``set_theme``)."""
    return _template(name or _theme["name"])


def pick_period(span: pd.Timedelta) -> str:
    """A bar width that gives a dozen or more bars over ``span``: 5min up to 2 h, 15min to 6 h, 1h to 2 days, else 6h."""
    for limit, period in (("2h", "5min"), ("6h", "15min"), ("2D", "1h")):
        if span <= pd.Timedelta(limit):
            return period
    return "6h"


def utilization_figure(
    df: pd.DataFrame,
    target: float | None = None,
    events: pd.DataFrame | None = None,
    title: str | None = None,
    history: pd.DataFrame | None = None,
) -> go.Figure:
    """CPU % over time with the target line; running and desired capacity as step lines on a second axis;
    scaling events, and instances stopped or terminated, marked.

    ``df`` has the columns of ``s.utilization(fleet)``; ``events`` those of ``s.scaling_activities(fleet)``;
    ``history`` those of ``s.local.history(fleet)`` (time, instance_id, state, cause).
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
    if "desired_capacity" in df:
        fig.add_trace(
            go.Scatter(
                x=df["time"],
                y=df["desired_capacity"],
                name="desired capacity",
                yaxis="y2",
                line_shape="hv",
                line={"color": DESIRED_COLOR, "width": 1.5, "dash": "dash"},
                hovertemplate="%{y}",
            )
        )
    if history is not None and len(history) and len(df):
        shown = history[(history["time"] >= df["time"].min()) & (history["time"] <= df["time"].max())]
        for state, color, symbol in (("stopped", STOP_COLOR, "square"), ("terminated", TERMINATE_COLOR, "x")):
            part = shown[shown["state"] == state]
            if len(part):
                fig.add_trace(
                    go.Scatter(
                        x=part["time"],
                        y=[0.5] * len(part),
                        yaxis="y2",
                        mode="markers",
                        name=f"instance {state}",
                        marker={"symbol": symbol, "size": 9, "color": color},
                        customdata=part[["instance_id", "cause"]].to_numpy(),
                        hovertemplate=f"%{{customdata[0]}} {state}: %{{customdata[1]}}<extra></extra>",
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
        float(df["desired_capacity"].max()) if "desired_capacity" in df and len(df) else 0.0,
        float(events["to_capacity"].max()) if events is not None and len(events) else 0.0,
    )
    fig.update_layout(
        title=title or f"Utilization of {fleet}",
        xaxis={"title": "time (UTC)"},
        yaxis={"title": "CPU utilization (%)", "range": [0, 105]},
        yaxis2={
            "title": "instances (count)",
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
        barmode="stack",
        title=title or f"Cost by {by.replace('_', ' ')} per {period}",
        showlegend=True,
        legend_title_text=by.replace("_", " "),
        xaxis={"title": f"period start (UTC, {period} bars)"},
        yaxis={"title": "cost (USD)", "tickprefix": "$"},
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


BUCKETS = ["1min", "5min", "15min", "1h", "3h", "6h", "1D"]


def bucket_for(span: pd.Timedelta, max_points: int = 600) -> str:
    """The smallest of 1min, 5min, 15min, 1h, 3h, 6h, 1D that shows ``span`` in at most ``max_points`` points."""
    for bucket in BUCKETS:
        if span / pd.Timedelta(bucket) <= max_points:
            return bucket
    return BUCKETS[-1]


def simulation_figure(timeline: pd.DataFrame, title: str, max_points: int = 600) -> go.Figure:
    """A simulated policy over a trace: mean utilization and peak capacity per bucket, sized to what the width
    can show, with a range slider to zoom. ``timeline`` has the columns of ``SimulationResult.timeline``."""
    import plotly.graph_objects as go

    span = timeline["time"].max() - timeline["time"].min() if len(timeline) else pd.Timedelta(0)
    bucket = bucket_for(span, max_points)
    grouped = timeline.set_index("time").resample(bucket)
    agg = pd.DataFrame(
        {
            "utilization": grouped["utilization"].mean(),
            "capacity": grouped["capacity"].max(),
            "saturated": grouped["saturated"].sum(),
        }
    ).dropna(subset=["utilization"])
    fig = go.Figure(layout={"template": template()})
    fig.add_trace(
        go.Scatter(
            x=agg.index,
            y=agg["utilization"],
            name=f"utilization (mean per {bucket})",
            line={"color": CPU_COLOR, "width": 1.5},
            hovertemplate="%{y:.1f}%",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=agg.index,
            y=agg["capacity"],
            name=f"capacity (peak per {bucket})",
            yaxis="y2",
            line_shape="hv",
            line={"color": CAPACITY_COLOR, "width": 1.5},
            hovertemplate="%{y} instances",
        )
    )
    top = float(agg["capacity"].max()) if len(agg) else 1.0
    fig.update_layout(
        title=title,
        xaxis={"title": "time (UTC)", "rangeslider": {"visible": True, "thickness": 0.08}},
        yaxis={"title": "utilization (%)", "range": [0, 105]},
        yaxis2={
            "title": "instances (count)",
            "overlaying": "y",
            "side": "right",
            "range": [0, top * 1.15 + 1],
            "dtick": max(1, math.ceil(top / 5)),
            "tickformat": "d",
            "showgrid": False,
        },
    )
    return fig


def pareto_figure(table: pd.DataFrame, cost_column: str, selected: int | None = None, title: str | None = None) -> go.Figure:
    """Cost against saturated minutes for every tuned policy: the front joined, the recommendation starred, the
    ``selected`` row (a ``table`` index) ringed; hover names each policy. ``table`` is ``TuningResult.table``."""
    import plotly.graph_objects as go

    unit = "USD" if cost_column == "cost_usd" else "instance-hours"
    words = [
        f"target {r.target_cpu_utilization:g}%, cooldown {r.cooldown_seconds}s, {r.min_capacity}–{r.max_capacity} instances"
        for r in table.itertuples()
    ]
    hover = "%{text}<br>%{x:,.2f} " + unit + ", %{y:,.0f} min saturated<extra></extra>"
    fig = go.Figure(layout={"template": template()})
    fig.add_trace(
        go.Scatter(
            x=table[cost_column],
            y=table["minutes_saturated"],
            mode="markers",
            name="policies",
            text=words,
            marker={"color": "#94a3b8", "size": 8},
            hovertemplate=hover,
        )
    )
    front = table[table["pareto"]].sort_values(cost_column)
    fig.add_trace(
        go.Scatter(
            x=front[cost_column],
            y=front["minutes_saturated"],
            mode="lines+markers+text",
            name="Pareto front",
            line_shape="hv",
            text=[f"{r.target_cpu_utilization:g}%/{r.cooldown_seconds}s" for r in front.itertuples()],
            textposition="top right",
            hovertext=[words[table.index.get_loc(i)] for i in front.index],
            marker={"color": COLORS[0], "size": 10},
            hovertemplate="%{hovertext}<br>%{x:,.2f} " + unit + ", %{y:,.0f} min saturated<extra></extra>",
        )
    )
    best = table[table["recommended"]]
    fig.add_trace(
        go.Scatter(
            x=best[cost_column],
            y=best["minutes_saturated"],
            mode="markers",
            name="recommended",
            text=[words[table.index.get_loc(i)] for i in best.index],
            marker={"color": TARGET_COLOR, "size": 18, "symbol": "star"},
            hovertemplate=hover,
            cliponaxis=False,
        )
    )
    if selected is not None and selected in table.index:
        row = table.loc[[selected]]
        fig.add_trace(
            go.Scatter(
                x=row[cost_column],
                y=row["minutes_saturated"],
                mode="markers",
                name="selected",
                text=[words[table.index.get_loc(selected)]],
                hovertemplate=hover,
                cliponaxis=False,
                marker={"color": "rgba(0,0,0,0)", "size": 24, "line": {"color": EVENT_COLOR, "width": 3}},
            )
        )
    high = float(table["minutes_saturated"].max()) if len(table) else 1.0
    pad = max(high * 0.08, 1.0)
    fig.update_layout(
        title=title or f"{len(table)} policies: cost against minutes saturated",
        xaxis={"title": f"cost over the trace ({unit})"},
        yaxis={"title": "minutes saturated", "range": [-pad, high + pad]},  # room below 0: the star is not cut
        hovermode="closest",
    )
    return fig
