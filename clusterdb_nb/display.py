"""How values read in a notebook: money, numbers, tags, tables that follow the JupyterLab theme, plans.

    >>> money(0.1248), money(0.000123456), money(12.5)
    ('$0.12', '$0.0001235', '$12.50')
    >>> compare_plans(plan_a, plan_b)       # one row per plan: before, after, change per hour and per month
    >>> table_html(s.fleets(), ["name", "capacity", "hourly_cost_usd"])

Tables take their colours from JupyterLab's ``--jp-*`` CSS variables (with light fallbacks), so they
stay readable in the dark theme. Nothing here imports a UI library.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

import pandas as pd

__all__ = [
    "cell",
    "compare_plans",
    "HOURS_PER_MONTH",
    "money",
    "number",
    "Plan",
    "plan_html",
    "plan_rows",
    "signed_money",
    "Table",
    "TABLE_CSS",
    "table_html",
]

HOURS_PER_MONTH = 730  # the clouds' pricing pages use 730 hours a month

TABLE_CSS = (
    "<style>"
    ".clusterdb-table{border-collapse:collapse;font-size:var(--jp-ui-font-size1,13px);"
    "color:var(--jp-ui-font-color1,#1f2937);background:var(--jp-layout-color1,#ffffff)}"
    ".clusterdb-table th,.clusterdb-table td{padding:3px 10px;white-space:nowrap;"
    "color:var(--jp-ui-font-color1,#1f2937);background:var(--jp-layout-color1,#ffffff)}"
    ".clusterdb-table th{font-weight:600;border-bottom:1px solid var(--jp-border-color1,#cbd5e1)}"
    ".clusterdb-table td{border-bottom:1px solid var(--jp-border-color2,#e5e7eb)}"
    ".clusterdb-table tbody tr:nth-child(even) td{background:var(--jp-layout-color2,#f3f4f6)}"
    ".clusterdb-table .num{text-align:right;font-variant-numeric:tabular-nums}"
    ".clusterdb-table .text{text-align:left}"
    ".clusterdb-table td.wrap{white-space:normal;overflow-wrap:normal;word-break:normal;min-width:16em;max-width:48em}"
    ".clusterdb-muted{color:var(--jp-ui-font-color2,#4b5563)}"
    ".clusterdb-plans{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}"
    "</style>"
)
_WRAPPED = {"detail", "description", "tags", "reason", "error_message", "calls", "message"}


def money(value: Any) -> str:
    """USD for reading: cents, or 4 significant figures below a cent; blank for NaN/None; never 1e-05."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    v = float(value)
    sign = "-" if v < 0 else ""
    v = abs(v)
    if v == 0 or v >= 0.01:
        return f"{sign}${v:,.2f}"
    digits = 3 - math.floor(math.log10(v))  # 4 significant figures
    return f"{sign}${v:.{digits}f}"


def signed_money(value: float) -> str:
    """``money`` with an explicit sign: ``+$0.62``, ``-$0.0001235``, ``$0.00``."""
    text = money(value)
    return text if value <= 0 or not text else "+" + text


def number(value: Any) -> str:
    """A number for reading: integers as they are, floats to 4 significant figures, no scientific notation."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool,)):
        return str(value)
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    v = float(value)
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    digits = max(0, 3 - math.floor(math.log10(abs(v)))) if v else 0
    return f"{v:.{digits}f}".rstrip("0").rstrip(".")


def cell(column: str, value: Any) -> str:
    """One value as table text: money for ``*_usd``, ``key=value`` for dicts, UTC times, blank for missing."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    if column.endswith("_usd"):
        return money(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number(value)
    return str(value)


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def table_html(
    df: pd.DataFrame | pd.Series, columns: Sequence[str] | None = None, empty: str = "nothing yet", css: bool = True
) -> str:
    """``df`` (optionally only ``columns``) as a themed HTML table; a Series becomes a two-column table."""
    if isinstance(df, pd.Series):
        df = df.rename_axis(str(df.index.name or "")).reset_index(name=df.name or "value")
    if df.empty:
        return f"<i class='clusterdb-muted'>{html.escape(empty)}</i>"
    shown = df[list(columns)] if columns else df
    head, kinds = [], []
    for col in shown.columns:
        kind = "num" if _numeric(shown[col]) else "text"
        kinds.append(kind)
        head.append(f"<th class='{kind}'>{html.escape(str(col))}</th>")
    body = []
    for row in shown.itertuples(index=False):
        cells = []
        for col, kind, value in zip(shown.columns, kinds, row):
            extra = " wrap" if col in _WRAPPED else ""
            cells.append(f"<td class='{kind}{extra}'>{html.escape(cell(str(col), value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    table = f"<table class='clusterdb-table'><thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    return (TABLE_CSS if css else "") + table


# -- plans -------------------------------------------------------------------------
@runtime_checkable
class Plan(Protocol):
    """What is read of a ``models.Plan`` here (this module imports no model: ``Plan._repr_html_`` calls it)."""

    @property
    def operation(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def provider(self) -> str: ...
    @property
    def calls(self) -> Sequence[Any]: ...  # each with a ``call`` text
    @property
    def hourly_cost_before_usd(self) -> float: ...
    @property
    def hourly_cost_after_usd(self) -> float: ...
    @property
    def hourly_cost_delta_usd(self) -> float: ...


def plan_rows(plan: Plan) -> list[tuple[str, str]]:
    """(label, text) rows of a plan: what, where, before, after, change per hour and per month, calls."""
    delta = plan.hourly_cost_delta_usd
    return [
        ("operation", plan.operation),
        ("target", plan.target),
        ("provider", plan.provider),
        ("before", f"{money(plan.hourly_cost_before_usd)}/h"),
        ("after", f"{money(plan.hourly_cost_after_usd)}/h"),
        ("change per hour", f"{signed_money(delta)}/h"),
        ("change per month", f"{signed_money(delta * HOURS_PER_MONTH)}/month"),
        ("calls", "; ".join(c.call for c in plan.calls)),
    ]


def plan_html(plan: Plan, css: bool = True) -> str:
    """A plan as a small two-column table titled "Plan (nothing changed)"; several sit side by side."""
    rows = "".join(
        f"<tr><th class='text'>{html.escape(label)}</th>"
        f"<td class='{'num' if label in ('before', 'after') or label.startswith('change') else 'text wrap'}'>"
        f"{html.escape(text)}</td></tr>"
        for label, text in plan_rows(plan)
    )
    return (
        (TABLE_CSS if css else "")
        + "<table class='clusterdb-table clusterdb-plan' style='display:inline-table;vertical-align:top'>"
        + "<caption style='text-align:left;caption-side:top'><b>Plan</b> "
        + "<span class='clusterdb-muted'>(dry run: nothing changed)</span></caption>"
        + f"<tbody>{rows}</tbody></table>"
    )


def compare_plans(*plans: Plan | Iterable[Plan]) -> pd.DataFrame:
    """One row per plan: operation, target, provider, $/h before and after, change per hour and month, calls.

    >>> cdb.compare_plans(s.update_fleet_capacity("web", 4, dry_run=True),
    ...                   s.update_fleet_capacity("web", 12, dry_run=True))
    """
    from .errors import ValidationError

    flat: list[Plan] = []
    for p in plans:
        flat.extend([p] if isinstance(p, Plan) else list(p))
    bad = [type(p).__name__ for p in flat if not isinstance(p, Plan)]
    if bad or not flat:
        raise ValidationError(
            f"plans: give one or more Plans (dry_run=True results){'; got ' + ', '.join(bad) if bad else ''}",
            field="plans",
            rule="Plan objects",
        )
    out: pd.DataFrame = pd.DataFrame(
        {
            "operation": [p.operation for p in flat],
            "target": [p.target for p in flat],
            "provider": [p.provider for p in flat],
            "hourly_before_usd": [p.hourly_cost_before_usd for p in flat],
            "hourly_after_usd": [p.hourly_cost_after_usd for p in flat],
            "hourly_change_usd": [p.hourly_cost_delta_usd for p in flat],
            "monthly_change_usd": [round(p.hourly_cost_delta_usd * HOURS_PER_MONTH, 6) for p in flat],
            "calls": ["; ".join(c.call for c in p.calls) for p in flat],
        }
    )
    return out


class Table(pd.DataFrame):
    """A DataFrame that a notebook shows as ``table_html`` (long text such as ``detail`` wraps, shown in full).

    It is a DataFrame in every other way; what is derived from it (a filter, a copy) is a plain DataFrame.

    >>> s.status()          # a Table: the detail column is not cut off
    """

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def _repr_html_(self) -> str:
        return table_html(self)
