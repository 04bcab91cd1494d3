"""AWS prices: the Price List query API (``pricing.get_products``) and EC2 spot price history.

On-demand: one paginated ``get_products`` query per region (service ``AmazonEC2``; Linux,
shared tenancy, no pre-installed software, capacity status ``Used``), each product's
``OnDemand`` term read for its hourly USD rate. Spot: ``ec2.describe_spot_price_history``
for the catalog's types now (``Linux/UNIX``), the median over the region's availability
zones; when that call is refused (it needs ``ec2:DescribeSpotPriceHistory``) the snapshot's
spot prices are kept and the summary says so. Needs AWS credentials allowed
``pricing:GetProducts`` (any region's identity; the API itself answers in us-east-1)::

    >>> quotes = fetch({"us-east-1": ["m5.large", "t3.micro"]})
    >>> quotes.on_demand[("m5.large", "us-east-1")]
    0.096
"""

from __future__ import annotations

import datetime
import json
import statistics
from collections.abc import Iterable
from typing import Any

from clusterdb_nb.catalog.fetching import Key, Quotes, Request, as_compute_error, missing_extra
from clusterdb_nb.errors import ComputeError

__all__ = ["PRICING_REGION", "fetch", "filters", "parse_products", "parse_spot", "plan"]

PRICING_REGION = "us-east-1"
API = "AWS Price List API"
_WANTED = {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}


def filters(region: str) -> list[dict[str, str]]:
    """The ``get_products`` filters for one region's Linux on-demand instance prices."""
    return [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}] + [
        {"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in _WANTED.items()
    ]


def plan(wanted: dict[str, list[str]]) -> list[Request]:
    """The calls ``fetch`` makes for ``{region: [types]}``."""
    out = []
    for region, types in wanted.items():
        shown = ", ".join(f"{f['Field']}={f['Value']}" for f in filters(region))
        out.append(Request(region, "pricing.get_products", f"ServiceCode=AmazonEC2, {shown} (pages; {len(types)} types kept)"))
        out.append(Request(region, "ec2.describe_spot_price_history", f"ProductDescriptions=Linux/UNIX, {len(types)} types"))
    return out


def parse_products(price_list: Iterable[str], wanted: set[Key]) -> dict[Key, float]:
    """Hourly on-demand USD by (type, region) from ``PriceList`` items (JSON text), only for ``wanted`` keys."""
    found: dict[Key, float] = {}
    for text in price_list:
        item = json.loads(text)
        attributes = item["product"]["attributes"]
        key = (attributes.get("instanceType", ""), attributes.get("regionCode", ""))
        if key not in wanted or any(attributes.get(k) != v for k, v in _WANTED.items()):
            continue
        for term in item.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term["priceDimensions"].values():
                usd = float(dimension["pricePerUnit"]["USD"])
                if dimension.get("unit") == "Hrs" and usd > 0:
                    found[key] = min(usd, found.get(key, usd))
    return found


def parse_spot(history: Iterable[dict[str, Any]], region: str) -> dict[Key, float]:
    """The median over availability zones of each type's latest spot price (``SpotPriceHistory`` entries)."""
    latest: dict[tuple[str, str], tuple[Any, float]] = {}
    for entry in history:
        zone_key = (entry["InstanceType"], entry["AvailabilityZone"])
        seen = latest.get(zone_key)
        if seen is None or entry["Timestamp"] > seen[0]:
            latest[zone_key] = (entry["Timestamp"], float(entry["SpotPrice"]))
    by_type: dict[str, list[float]] = {}
    for (itype, _), (_, price) in latest.items():
        by_type.setdefault(itype, []).append(price)
    return {(itype, region): round(statistics.median(prices), 6) for itype, prices in by_type.items()}


def fetch(wanted: dict[str, list[str]], session: Any = None) -> Quotes:
    """Prices for ``{region: [types]}``; ``session`` is a ``boto3.Session`` (default: the default credential chain)."""
    try:
        import boto3

        from clusterdb_nb.providers.aws.errors import translate
    except ImportError:
        raise missing_extra("boto3", "aws", "aws") from None
    session = session or boto3.Session()
    pricing = session.client("pricing", region_name=PRICING_REGION)
    keys = {(t, region) for region, types in wanted.items() for t in types}
    quotes = Quotes()
    try:
        for region in wanted:
            pages = pricing.get_paginator("get_products").paginate(
                ServiceCode="AmazonEC2", Filters=filters(region), FormatVersion="aws_v1"
            )
            for page in pages:
                quotes.on_demand.update(parse_products(page["PriceList"], keys))
    except (KeyError, TypeError, ValueError) as exc:
        raise as_compute_error(exc, "aws", API) from None
    except Exception as exc:  # botocore's errors, as ours
        raise _ours(translate(exc, "aws", "catalog.refresh"), exc) from None
    refused = []
    for region, types in wanted.items():
        try:
            quotes.spot.update(_spot(session.client("ec2", region_name=region), region, types))
        except Exception as exc:
            err = _ours(translate(exc, "aws", "catalog.refresh"), exc)
            refused.append(f"{region}: {err.message}")
    if refused:
        quotes.spot_note = "kept the snapshot's spot prices where EC2 refused: " + "; ".join(refused)
    return quotes


def _spot(ec2: Any, region: str, types: list[str]) -> dict[Key, float]:
    pages = ec2.get_paginator("describe_spot_price_history").paginate(
        InstanceTypes=types, ProductDescriptions=["Linux/UNIX"], StartTime=datetime.datetime.now(datetime.timezone.utc)
    )
    history = [entry for page in pages for entry in page["SpotPriceHistory"]]
    return parse_spot(history, region)


def _ours(translated: BaseException, original: BaseException) -> ComputeError:
    if isinstance(translated, ComputeError):
        translated.operation = "catalog.refresh"
        return translated
    raise original
