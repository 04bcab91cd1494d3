"""DataFrames as compact HTML tables for widgets."""

from __future__ import annotations

import pandas as pd

FLEET_COLUMNS = ["name", "provider", "region", "instance_type", "capacity", "running", "spot", "hourly_cost_usd"]
STYLE = (
    "<style>.clusterdb-table{border-collapse:collapse;font-size:12px}"
    ".clusterdb-table th{border-bottom:1px solid #cbd5e1;padding:3px 10px;text-align:left}"
    ".clusterdb-table td{padding:3px 10px;border-bottom:1px solid #f1f5f9}"
    ".clusterdb-table tr:nth-child(even) td{background:#f8fafc}</style>"
)
INSTANCE_COLUMNS = ["id", "fleet", "provider", "instance_type", "state", "private_ip", "hourly_cost_usd"]


def table_html(df: pd.DataFrame, columns: list[str] | None = None, empty: str = "nothing yet") -> str:
    """``df`` (optionally only ``columns``) as a small HTML table, or ``empty`` in grey."""
    if df.empty:
        return f"<i style='color:#64748b'>{empty}</i>"
    shown = df[columns] if columns else df
    return STYLE + shown.to_html(index=False, classes="clusterdb-table", border=0, float_format=lambda v: f"{v:.4f}")
