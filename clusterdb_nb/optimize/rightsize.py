"""Rightsize: a fleet whose instances are mostly idle runs on a smaller type.

The rule: a fleet with at least a day of history whose **p95 CPU** (5-minute means, over the window, while
instances run) is **below ``p95_below`` (default 40 %)** gets the cheapest smaller type -- fewer vCPUs, the same
cloud, arch and GPU count, of the same family (else the same category) -- whose **projected p95**
(p95 x current vCPUs / new vCPUs, the same work on fewer cores) stays **at or below ``max_projected_p95``
(default 70 %)**. Memory is never cut below what the fleet uses: where the provider reports memory use
(a ``memory_percent`` column in its utilization), the new type has at least the peak observed GiB; where
it does not, at least the current type's GiB per vCPU. Savings: the price difference x the instances
running on average x 730 h.

    >>> find(observe(s, "14d"), p95_below=40.0)
"""

from __future__ import annotations

import math

from ..catalog import InstanceType
from ..errors import ComputeError
from .model import Call, Recommendation, Spec
from .observe import HOURS_PER_MONTH, FleetSeen, Observed, confidence_of
from .shapes import priced, same_family_or_category

__all__ = ["find", "observed_memory", "projected_p95", "smaller_type"]


def projected_p95(p95: float, current: InstanceType, new: InstanceType) -> float:
    """The same CPU work on ``new``'s vCPUs: ``p95 x current.vcpu / new.vcpu``."""
    return p95 * current.vcpu / new.vcpu


def smaller_type(
    current: InstanceType, p95: float, max_projected_p95: float, observed_memory_gib: float | None
) -> InstanceType | None:
    """The cheapest type with fewer vCPUs that keeps the projected p95 and the memory, or None.

    The memory kept: ``observed_memory_gib`` when known, else the current type's GiB per vCPU.
    """

    def enough_memory(it: InstanceType) -> bool:
        if observed_memory_gib is not None:
            return it.memory_gib >= observed_memory_gib
        return it.memory_gib / it.vcpu >= current.memory_gib / current.vcpu

    fits = [
        it
        for it in same_family_or_category(current)
        if it.vcpu < current.vcpu
        and it.on_demand_usd < current.on_demand_usd
        and projected_p95(p95, current, it) <= max_projected_p95
        and enough_memory(it)
    ]
    return fits[0] if fits else None


def observed_memory(seen: FleetSeen, current: InstanceType) -> float | None:
    """Peak memory use in GiB, where the provider reports it (a ``memory_percent`` column), else None."""
    if "memory_percent" in seen.util and seen.util["memory_percent"].notna().any():
        return float(seen.util["memory_percent"].max()) / 100.0 * current.memory_gib
    return None


def find(seen: Observed, p95_below: float = 40.0, max_projected_p95: float = 70.0) -> list[Recommendation]:
    """One rightsize finding per fleet whose p95 CPU is below ``p95_below`` and a smaller type fits."""
    out = []
    for f in seen.usable():
        p95 = f.p95_cpu
        if math.isnan(p95) or p95 >= p95_below:
            continue
        provider = seen.session.manager.provider(f.fleet.provider)
        try:
            current = priced(f.fleet.instance_type, f.region)
            observed = observed_memory(f, current)
            new = smaller_type(current, p95, max_projected_p95, observed)
            new_price = provider.hourly_price(new.name, f.fleet.spot) if new is not None else math.nan
        except ComputeError:  # a type the catalog does not know, or a smaller one not sold as spot there
            continue
        if new is None:
            continue
        projected = projected_p95(p95, current, new)
        monthly = (f.price_per_hour - new_price) * f.mean_running * HOURS_PER_MONTH
        memory = f"peak memory use {observed:.1f} GiB" if observed is not None else "memory use not reported"
        evidence = {
            "p95_cpu_percent": round(p95, 2),
            "threshold_percent": p95_below,
            "hours_observed": round(f.hours_observed, 1),
            "instance_type": current.name,
            "vcpu": current.vcpu,
            "memory_gib": current.memory_gib,
            "hourly_price_usd": f.price_per_hour,
            "proposed_type": new.name,
            "proposed_vcpu": new.vcpu,
            "proposed_memory_gib": new.memory_gib,
            "proposed_hourly_price_usd": new_price,
            "projected_p95_cpu_percent": round(projected, 2),
            "observed_memory_gib": None if observed is None else round(observed, 2),
            "mean_running": round(f.mean_running, 2),
        }
        text = (
            f"p95 CPU {p95:.1f} % (< {p95_below:g} %) over {f.hours_observed:.0f} h on {current.name} "
            f"({current.vcpu} vCPU, {current.memory_gib:g} GiB, ${f.price_per_hour:.4f}/h); {new.name} "
            f"({new.vcpu} vCPU, {new.memory_gib:g} GiB, ${new_price:.4f}/h) would run at a projected p95 of "
            f"{projected:.1f} %; {memory}; {f.mean_running:.1f} instances on average"
        )
        confidence = confidence_of(f.hours_observed, seen.window_hours)
        if observed is None and confidence == "high":  # the memory it needs is a guess
            confidence = "medium"
        config = Spec(model="FleetConfig", fields={"name": f.fleet.name, "provider": f.fleet.provider, "instance_type": new.name})
        out.append(
            Recommendation(
                kind="rightsize",
                provider=f.fleet.provider,
                fleet=f.fleet.name,
                resource=f.fleet.name,
                evidence=evidence,
                evidence_text=text,
                calls=[Call(method="update_fleet", args=[config])],
                monthly_savings_usd=round(monthly, 2),
                risk="low" if projected <= 50.0 else "medium",
                confidence=confidence,
            )
        )
    return out
