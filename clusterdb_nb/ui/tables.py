"""DataFrames as compact, themed HTML tables for widgets (see ``clusterdb_nb.display``)."""

from __future__ import annotations

from ..display import table_html

FLEET_COLUMNS = ["name", "provider", "region", "instance_type", "capacity", "running", "spot", "hourly_cost_usd", "tags"]
INSTANCE_COLUMNS = ["id", "fleet", "provider", "instance_type", "state", "private_ip", "hourly_cost_usd"]

__all__ = ["FLEET_COLUMNS", "INSTANCE_COLUMNS", "table_html"]
