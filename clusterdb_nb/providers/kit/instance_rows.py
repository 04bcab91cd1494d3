"""A ``frames.INSTANCES`` DataFrame built column-wise from a cloud's instance listing.

One ``add`` per instance appends to plain lists; ``frame()`` converts each
column once (timestamps as epoch seconds, one vectorised UTC conversion), so a
listing of thousands of instances costs little more than the SDK's own
parsing. A running instance is priced from the catalog (NaN where the catalog
has no price), any other state costs nothing::

    >>> rows = InstanceRows("gcp", "us-central1", provider.hourly_price)
    >>> rows.add("123", "web", "e2-medium", InstanceState.RUNNING, spot=False, launched_at=1.7e9,
    ...          state_since=1.7e9, private_ip="10.0.0.2", tags={"team": "ml"})
    >>> rows.frame()["hourly_cost_usd"].tolist()
    [0.033503]
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ... import frames
from ...models import InstanceState
from .pricing import Price, price_or_nan

__all__ = ["InstanceRows"]


class InstanceRows:
    """The instances of one listing in one provider section and region, oldest first."""

    def __init__(self, provider: str, region: str, hourly_price: Price) -> None:
        self.provider = provider
        self.region = region
        self._price = price_or_nan(hourly_price)
        self._cols: dict[str, list[Any]] = {name: [] for name in frames.INSTANCES if name not in ("provider", "region")}

    def add(
        self,
        instance_id: str,
        fleet: str | None,
        instance_type: str,
        state: InstanceState,
        *,
        spot: bool,
        launched_at: float,
        state_since: float,
        private_ip: str | None,
        tags: dict[str, str],
    ) -> None:
        """One instance; ``launched_at`` and ``state_since`` in epoch seconds (``datetime.timestamp()``)."""
        c = self._cols
        c["id"].append(instance_id)
        c["fleet"].append(fleet)
        c["instance_type"].append(instance_type)
        c["state"].append(state.value)
        c["spot"].append(spot)
        c["hourly_cost_usd"].append(self._price(instance_type, spot) if state is InstanceState.RUNNING else 0.0)
        c["launched_at"].append(launched_at)
        c["state_since"].append(state_since)
        c["private_ip"].append(private_ip)
        c["tags"].append(tags)

    def frame(self) -> pd.DataFrame:
        """The rows as ``frames.INSTANCES``, oldest launch first, then by id (as the local cloud lists them)."""
        cols = self._cols
        n = len(cols["id"])
        order = sorted(range(n), key=lambda i: (cols["launched_at"][i], cols["id"][i]))
        columns: dict[str, Any] = {k: [v[i] for i in order] for k, v in cols.items()}
        columns["provider"] = [self.provider] * n
        columns["region"] = [self.region] * n
        return frames.frame(frames.INSTANCES, columns)
