"""The catalog's rows: instance types with their shapes and prices, shipped or refreshed, and look-ups.

``clusterdb_nb.catalog`` re-exports the public names; ``rows`` and ``check_provider`` serve the
package's refresh. Only the standard library is imported here; pandas only when :func:`types` runs::

    >>> lookup("m5.large").on_demand_usd
    0.096
"""

from __future__ import annotations

import csv
import datetime
import difflib
import functools
import io
import logging
import pathlib
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from clusterdb_nb.catalog import store
from clusterdb_nb.errors import ValidationError

if TYPE_CHECKING:
    import pandas

__all__ = [
    "PROVIDERS",
    "REFERENCE_REGION",
    "InstanceType",
    "check_provider",
    "equivalent",
    "lookup",
    "STALE_AFTER_DAYS",
    "price_date",
    "price_dates",
    "price_note",
    "provider_of",
    "regions",
    "rows",
    "types",
]

PROVIDERS: tuple[str, ...] = ("aws", "gcp", "azure")
REFERENCE_REGION: dict[str, str] = {"aws": "us-east-1", "gcp": "us-central1", "azure": "eastus"}
log = logging.getLogger("clusterdb_nb.catalog")
_LIST_HINT = "list them with clusterdb_nb.catalog.types()"
_COLUMNS = [
    "provider",
    "instance_type",
    "region",
    "vcpu",
    "memory_gib",
    "arch",
    "gpu",
    "category",
    "on_demand_usd",
    "spot_usd",
    "price_date",
]


@dataclass(frozen=True)
class InstanceType:
    """One instance type priced in one region."""

    provider: str  # "aws" | "gcp" | "azure"
    name: str  # canonical spelling from the CSV
    region: str
    vcpu: int
    memory_gib: float
    arch: str  # "x86_64" | "arm64"
    gpu: int  # number of GPUs
    category: str  # general | burstable | compute | memory | gpu
    on_demand_usd: float  # per hour
    spot_usd: float | None  # per hour; None where the cloud sells no spot for the type
    price_date: datetime.date

    def price(self, spot: bool = False) -> float:
        """Hourly price in USD, e.g. ``lookup("m5.large").price(spot=True)``."""
        if not spot:
            return self.on_demand_usd
        if self.spot_usd is None:
            raise ValidationError(
                f"{self.name} is not offered as spot/preemptible capacity in {self.region}",
                field="spot",
                rule="spot offered",
                provider=self.provider,
                operation="catalog.price",
                solution="Use on-demand pricing or pick another type (see equivalent())",
            )
        return self.spot_usd


# --------------------------------------------------------------------------- loading


def _parse(provider: str, text: str) -> list[InstanceType]:
    return [
        InstanceType(
            provider=provider,
            name=r["instance_type"],
            region=r["region"],
            vcpu=int(r["vcpu"]),
            memory_gib=float(r["memory_gib"]),
            arch=r["arch"],
            gpu=int(r["gpu"]),
            category=r["category"],
            on_demand_usd=float(r["on_demand_usd"]),
            spot_usd=float(r["spot_usd"]) if r["spot_usd"] else None,
            price_date=datetime.date.fromisoformat(r["price_date"]),
        )
        for r in csv.DictReader(io.StringIO(text))
    ]


@functools.lru_cache(maxsize=16)
def _load(provider: str, refreshed: store.Stamp | None) -> tuple[InstanceType, ...]:
    """The shipped rows, each replaced by its refreshed row (same type and region) when that one is as new or newer."""
    shipped = _parse(provider, (resources.files(__package__) / "data" / f"{provider}.csv").read_text(encoding="utf-8"))
    if refreshed is None:
        return tuple(shipped)
    try:
        newer = _parse(provider, pathlib.Path(refreshed[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring the refreshed %s catalog %s (%s); using the shipped prices", provider, refreshed[0], exc)
        return tuple(shipped)
    rows = {(it.name, it.region): it for it in shipped}
    for it in newer:
        old = rows.get((it.name, it.region))
        if old is None or it.price_date >= old.price_date:
            rows[(it.name, it.region)] = it
    return tuple(rows.values())


def rows(provider: str) -> tuple[InstanceType, ...]:
    """A cloud's rows: the shipped snapshot, with newer refreshed prices (``store.folder()``) laid over it."""
    return _load(provider, store.stamp(provider))


def _index() -> dict[str, dict[str, InstanceType]]:
    """Lowercase type name -> {region: InstanceType}."""
    return _build_index(tuple(store.stamp(p) for p in PROVIDERS))


@functools.lru_cache(maxsize=4)
def _build_index(stamps: tuple[store.Stamp | None, ...]) -> dict[str, dict[str, InstanceType]]:
    index: dict[str, dict[str, InstanceType]] = {}
    for provider, stamp in zip(PROVIDERS, stamps):
        for it in _load(provider, stamp):
            index.setdefault(it.name.lower(), {})[it.region] = it
    return index


def check_provider(provider: str) -> str:
    """``provider`` in lower case when the catalog prices it (aws, gcp, azure), else a ValidationError."""
    p = provider.lower() if isinstance(provider, str) else provider
    if p not in PROVIDERS:
        raise ValidationError(
            f"No instance catalog for provider {provider!r}; known: {', '.join(PROVIDERS)}",
            field="provider",
            rule="known provider",
            operation="catalog",
        )
    return p


def _check_region(provider: str, region: str) -> str:
    known = regions(provider)
    if region not in known:
        raise ValidationError(
            f"Region {region!r} is not in the {provider} catalog; priced regions: {', '.join(known)}",
            field="region",
            rule="priced region",
            provider=provider,
            operation="catalog",
        )
    return region


def _unknown(name: str, provider: str | None) -> ValidationError:
    index = _index()
    if provider is not None and name.lower() in index:
        other = next(iter(index[name.lower()].values())).provider
        msg = f"{name!r} is an instance type of {other}, not of {provider}"
    else:
        pool = {
            k: next(iter(v.values())).name
            for k, v in index.items()
            if provider is None or next(iter(v.values())).provider == provider
        }
        close = difflib.get_close_matches(str(name).lower(), list(pool), n=5, cutoff=0.5)
        where = f"{provider} " if provider else ""
        if close:
            msg = f"Unknown {where}instance type {name!r}; did you mean: {', '.join(pool[c] for c in close)}?"
        else:
            msg = f"Unknown {where}instance type {name!r}; {_LIST_HINT}"
    return ValidationError(
        msg,
        field="instance_type",
        rule="known instance type",
        provider=provider,
        operation="catalog.lookup",
        solution=f"Check the spelling, or {_LIST_HINT}",
    )


def _by_region(name: str, provider: str | None = None) -> dict[str, InstanceType]:
    if provider is not None:
        provider = check_provider(provider)
    found = _index().get(str(name).lower())
    if found is None or (provider is not None and next(iter(found.values())).provider != provider):
        raise _unknown(name, provider)
    return found


# --------------------------------------------------------------------------- public API


def lookup(name: str, region: str | None = None, provider: str | None = None) -> InstanceType:
    """Find a type (case-insensitive) in a region, default the cloud's reference region.

    Example: ``lookup("standard_d2s_v3").on_demand_usd  # 0.096``
    """
    by_region = _by_region(name, provider)
    first = next(iter(by_region.values()))
    region = region or REFERENCE_REGION[first.provider]
    if region not in by_region:
        raise ValidationError(
            f"{first.name} has no {first.provider} price in region {region!r}; priced regions: {', '.join(sorted(by_region))}",
            field="region",
            rule="priced region",
            provider=first.provider,
            operation="catalog.lookup",
            solution=f"Use one of: {', '.join(sorted(by_region))}",
        )
    return by_region[region]


def provider_of(name: str) -> str:
    """The cloud a type name belongs to, e.g. ``provider_of("e2-medium")  # 'gcp'``."""
    return next(iter(_by_region(name).values())).provider


def regions(provider: str) -> list[str]:
    """Regions priced for a cloud, sorted, e.g. ``regions("aws")``."""
    provider = check_provider(provider)
    return sorted({it.region for it in rows(provider)})


def types(provider: str | None = None, region: str | None = None) -> pandas.DataFrame:
    """All catalog rows as a DataFrame, e.g. ``types("gcp", "europe-west1")``.

    Sorted by provider, region, on-demand price; ``price_date`` is datetime64 and
    ``spot_usd`` is NaN where no spot price exists.
    """
    import pandas as pd

    providers = [check_provider(provider)] if provider is not None else list(PROVIDERS)
    if region is not None:
        if provider is not None:
            _check_region(providers[0], region)
        elif not any(region in regions(p) for p in providers):
            raise ValidationError(
                f"Region {region!r} is not in any catalog; " + "; ".join(f"{p}: {', '.join(regions(p))}" for p in providers),
                field="region",
                rule="priced region",
                operation="catalog.types",
            )
    records = [
        {
            "provider": it.provider,
            "instance_type": it.name,
            "region": it.region,
            "vcpu": it.vcpu,
            "memory_gib": it.memory_gib,
            "arch": it.arch,
            "gpu": it.gpu,
            "category": it.category,
            "on_demand_usd": it.on_demand_usd,
            "spot_usd": it.spot_usd,
            "price_date": it.price_date,
        }
        for p in providers
        for it in rows(p)
        if region is None or it.region == region
    ]
    df = pd.DataFrame.from_records(records, columns=_COLUMNS)
    df["spot_usd"] = df["spot_usd"].astype("float64")
    df["price_date"] = pd.to_datetime(df["price_date"])
    out: pd.DataFrame = df.sort_values(["provider", "region", "on_demand_usd"], ignore_index=True)
    return out


def equivalent(name: str, provider: str, region: str | None = None) -> InstanceType:
    """The closest type by shape on another cloud, e.g. ``equivalent("t3.medium", "gcp")``.

    Same arch if the target offers it in the region (else x86_64), GPUs only for
    GPU sources (at least as many), vCPU >= source and memory >= 90% of source;
    the same category (general, compute, ...) when one fits, then the smallest
    such shape (vCPU, then memory), then the cheapest.
    """
    source = next(iter(_by_region(name).values()))
    provider = check_provider(provider)
    region = _check_region(provider, region or REFERENCE_REGION[provider])
    offered = [it for it in rows(provider) if it.region == region]
    arch = source.arch if any(it.arch == source.arch for it in offered) else "x86_64"
    shaped = [it for it in offered if it.arch == arch and (it.gpu >= source.gpu if source.gpu else it.gpu == 0)]
    fits = [it for it in shaped if it.vcpu >= source.vcpu and it.memory_gib >= 0.9 * source.memory_gib]
    if fits:
        return min(fits, key=lambda it: (it.category != source.category, it.vcpu, it.memory_gib, it.on_demand_usd))
    shape = f"{source.vcpu} vCPU, {source.memory_gib:g} GiB, {arch}" + (f", {source.gpu} GPU" if source.gpu else "")
    largest = max(shaped, key=lambda it: (it.vcpu, it.memory_gib), default=None)
    tail = f"; the largest comparable one is {largest.name} ({largest.vcpu} vCPU, {largest.memory_gib:g} GiB)" if largest else ""
    raise ValidationError(
        f"No {provider} instance type in {region} is as large as {source.name} ({shape}){tail}",
        field="instance_type",
        rule="equivalent exists",
        provider=provider,
        operation="catalog.equivalent",
        solution=f"Pick a type by hand from clusterdb_nb.catalog.types({provider!r}, {region!r})",
    )


def price_date(provider: str) -> datetime.date:
    """The date a cloud's prices were taken for, e.g. ``price_date("aws")``."""
    return max(it.price_date for it in rows(check_provider(provider)))


# --------------------------------------------------------------------------- freshness

STALE_AFTER_DAYS = 90
"""Prices older than this many days get a note (``price_note``) asking for a refresh."""


def _today() -> datetime.date:
    """The wall-clock date prices are aged against (the real world's, whatever a session's clock says)."""
    return datetime.date.today()


def price_dates() -> dict[str, str]:
    """Each cloud's price date as ISO text, the form cost frames carry in ``df.attrs["price_date"]``.

    Example: ``price_dates()  # {'aws': '2026-11-01', 'gcp': '2026-11-01', 'azure': '2026-11-01'}``
    """
    return {p: price_date(p).isoformat() for p in PROVIDERS}


def price_note(provider: str | None = None, today: datetime.date | None = None) -> str:
    """A line saying the prices are stale (older than ``STALE_AFTER_DAYS``), else ``""``.

    ``provider=None`` looks at the oldest of the three clouds (the local cloud prices every cloud's types).
    Example: ``price_note("aws", datetime.date(2027, 3, 1))  # 'aws prices from 2026-11-01 are 120 days old: ...'``
    """
    providers = [check_provider(provider)] if provider is not None else list(PROVIDERS)
    oldest = min(providers, key=price_date)
    age = ((today or _today()) - price_date(oldest)).days
    if age <= STALE_AFTER_DAYS:
        return ""
    return f"{oldest} prices from {price_date(oldest).isoformat()} are {age} days old: refresh with `clusterdb catalog refresh`"
