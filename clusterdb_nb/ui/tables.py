"""DataFrames as compact HTML tables for widgets."""

from __future__ import annotations

import pandas as pd

FLEET_COLUMNS = ["name", "provider", "region", "instance_type", "capacity", "running", "spot", "hourly_cost_usd"]
INSTANCE_COLUMNS = ["id", "fleet", "provider", "instance_type", "state", "private_ip", "hourly_cost_usd"]


def table_html(df: pd.DataFrame, columns: list[str] | None = None, empty: str = "nothing yet") -> str:
    """``df`` (optionally only ``columns``) as a small HTML table, or ``empty`` in grey."""
    if df.empty:
        return f"<i style='color:#64748b'>{empty}</i>"
    shown = df[columns] if columns else df
    return shown.to_html(index=False, classes="clusterdb-table", border=0, float_format=lambda v: f"{v:.4f}")
