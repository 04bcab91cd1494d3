"""Refresh the catalog's prices from the clouds' public price APIs into the user's data folder.

For each cloud asked for, the catalog's types in the chosen regions are priced by that cloud's
source (``aws_prices``, ``gcp_prices``, ``azure_prices``), and the cloud's file in
``store.folder()`` is rewritten atomically: found prices are updated and dated today; a type
the API does not price keeps its previous price and date and is listed in ``not_found``.
A cloud whose fetch fails (no credentials, network, an unexpected answer, nothing priced at
all) keeps its previous file untouched; its row says ``failed`` and why, and the error is
in ``df.attrs["errors"]``::

    >>> df = run("azure", ["eastus"])
    >>> df[["provider", "status", "updated", "prices_changed", "not_found", "price_date_after"]]
    >>> df.attrs["changes"]        # one row per changed price: before and after
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from clusterdb_nb.catalog import aws_prices, azure_prices, gcp_prices, instance_types, store
from clusterdb_nb.catalog.fetching import Quotes, Request
from clusterdb_nb.errors import ComputeError, ValidationError

__all__ = ["CHANGE_COLUMNS", "PLAN_COLUMNS", "SUMMARY_COLUMNS", "plan", "run"]

SUMMARY_COLUMNS = [
    "provider",
    "status",
    "regions",
    "types",
    "updated",
    "prices_changed",
    "not_found",
    "spot",
    "price_date_before",
    "price_date_after",
    "path",
    "detail",
]
PLAN_COLUMNS = ["provider", "region", "api", "request"]
CHANGE_COLUMNS = ["provider", "instance_type", "region", "on_demand_before", "on_demand_after", "spot_before", "spot_after"]


def _regions_by_provider(provider: str | None, regions: str | Iterable[str] | None) -> dict[str, list[str]]:
    """The regions to refresh per cloud; a region no chosen cloud prices is a ValidationError."""
    providers = [instance_types.check_provider(provider)] if provider is not None else list(instance_types.PROVIDERS)
    if regions is None:
        return {p: instance_types.regions(p) for p in providers}
    asked = [r.strip() for r in ([regions] if isinstance(regions, str) else regions) for r in r.split(",") if r.strip()]
    known = {p: instance_types.regions(p) for p in providers}
    unknown = [r for r in asked if not any(r in k for k in known.values())]
    if unknown or not asked:
        raise ValidationError(
            f"regions: {', '.join(unknown) or '(none)'} not in the catalog; "
            + "; ".join(f"{p}: {', '.join(k)}" for p, k in known.items()),
            field="regions",
            rule="priced regions",
            operation="catalog.refresh",
            solution="Pick regions the catalog prices (clusterdb_nb.catalog.regions(provider)), or leave them out for all",
        )
    chosen = {p: [r for r in k if r in asked] for p, k in known.items()}
    return {p: r for p, r in chosen.items() if r}


def _wanted(provider: str, regions: list[str]) -> dict[str, list[instance_types.InstanceType]]:
    rows = instance_types.rows(provider)
    return {region: [it for it in rows if it.region == region] for region in regions}


def _names(wanted: dict[str, list[instance_types.InstanceType]]) -> dict[str, list[str]]:
    return {region: [it.name for it in rows] for region, rows in wanted.items()}


def _requests(provider: str, wanted: dict[str, list[instance_types.InstanceType]]) -> list[Request]:
    if provider == "aws":
        return aws_prices.plan(_names(wanted))
    if provider == "gcp":
        return gcp_prices.plan(wanted)
    return azure_prices.plan(_names(wanted))


def plan(provider: str | None = None, regions: str | Iterable[str] | None = None) -> pd.DataFrame:
    """The requests a refresh would make, one row each: provider, region, api, request. Nothing is fetched."""
    rows = [
        (p, r.region, r.api, r.request)
        for p, chosen in _regions_by_provider(provider, regions).items()
        for r in _requests(p, _wanted(p, chosen))
    ]
    out: pd.DataFrame = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    return out


def _fetcher(
    provider: str, gcp_api_key: str | None, aws_session: Any
) -> Callable[[dict[str, list[instance_types.InstanceType]]], Quotes]:
    if provider == "aws":
        return lambda wanted: aws_prices.fetch(_names(wanted), session=aws_session)
    if provider == "gcp":
        return lambda wanted: gcp_prices.fetch(wanted, api_key=gcp_api_key)
    return lambda wanted: azure_prices.fetch(_names(wanted))


def run(
    provider: str | None = None,
    regions: str | Iterable[str] | None = None,
    dry_run: bool = False,
    gcp_api_key: str | None = None,
    aws_session: Any = None,
    today: datetime.date | None = None,
) -> pd.DataFrame:
    """Refresh prices (see the module docstring); ``dry_run=True`` returns ``plan(...)`` instead."""
    chosen = _regions_by_provider(provider, regions)
    if dry_run:
        return plan(provider, regions)
    today = today or datetime.date.today()
    summary, changes, errors = [], [], {}
    for p, p_regions in chosen.items():
        wanted = _wanted(p, p_regions)
        before = instance_types.price_date(p).isoformat()
        row: dict[str, Any] = {
            "provider": p,
            "regions": ", ".join(p_regions),
            "types": sum(len(v) for v in wanted.values()),
            "updated": 0,
            "prices_changed": 0,
            "not_found": "",
            "spot": "",
            "price_date_before": before,
            "price_date_after": before,
            "path": str(store.path(p)),
        }
        try:
            quotes = _fetcher(p, gcp_api_key, aws_session)(wanted)
            if not quotes.on_demand:
                raise ValidationError(
                    f"the {p} price API priced none of the catalog's {row['types']} types in {row['regions']}",
                    field="regions",
                    rule="at least one type priced",
                    provider=p,
                    operation="catalog.refresh",
                    solution="The previous prices are kept; check the region names and retry",
                )
            new_rows, changed, missing = _merge(p, p_regions, quotes, today)
        except ComputeError as err:
            errors[p] = err
            summary.append({**row, "status": "failed", "detail": f"{type(err).__name__}: {err.message}; previous prices kept"})
            continue
        path = store.write(p, new_rows)
        changes.extend(changed)
        kept_spot = sum(
            1
            for region, rows in wanted.items()
            for it in rows
            if it.spot_usd is not None and (it.name, region) in quotes.on_demand and (it.name, region) not in quotes.spot
        )
        summary.append(
            {
                **row,
                "status": "updated",
                "updated": row["types"] - len(missing),
                "prices_changed": len(changed),
                "not_found": ", ".join(missing),
                "spot": quotes.spot_note + (f"; {kept_spot} types kept their previous spot price" if kept_spot else ""),
                "price_date_after": instance_types.price_date(p).isoformat(),
                "path": str(path),
                "detail": f"{len(missing)} types not priced by the API kept their previous prices" if missing else "",
            }
        )
    df: pd.DataFrame = pd.DataFrame(summary, columns=SUMMARY_COLUMNS).astype(
        {"types": "int64", "updated": "int64", "prices_changed": "int64"}
    )
    df.attrs["changes"] = pd.DataFrame(changes, columns=CHANGE_COLUMNS)
    df.attrs["errors"] = errors
    return df


def _merge(
    provider: str, regions: list[str], quotes: Quotes, today: datetime.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Every current row of ``provider``, the refreshed regions' prices replaced where ``quotes`` has them."""
    rows, changed, missing = [], [], []
    for it in instance_types.rows(provider):
        key = (it.name, it.region)
        on_demand, spot, date = it.on_demand_usd, it.spot_usd, it.price_date
        if it.region in regions:
            if key in quotes.on_demand:
                on_demand, date = quotes.on_demand[key], today
                if it.spot_usd is not None or key in quotes.spot:
                    spot = quotes.spot.get(key, it.spot_usd)
            else:
                missing.append(f"{it.name}@{it.region}")
        if (on_demand, spot) != (it.on_demand_usd, it.spot_usd):
            changed.append(
                {
                    "provider": provider,
                    "instance_type": it.name,
                    "region": it.region,
                    "on_demand_before": it.on_demand_usd,
                    "on_demand_after": on_demand,
                    "spot_before": it.spot_usd,
                    "spot_after": spot,
                }
            )
        rows.append(
            {
                "instance_type": it.name,
                "region": it.region,
                "vcpu": it.vcpu,
                "memory_gib": f"{it.memory_gib:g}",
                "arch": it.arch,
                "gpu": it.gpu,
                "category": it.category,
                "on_demand_usd": repr(float(on_demand)),
                "spot_usd": "" if spot is None else repr(float(spot)),
                "price_date": date.isoformat(),
            }
        )
    return rows, changed, missing
