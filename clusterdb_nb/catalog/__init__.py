"""Instance type catalog: shapes and list prices for AWS, GCP and Azure.

The data lives in ``data/<provider>.csv`` (one row per type and region; see
``data/README.md`` for where the prices came from). Prices are Linux
on-demand list prices in USD per hour, plus a typical spot price::

    >>> from clusterdb_nb import catalog
    >>> catalog.lookup("m5.large").on_demand_usd
    0.096
    >>> catalog.equivalent("m5.large", "gcp").name
    'e2-standard-2'

The shipped prices are a dated snapshot; ``refresh()`` (or ``clusterdb catalog
refresh``) fetches current ones from the clouds' price APIs into the user's data
folder (``store.folder()``), and every look-up uses the newer of the two::

    >>> catalog.price_dates()
    {'aws': '2026-11-01', 'gcp': '2026-11-01', 'azure': '2026-11-01'}

Only the standard library is imported here; pandas is imported by
:func:`types` when it is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clusterdb_nb.catalog.instance_types import (
    PROVIDERS,
    REFERENCE_REGION,
    STALE_AFTER_DAYS,
    InstanceType,
    equivalent,
    lookup,
    price_date,
    price_dates,
    price_note,
    provider_of,
    regions,
    types,
)

if TYPE_CHECKING:
    import pandas

__all__ = [
    "PROVIDERS",
    "REFERENCE_REGION",
    "InstanceType",
    "equivalent",
    "lookup",
    "STALE_AFTER_DAYS",
    "price_date",
    "price_dates",
    "price_note",
    "provider_of",
    "refresh",
    "regions",
    "types",
]


def refresh(
    provider: str | None = None,
    regions: str | list[str] | None = None,
    dry_run: bool = False,
    gcp_api_key: str | None = None,
) -> pandas.DataFrame:
    """Fetch current list prices from the clouds' price APIs into the user's data folder; a summary of what changed.

    One row per cloud (status ``updated``, ``failed`` or ``planned`` for ``dry_run=True``, which fetches
    nothing and returns one row per request instead). See :mod:`clusterdb_nb.catalog.refreshing`.
    Example: ``refresh("azure", ["eastus"])``
    """
    from clusterdb_nb.catalog import refreshing

    return refreshing.run(provider, regions, dry_run=dry_run, gcp_api_key=gcp_api_key)
