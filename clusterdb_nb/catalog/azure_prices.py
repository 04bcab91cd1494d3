"""Azure prices: the Azure Retail Prices API (no authentication).

One query per (type, region)::

    GET https://prices.azure.com/api/retail/prices?api-version=2023-01-01-preview
        &$filter=serviceName eq 'Virtual Machines' and armRegionName eq 'eastus'
                 and armSkuName eq 'Standard_D2s_v3' and priceType eq 'Consumption'

followed through ``NextPageLink`` until it is empty. Of the items, Linux meters are those whose
``productName`` does not say Windows; the spot meter's ``skuName`` ends in ``Spot``, the
pay-as-you-go one has neither ``Spot`` nor ``Low Priority``; the newest ``effectiveStartDate``
wins. Filter values are case-sensitive from this API version on, so the catalog's spelling is used::

    >>> quotes = fetch({"eastus": ["Standard_D2s_v3"]})
    >>> quotes.on_demand[("Standard_D2s_v3", "eastus")]
    0.096
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from clusterdb_nb.catalog.fetching import Key, Quotes, Request, as_compute_error, get_json, http_session

__all__ = ["API_VERSION", "PRICES_URL", "fetch", "parse_items", "plan", "query"]

API = "Azure Retail Prices API"
PRICES_URL = "https://prices.azure.com/api/retail/prices"
API_VERSION = "2023-01-01-preview"


def query(region: str, instance_type: str) -> dict[str, str]:
    """The query parameters for one type's Linux pay-as-you-go and spot meters in one region."""
    odata = (
        f"serviceName eq 'Virtual Machines' and armRegionName eq '{region}' "
        f"and armSkuName eq '{instance_type}' and priceType eq 'Consumption'"
    )
    return {"api-version": API_VERSION, "$filter": odata}


def plan(wanted: dict[str, list[str]]) -> list[Request]:
    """The calls ``fetch`` makes for ``{region: [types]}``."""
    return [
        Request(region, "retail prices", f'GET {PRICES_URL} $filter="{query(region, t)["$filter"]}"')
        for region, types in wanted.items()
        for t in types
    ]


def parse_items(items: Iterable[dict[str, Any]]) -> tuple[dict[Key, float], dict[Key, float]]:
    """(on-demand, spot) USD per hour by (armSkuName, armRegionName) from ``Items``: Linux, hourly, newest meter."""
    best: dict[tuple[Key, bool], tuple[str, float]] = {}
    for item in items:
        sku_name = str(item.get("skuName", ""))
        if (
            item.get("type") != "Consumption"
            or "Windows" in str(item.get("productName", ""))
            or "Low Priority" in sku_name
            or item.get("unitOfMeasure") != "1 Hour"
        ):
            continue
        key = (str(item["armSkuName"]), str(item["armRegionName"]))
        spot = sku_name.endswith("Spot")
        start, price = str(item.get("effectiveStartDate", "")), float(item["retailPrice"])
        seen = best.get((key, spot))
        if price > 0 and (seen is None or start > seen[0]):
            best[(key, spot)] = (start, price)
    on_demand = {key: price for (key, spot), (_, price) in best.items() if not spot}
    spot_prices = {key: price for (key, spot), (_, price) in best.items() if spot}
    return on_demand, spot_prices


def fetch(wanted: dict[str, list[str]]) -> Quotes:
    """Prices for ``{region: [types]}``."""
    session = http_session("azure")
    items: list[dict[str, Any]] = []
    for region, types in wanted.items():
        for instance_type in types:
            url: str | None = PRICES_URL
            params: dict[str, str] | None = query(region, instance_type)
            while url:
                body = get_json(session, url, params, "azure", API)
                items.extend(body.get("Items") or [])
                url, params = body.get("NextPageLink") or None, None  # the link carries the query
    try:
        on_demand, spot = parse_items(items)
    except (KeyError, TypeError, ValueError) as exc:
        raise as_compute_error(exc, "azure", API) from None
    return Quotes(on_demand=on_demand, spot=spot)
