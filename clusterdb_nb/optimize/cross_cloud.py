"""Cross-cloud: the same fleet would cost less on another configured provider or region.

The rule: for each fleet, every **other configured provider section** of a priced cloud (AWS, Google Cloud,
Azure; a section in a region the catalog prices) offers the **catalog's equivalent type**
(``catalog.equivalent``: as many vCPUs, at least 90 % of the memory, the same arch and category when one
fits) at its hourly price there (spot when the fleet runs on spot and the type is sold so there, else on
demand). When the cheapest of them is **at least ``min_savings_percent`` (default 15 %) below** the fleet's
price today, the fleet is migrated there, rolling, a quarter of its capacity per batch. Savings: the price
difference x the instances running on average x 730 h. Risk high: a migration moves the workload between
networks; egress, data and latency are not in the price.

    >>> find(observe(s, "14d"), min_savings_percent=15.0)
"""

from __future__ import annotations

import math

from .. import catalog
from ..errors import ComputeError
from .model import Call, Recommendation, Spec
from .observe import HOURS_PER_MONTH, Observed, confidence_of

__all__ = ["find", "offers"]


def offers(seen: Observed, instance_type: str, source: str, spot: bool) -> list[tuple[str, str, str, float]]:
    """(provider section, region, equivalent type, $/h) on every other priced section, cheapest first."""
    found = []
    for name, provider in seen.session.manager.providers.items():
        if name == source or provider.kind not in catalog.PROVIDERS or provider.region not in catalog.regions(provider.kind):
            continue
        try:
            eq = catalog.equivalent(instance_type, provider.kind, provider.region)
        except ComputeError:  # nothing there is as large
            continue
        price = eq.spot_usd if spot and eq.spot_usd is not None else eq.on_demand_usd
        found.append((name, provider.region, eq.name, price))
    return sorted(found, key=lambda o: (o[3], o[0]))


def find(seen: Observed, min_savings_percent: float = 15.0) -> list[Recommendation]:
    """One cross-cloud finding per fleet whose cheapest equivalent elsewhere is at least ``min_savings_percent`` less."""
    out = []
    for f in seen.usable():
        fleet = f.fleet
        elsewhere = offers(seen, fleet.instance_type, fleet.provider, fleet.spot)
        if not elsewhere or not f.price_per_hour:
            continue
        target, region, eq, price = elsewhere[0]
        percent = 100.0 * (f.price_per_hour - price) / f.price_per_hour
        if percent < min_savings_percent:
            continue
        batch = max(1, math.ceil(fleet.capacity / 4))
        monthly = (f.price_per_hour - price) * f.mean_running * HOURS_PER_MONTH
        evidence = {
            "instance_type": fleet.instance_type,
            "hourly_price_usd": f.price_per_hour,
            "target_provider": target,
            "target_region": region,
            "target_instance_type": eq,
            "target_hourly_price_usd": price,
            "savings_percent": round(percent, 1),
            "threshold_percent": min_savings_percent,
            "mean_running": round(f.mean_running, 2),
            "offers": {f"{n} ({r})": {"instance_type": t, "hourly_usd": p} for n, r, t, p in elsewhere},
        }
        listed = "; ".join(f"{n} ({r}) {t} ${p:.4f}/h" for n, r, t, p in elsewhere)
        text = (
            f"{fleet.instance_type} costs ${f.price_per_hour:.4f}/h on {fleet.provider}; the equivalent {eq} costs "
            f"${price:.4f}/h on {target} ({region}), {percent:.0f} % less (>= {min_savings_percent:g} %), for "
            f"{f.mean_running:.1f} instances on average (every offer: {listed}); egress and data transfer not included"
        )
        config = {
            "source_fleet": fleet.name,
            "source_provider": fleet.provider,
            "target_provider": target,
            "strategy": "rolling",
            "batch_size": batch,
            "target_instance_type": eq,
        }
        out.append(
            Recommendation(
                kind="cross_cloud",
                provider=fleet.provider,
                fleet=fleet.name,
                resource=fleet.name,
                evidence=evidence,
                evidence_text=text,
                calls=[Call(method="create_migration", args=[Spec(model="MigrationConfig", fields=config)])],
                monthly_savings_usd=round(monthly, 2),
                risk="high",
                confidence=confidence_of(f.hours_observed, seen.window_hours),
            )
        )
    return out
