"""Google Cloud prices: the Cloud Billing Catalog API's Compute Engine SKUs.

``GET https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus?currencyCode=USD``
pages (``nextPageToken``) through every Compute Engine SKU. Google prices a predefined
machine type by its parts, so a type's hourly price is

    billed vCPUs x the family's per-vCPU rate + GiB x its per-GiB rate (+ GPUs x the GPU rate)

read from the SKUs of the family (``"N2 Instance Core running in Americas"``, ``"... Ram ..."``)
offered in the region (``serviceRegions``), ``usageType`` ``OnDemand`` for on-demand and
``Preemptible`` (Spot VMs) for spot. Shared-core E2 types bill a fraction of a vCPU
(e2-micro 0.25, e2-small 0.5, e2-medium 1) though they report 2.

Authentication: an API key (``$CLUSTERDB_GCP_API_KEY`` or ``gcp_api_key=``, sent in the
``X-goog-api-key`` header, never in the URL), as Google's guide for this API asks; without one,
Application Default Credentials (``gcloud auth application-default login``) with the
``cloud-billing.readonly`` scope::

    >>> quotes = fetch({"us-central1": [lookup("n2-standard-2", "us-central1")]}, api_key="...")
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from clusterdb_nb.catalog.fetching import Key, Quotes, Request, as_compute_error, get_json, http_session, missing_extra
from clusterdb_nb.errors import AuthenticationError

if TYPE_CHECKING:
    from clusterdb_nb.catalog.instance_types import InstanceType

__all__ = ["API_KEY_ENV", "COMPUTE_SERVICE", "SKUS_URL", "fetch", "family_of", "parse_rates", "plan", "price"]

API = "Cloud Billing Catalog API"
API_KEY_ENV = "CLUSTERDB_GCP_API_KEY"
COMPUTE_SERVICE = "6F81-5844-456A"
SKUS_URL = f"https://cloudbilling.googleapis.com/v1/services/{COMPUTE_SERVICE}/skus"
SCOPE = "https://www.googleapis.com/auth/cloud-billing.readonly"

# Machine family -> how its SKUs are described; GPU families name their accelerator's SKU.
_FAMILIES: dict[str, tuple[str, str | None]] = {
    "e2": ("E2 Instance", None),
    "n2": ("N2 Instance", None),
    "n2d": ("N2D AMD Instance", None),
    "c2": ("Compute optimized", None),
    "t2a": ("T2A Arm Instance", None),
    "g2": ("G2 Instance", "Nvidia L4 GPU"),
    "a2": ("A2 Instance", "Nvidia Tesla A100 GPU"),
}
_SHARED_CORE = {"e2-micro": 0.25, "e2-small": 0.5, "e2-medium": 1.0}
_USAGE = {"OnDemand": False, "Preemptible": True}
_PREFIX = r"^(?:Spot Preemptible |Preemptible )?"


def family_of(name: str) -> str:
    """The machine family of a type name, e.g. ``family_of("n2d-standard-2")  # 'n2d'``."""
    return name.split("-", 1)[0]


def plan(wanted: dict[str, list[InstanceType]]) -> list[Request]:
    """The calls ``fetch`` makes: one paged listing of Compute Engine SKUs serves every region."""
    regions = ", ".join(wanted)
    n = sum(len(v) for v in wanted.values())
    return [Request(regions, "cloudbilling services.skus.list", f"GET {SKUS_URL}?currencyCode=USD (pages; {n} types priced)")]


def _unit_price(sku: dict[str, Any]) -> float | None:
    """USD per usage unit from the SKU's latest pricing, its last tier (the rate after any free allowance)."""
    infos = sku.get("pricingInfo") or []
    if not infos:
        return None
    tiers = infos[-1]["pricingExpression"].get("tieredRates") or []
    if not tiers:
        return None
    money = tiers[-1]["unitPrice"]
    return int(money.get("units") or 0) + int(money.get("nanos") or 0) / 1e9


def parse_rates(skus: Iterable[dict[str, Any]], regions: set[str]) -> dict[tuple[str, str, str, bool], float]:
    """Rates by (region, family, part, spot), part ``core`` / ``ram`` / ``gpu``, from ``skus`` (``ListSkusResponse.skus``)."""
    patterns = []
    for family, (label, gpu) in _FAMILIES.items():
        patterns.append((family, "core", re.compile(_PREFIX + re.escape(label) + r" Core running in ")))
        patterns.append((family, "ram", re.compile(_PREFIX + re.escape(label) + r" Ram running in ")))
        if gpu:
            patterns.append((family, "gpu", re.compile(_PREFIX + re.escape(gpu) + r" running in ")))
    rates: dict[tuple[str, str, str, bool], float] = {}
    for sku in skus:
        category = sku.get("category", {})
        spot = _USAGE.get(category.get("usageType", ""))
        if spot is None or category.get("resourceFamily") != "Compute":
            continue
        description = sku.get("description", "")
        match = next(((f, part) for f, part, rx in patterns if rx.match(description)), None)
        in_regions = regions.intersection(sku.get("serviceRegions") or [])
        price = _unit_price(sku)
        if match is None or not in_regions or price is None:
            continue
        for region in in_regions:
            rates[(region, match[0], match[1], spot)] = price
    return rates


def price(it: InstanceType, rates: dict[tuple[str, str, str, bool], float], spot: bool) -> float | None:
    """A type's hourly price from the family rates, None when a part's rate is missing."""
    family = family_of(it.name)
    parts = [("core", _SHARED_CORE.get(it.name, float(it.vcpu))), ("ram", it.memory_gib)]
    if it.gpu:
        parts.append(("gpu", float(it.gpu)))
    total = 0.0
    for part, amount in parts:
        rate = rates.get((it.region, family, part, spot))
        if rate is None:
            return None
        total += amount * rate
    return round(total, 6)


def fetch(wanted: dict[str, list[InstanceType]], api_key: str | None = None) -> Quotes:
    """Prices for ``{region: [catalog rows]}`` from every Compute Engine SKU (see the module docstring for auth)."""
    session = _session(api_key or os.environ.get(API_KEY_ENV))
    params = {"currencyCode": "USD", "pageSize": "5000"}
    skus: list[dict[str, Any]] = []
    while True:
        body = get_json(session, SKUS_URL, params, "gcp", API)
        skus.extend(body.get("skus") or [])
        token = body.get("nextPageToken")
        if not token:
            break
        params = {**params, "pageToken": token}
    try:
        rates = parse_rates(skus, set(wanted))
    except (KeyError, TypeError, ValueError) as exc:
        raise as_compute_error(exc, "gcp", API) from None
    quotes = Quotes()
    for region, rows in wanted.items():
        for it in rows:
            key: Key = (it.name, region)
            on_demand, spot = price(it, rates, False), price(it, rates, True)
            if on_demand is not None:
                quotes.on_demand[key] = on_demand
            if spot is not None:
                quotes.spot[key] = spot
    return quotes


def _session(api_key: str | None) -> Any:
    if api_key:
        return http_session("gcp", {"X-goog-api-key": api_key})
    try:
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError
        from google.auth.transport.requests import AuthorizedSession
    except ImportError:
        raise missing_extra("google-auth (or an API key in $CLUSTERDB_GCP_API_KEY)", "gcp", "gcp") from None
    try:
        credentials, _ = google.auth.default(scopes=[SCOPE])
    except DefaultCredentialsError:
        raise AuthenticationError(
            "the Cloud Billing Catalog API needs an API key or Google credentials, and neither was found",
            provider="gcp",
            operation="catalog.refresh",
            cause=f"${API_KEY_ENV} is not set and there are no Application Default Credentials",
            solution=f"Set {API_KEY_ENV} to an API key of a project with the Cloud Billing API enabled, "
            "or run `gcloud auth application-default login`",
        ) from None
    return http_session("gcp", session=AuthorizedSession(credentials))  # type: ignore[no-untyped-call]
