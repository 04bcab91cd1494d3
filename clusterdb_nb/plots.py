"""Every Plotly figure of the package, with one look (a light and a dark template).

    >>> fig = utilization_figure(s.utilization("web-fleet"), target=70.0, events=s.scaling_activities("web-fleet"))
    >>> fig = costs_figure(s.costs_over_time(by="fleet"), by="fleet", period="1h")
    >>> fig = simulate(trace, policy).figure()                # simulation_figure
    >>> fig = tune(trace).figure()                            # pareto_figure

Plotly is imported when a figure is made, not with ``clusterdb_nb``; the modules that compute the data
(``session``, ``autoscaling``) call these and never import Plotly themselves. This module imports none of
them (the arrows point here), only ``models`` for type hints.
"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from plotly.graph_objects import Figure as Figure  # the type the results' figure() returns

    from .models import AutoScalingConfig

__all__ = [
    "bucket_for",
    "BUCKETS",
    "CAPACITY_COLOR",
    "COLORS",
    "costs_figure",
    "CPU_COLOR",
    "DESIRED_COLOR",
    "display_output",
    "EVENT_COLOR",
    "in_words",
    "MAX_POINTS",
    "migration_figure",
    "pareto_figure",
    "pick_period",
    "set_theme",
    "simulation_figure",
    "STOP_COLOR",
    "summarize",
    "TARGET_COLOR",
    "template",
    "TERMINATE_COLOR",
    "THEMES",
    "utilization_figure",
]

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
        title={"x": 0, "xref": "paper", "xanchor": "left", "font": {"size": 16}},
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


BUCKETS = ["1min", "5min", "10min", "15min", "30min", "1h", "2h", "3h", "6h", "12h", "1D", "7D"]
MAX_POINTS = 600  # what a notebook-wide chart can show: about one point per two pixels


def bucket_for(span: pd.Timedelta, max_points: int = MAX_POINTS) -> str:
    """The smallest bucket of ``BUCKETS`` (1min ... 7D) that shows ``span`` in at most ``max_points`` points.

    >>> bucket_for(pd.Timedelta("14D"))
    '1h'
    """
    for bucket in BUCKETS:
        if span / pd.Timedelta(bucket) <= max_points:
            return bucket
    return BUCKETS[-1]


def in_words(period: str | pd.Timedelta) -> str:
    """``"1h"`` as ``"1 h"``, ``"15min"`` as ``"15 min"``, ``"1D"`` as ``"1 day"``."""
    seconds = pd.Timedelta(period).total_seconds()
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds / size
            return f"{n:g} {unit}{'s' if unit == 'day' and n != 1 else ''}"
    return f"{seconds:g} s"


def simulation_figure(
    timeline: pd.DataFrame,
    policy: AutoScalingConfig,
    step_seconds: int,
    autoscaler: str,
    title: str | None = None,
    max_points: int = MAX_POINTS,
) -> go.Figure:
    """Demand and capacity (instances) and utilization against the target (%) of ``policy`` simulated under
    ``autoscaler`` (its name, e.g. "AWS target tracking"); ``timeline`` is ``SimulationResult.timeline``, one row
    per step of ``step_seconds``.

    A timeline longer than ``max_points`` is drawn per bucket (mean demand, max capacity, mean utilization) with a
    range slider to zoom; the minutes saturated in each bucket are marked at 100 %, so a peak the means smooth out
    still shows. The title says the period and the bucket.

    >>> simulate(trace, policy, provider="aws").figure()      # draws this
    """
    import plotly.graph_objects as go

    step_minutes = step_seconds / 60.0
    df = timeline.set_index("time").assign(saturated=lambda d: d["saturated"] * step_minutes)
    times = pd.DatetimeIndex(df.index)
    start, end = (times.min(), times.max()) if len(times) else (pd.Timestamp(0, tz="UTC"), pd.Timestamp(0, tz="UTC"))
    span = end - start
    bucket = bucket_for(span, max_points)
    per = ""
    if pd.Timedelta(bucket).total_seconds() > step_seconds:
        how = {"demand": "mean", "capacity": "max", "utilization": "mean", "saturated": "sum"}
        df = df.resample(bucket).agg(how).dropna()
        per = in_words(bucket)
    names = (
        (f"demand (instances, mean per {per})", f"capacity (max per {per})", f"utilization % (mean per {per})")
        if per
        else ("demand (instances)", "capacity", "utilization %")
    )
    target = policy.target_cpu_utilization
    fig = go.Figure(layout={"template": template()})
    demand = {"color": DESIRED_COLOR, "width": 1.5}
    fig.add_trace(go.Scatter(x=df.index, y=df["demand"], name=names[0], line=demand, hovertemplate="%{y:.2f}"))
    fig.add_trace(
        go.Scatter(
            x=df.index,
            y=df["capacity"],
            name=names[1],
            line_shape="hv",
            line={"color": CAPACITY_COLOR, "width": 2},
            hovertemplate="%{y} instances",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=df.index,
            y=df["utilization"],
            name=names[2],
            yaxis="y2",
            line={"color": CPU_COLOR, "width": 1.2},
            hovertemplate="%{y:.1f}%",
        )
    )
    edges = [df.index[0], df.index[-1]] if len(df) else []
    fig.add_trace(
        go.Scatter(
            x=edges,
            y=[target] * len(edges),
            name=f"target {target:g}%",
            yaxis="y2",
            mode="lines",
            line={"color": TARGET_COLOR, "dash": "dash", "width": 1.5},
            hoverinfo="skip",
        )
    )
    hot = df[df["saturated"] > 0]
    if len(hot):
        fig.add_trace(
            go.Scatter(
                x=hot.index,
                y=[100.0] * len(hot),
                name="saturated",
                yaxis="y2",
                mode="markers",
                marker={"symbol": "triangle-down", "size": 7, "color": TARGET_COLOR},
                customdata=hot["saturated"],
                hovertemplate="%{customdata:g} min saturated<extra></extra>",
                cliponaxis=False,
            )
        )
    head = (
        f"{autoscaler}: target {target:g}%, cooldown {policy.cooldown_seconds} s, "
        f"{policy.min_capacity}–{policy.max_capacity} instances"
    )
    period = f"{span / pd.Timedelta('1D'):.1f} days, {start:%Y-%m-%d} to {end:%Y-%m-%d} UTC" if len(df) else "no data"
    every = in_words(pd.Timedelta(seconds=step_seconds))
    drawn = f", per {per}: mean demand and utilization, max capacity" if per else f", every {every}"
    top = float(df["capacity"].max()) if len(df) else 1.0
    fig.update_layout(
        title=title or f"{head}<br><sup>{period}{drawn}</sup>",
        xaxis={"title": "time (UTC)", "rangeslider": {"visible": bool(per), "thickness": 0.08}},
        yaxis={"title": "instances (count)", "range": [0, top * 1.15 + 1], "tickformat": "d"},
        yaxis2={
            "title": "utilization (%)",
            "overlaying": "y",
            "side": "right",
            "range": [0, 105],
            "tickmode": "linear",
            "tick0": 0,
            "dtick": 20,
            "showgrid": False,
        },
    )
    return fig


def pareto_figure(
    table: pd.DataFrame, cost_column: str, autoscaler: str, selected: int | None = None, title: str | None = None
) -> go.Figure:
    """Cost against minutes saturated for every tuned policy: the front joined, the recommendation starred (never cut
        at 0 minutes), the ``selected`` row (a ``table`` index) ringed; hover names each policy. ``table`` is
        ``TuningResult.table``, ``cost_column`` its ``cost_usd`` or ``instance_hours``; each point carries its
    ``table`` index as ``customdata`` (what a click on it selects).

        >>> tune(trace, targets=[50, 70], cooldowns=[60, 300]).figure()      # draws this
    """
    import plotly.graph_objects as go

    unit = "USD" if cost_column == "cost_usd" else "instance-hours"
    words = [
        f"target {r.target_cpu_utilization:g}%, cooldown {r.cooldown_seconds} s, {r.min_capacity}–{r.max_capacity} instances"
        for r in table.itertuples()
    ]
    said = dict(zip(table.index, words))
    money = "$%{x:,.2f}" if unit == "USD" else "%{x:,.1f} instance-hours"
    hover = "%{text}<br>" + money + ", %{y:,.0f} min saturated<extra></extra>"
    fig = go.Figure(layout={"template": template()})
    fig.add_trace(
        go.Scatter(
            x=table[cost_column],
            y=table["minutes_saturated"],
            customdata=list(table.index),
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
            customdata=list(front.index),
            mode="lines+markers",
            name="Pareto front",
            line_shape="hv",
            text=[said[i] for i in front.index],
            marker={"color": COLORS[0], "size": 10},
            hovertemplate=hover,
        )
    )
    best = table[table["recommended"]]
    fig.add_trace(
        go.Scatter(
            x=best[cost_column],
            y=best["minutes_saturated"],
            customdata=list(best.index),
            mode="markers+text",
            name="recommended",
            text=[f"{r.target_cpu_utilization:g}% / {r.cooldown_seconds} s" for r in best.itertuples()],
            textposition="top center",
            hovertext=["recommended: " + said[i] for i in best.index],
            marker={"color": TARGET_COLOR, "size": 18, "symbol": "star"},
            hovertemplate=hover.replace("%{text}", "%{hovertext}"),
            cliponaxis=False,
        )
    )
    if selected is not None and selected in table.index:
        row = table.loc[[selected]]
        fig.add_trace(
            go.Scatter(
                x=row[cost_column],
                y=row["minutes_saturated"],
                customdata=[selected],
                mode="markers",
                name="selected",
                text=["selected: " + said[selected]],
                hovertemplate=hover,
                cliponaxis=False,
                marker={"color": "rgba(0,0,0,0)", "size": 24, "line": {"color": EVENT_COLOR, "width": 3}},
            )
        )
    high = float(table["minutes_saturated"].max()) if len(table) else 1.0
    pad = max(high * 0.08, 1.0)
    fig.update_layout(
        title=title or f"{autoscaler}: {len(table)} policies, cost against minutes saturated",
        xaxis={"title": f"cost over the trace ({unit})", "tickprefix": "$" if unit == "USD" else ""},
        yaxis={"title": "minutes saturated (min)", "range": [-pad, high + pad]},  # room below 0: the star is not cut
        hovermode="closest",
    )
    return fig


def migration_figure(history: pd.DataFrame, source: str, target: str, title: str | None = None) -> go.Figure:
    """Both fleets' desired capacity over a migration as stacked step areas, their total as a dashed line, and
    each event (gate passed or failed, pause, rollback) marked on it.

    ``history`` has the columns of ``Migration.history()``: time, event, source_capacity, target_capacity,
    total_capacity, detail.
    """
    import plotly.graph_objects as go

    fig = go.Figure(layout={"template": template()})
    for column, name, color in (("source_capacity", source, CAPACITY_COLOR), ("target_capacity", target, DESIRED_COLOR)):
        fig.add_trace(
            go.Scatter(
                x=history["time"],
                y=history[column],
                name=name,
                stackgroup="capacity",
                line={"shape": "hv", "color": color, "width": 1},
                hovertemplate="%{y}",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=history["time"],
            y=history["total_capacity"],
            name="both fleets",
            mode="lines+markers",
            line={"shape": "hv", "color": TERMINATE_COLOR, "width": 1, "dash": "dash"},
            marker={
                "size": 6,
                "color": [EVENT_COLOR if "gate" in e or "rollback" in e else TERMINATE_COLOR for e in history["event"]],
            },
            text=[f"{e}: {d}" if d else e for e, d in zip(history["event"], history["detail"])],
            hovertemplate="%{y} (%{text})",
        )
    )
    fig.update_layout(
        title=title or f"Migration: {source} → {target}",
        xaxis_title="time (UTC)",
        yaxis={"title": "desired instances", "rangemode": "tozero"},
    )
    return fig
