"""Recorded price-API answers, shaped like each API's documented examples.

- AWS: ``pricing.get_products`` (``FormatVersion``, ``PriceList`` of JSON text, ``NextToken``), the
  ``aws pricing get-products`` example's product/terms layout; EC2 ``DescribeSpotPriceHistory``.
- Google: ``ListSkusResponse`` of the Cloud Billing Catalog API (``skus``, ``nextPageToken``), each
  SKU with ``category``, ``serviceRegions`` and ``pricingInfo[].pricingExpression.tieredRates[].unitPrice``
  as units + nanos, as in the API's discovery document and its how-to page.
- Azure: the Retail Prices API's ``Items`` / ``NextPageLink`` / ``Count`` body and item fields.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

# -- AWS ---------------------------------------------------------------------------------------------------


def aws_product(instance_type: str, region: str, usd: str, **attributes: str) -> str:
    """One ``PriceList`` entry: a product and its OnDemand (and a Reserved) term, as JSON text."""
    sku = f"SKU{abs(hash((instance_type, region, tuple(attributes.items())))) % 10**10:010d}"
    attrs = {
        "servicecode": "AmazonEC2",
        "instanceType": instance_type,
        "regionCode": region,
        "location": {"us-east-1": "US East (N. Virginia)", "eu-west-1": "EU (Ireland)"}.get(region, region),
        "locationType": "AWS Region",
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
        "licenseModel": "No License required",
        "usagetype": f"BoxUsage:{instance_type}",
        "operation": "RunInstances",
        **attributes,
    }
    item = {
        "product": {"productFamily": "Compute Instance", "attributes": attrs, "sku": sku},
        "serviceCode": "AmazonEC2",
        "terms": {
            "OnDemand": {
                f"{sku}.JRTCKXETXF": {
                    "priceDimensions": {
                        f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                            "unit": "Hrs",
                            "endRange": "Inf",
                            "description": f"${usd} per On Demand Linux {instance_type} Instance Hour",
                            "appliesTo": [],
                            "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7",
                            "beginRange": "0",
                            "pricePerUnit": {"USD": usd},
                        }
                    },
                    "sku": sku,
                    "effectiveDate": "2026-12-01T00:00:00Z",
                    "offerTermCode": "JRTCKXETXF",
                    "termAttributes": {},
                }
            },
            "Reserved": {
                f"{sku}.4NA7Y494T4": {
                    "priceDimensions": {
                        f"{sku}.4NA7Y494T4.6YS6EN2CT7": {
                            "unit": "Hrs",
                            "endRange": "Inf",
                            "description": "Linux/UNIX (Amazon VPC), reserved",
                            "appliesTo": [],
                            "rateCode": f"{sku}.4NA7Y494T4.6YS6EN2CT7",
                            "beginRange": "0",
                            "pricePerUnit": {"USD": "0.0010000000"},
                        }
                    },
                    "sku": sku,
                    "effectiveDate": "2026-12-01T00:00:00Z",
                    "offerTermCode": "4NA7Y494T4",
                    "termAttributes": {"LeaseContractLength": "1yr", "OfferingClass": "standard", "PurchaseOption": "No Upfront"},
                }
            },
        },
        "version": "20261201000000",
        "publicationDate": "2026-12-01T00:00:00Z",
    }
    return json.dumps(item)


def spot_entry(instance_type: str, zone: str, price: str, minutes_ago: int = 0) -> dict[str, Any]:
    """One ``SpotPriceHistory`` entry."""
    when = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc) - datetime.timedelta(minutes=minutes_ago)
    return {
        "AvailabilityZone": zone,
        "InstanceType": instance_type,
        "ProductDescription": "Linux/UNIX",
        "SpotPrice": price,
        "Timestamp": when,
    }


# -- Google Cloud --------------------------------------------------------------------------------------------


def gcp_sku(description: str, regions: list[str], usd: float, usage: str = "OnDemand", group: str = "CPU") -> dict[str, Any]:
    """One ``Sku`` of the Compute Engine service, priced per hour (or per GiB-hour for RAM)."""
    units, nanos = divmod(round(usd * 1e9), 10**9)
    ram = "Ram" in description
    sku_id = f"{abs(hash((description, tuple(regions)))) % 0xFFFF:04X}-{len(regions):04X}-ABCD"
    return {
        "name": f"services/6F81-5844-456A/skus/{sku_id}",
        "skuId": sku_id,
        "description": description,
        "category": {
            "serviceDisplayName": "Compute Engine",
            "resourceFamily": "Compute",
            "resourceGroup": "RAM" if ram else group,
            "usageType": usage,
        },
        "serviceRegions": regions,
        "pricingInfo": [
            {
                "summary": "",
                "pricingExpression": {
                    "usageUnit": "GiBy.h" if ram else "h",
                    "displayQuantity": 1,
                    "tieredRates": [
                        {"startUsageAmount": 0, "unitPrice": {"currencyCode": "USD", "units": str(units), "nanos": nanos}}
                    ],
                    "usageUnitDescription": "gibibyte hour" if ram else "hour",
                    "baseUnit": "By.s" if ram else "s",
                    "baseUnitDescription": "byte second" if ram else "second",
                    "baseUnitConversionFactor": 3865470566400 if ram else 3600,
                },
                "currencyConversionRate": 1,
                "effectiveTime": "2026-12-01T00:00:00.000Z",
            }
        ],
        "serviceProviderName": "Google",
        "geoTaxonomy": {"type": "REGIONAL", "regions": regions},
    }


# -- Azure ---------------------------------------------------------------------------------------------------


def azure_item(
    arm_sku: str, region: str, price: float, sku_name: str, product: str, start: str = "2026-12-01T00:00:00Z"
) -> dict[str, Any]:
    """One ``Items`` entry of the Retail Prices API."""
    return {
        "currencyCode": "USD",
        "tierMinimumUnits": 0.0,
        "retailPrice": price,
        "unitPrice": price,
        "armRegionName": region,
        "location": {"eastus": "US East", "westeurope": "EU West"}.get(region, region),
        "effectiveStartDate": start,
        "meterId": f"{abs(hash((arm_sku, sku_name, region))) % 10**8:08d}-0000-0000-0000-000000000000",
        "meterName": sku_name,
        "productId": "DZH318Z0BQ4L",
        "skuId": "DZH318Z0BQ4L/00Z4",
        "productName": product,
        "skuName": sku_name,
        "serviceName": "Virtual Machines",
        "serviceId": "DZH313Z7MMC8",
        "serviceFamily": "Compute",
        "unitOfMeasure": "1 Hour",
        "type": "Consumption",
        "isPrimaryMeterRegion": True,
        "armSkuName": arm_sku,
    }


def azure_page(items: list[dict[str, Any]], next_link: str | None = None) -> dict[str, Any]:
    """A Retail Prices API answer."""
    return {
        "BillingCurrency": "USD",
        "CustomerEntityId": "Default",
        "CustomerEntityType": "Retail",
        "Items": items,
        "NextPageLink": next_link,
        "Count": len(items),
    }
