"""Spot: fleets whose work survives an interruption run on spot capacity.

The rule: an on-demand fleet **tagged interruption-tolerant** -- tag ``interruptible`` or ``stateless`` set
to ``true`` / ``yes`` / ``1`` -- whose type the catalog **sells as spot** where it runs, at least
**``min_savings_percent`` (default 20 %) below on-demand**, is moved to spot. Savings: (on-demand − spot
price) x the instances running on average x 730 h. Risk high, always: spot capacity is reclaimed at short
notice (AWS gives 2 minutes, Google and Azure 30 seconds) and spot prices move; the fleet must tolerate
losing instances at any time.

    >>> find(observe(s, "14d"), min_savings_percent=20.0)
"""

from __future__ import annotations

from ..errors import ComputeError
from .model import Call, Recommendation, Spec
from .observe import HOURS_PER_MONTH, Observed, confidence_of

__all__ = ["CAVEAT", "TOLERANT_TAGS", "find", "interruption_tolerant"]

TOLERANT_TAGS = ("interruptible", "stateless")
CAVEAT = "spot capacity can be reclaimed at short notice (AWS: 2 minutes, Google and Azure: 30 seconds)"


def interruption_tolerant(tags: dict[str, str]) -> bool:
    """True when a tag ``interruptible`` or ``stateless`` says true, yes or 1."""
    return any(tags.get(key, "").strip().lower() in ("true", "yes", "1") for key in TOLERANT_TAGS)


def find(seen: Observed, min_savings_percent: float = 20.0) -> list[Recommendation]:
    """One spot finding per interruption-tolerant on-demand fleet whose spot price is low enough."""
    out = []
    for f in seen.usable():
        fleet = f.fleet
        if fleet.spot or not interruption_tolerant(fleet.tags):
            continue
        provider = seen.session.manager.provider(fleet.provider)
        try:
            spot_price = provider.hourly_price(fleet.instance_type, True)
        except ComputeError:  # the type is not sold as spot there
            continue
        on_demand = f.price_per_hour
        percent = 100.0 * (on_demand - spot_price) / on_demand if on_demand else 0.0
        if percent < min_savings_percent:
            continue
        monthly = (on_demand - spot_price) * f.mean_running * HOURS_PER_MONTH
        tag = next(f"{k}={fleet.tags[k]}" for k in TOLERANT_TAGS if interruption_tolerant({k: fleet.tags.get(k, "")}))
        evidence = {
            "tag": tag,
            "instance_type": fleet.instance_type,
            "on_demand_hourly_usd": on_demand,
            "spot_hourly_usd": spot_price,
            "savings_percent": round(percent, 1),
            "threshold_percent": min_savings_percent,
            "mean_running": round(f.mean_running, 2),
        }
        text = (
            f"tagged {tag}; {fleet.instance_type} costs ${spot_price:.4f}/h as spot vs ${on_demand:.4f}/h on demand "
            f"({percent:.0f} % less, >= {min_savings_percent:g} %) for {f.mean_running:.1f} instances on average; "
            f"caveat: {CAVEAT}"
        )
        config = Spec(model="FleetConfig", fields={"name": fleet.name, "provider": fleet.provider, "spot": True})
        out.append(
            Recommendation(
                kind="spot",
                provider=fleet.provider,
                fleet=fleet.name,
                resource=fleet.name,
                evidence=evidence,
                evidence_text=text,
                calls=[Call(method="update_fleet", args=[config])],
                monthly_savings_usd=round(monthly, 2),
                risk="high",
                confidence=confidence_of(f.hours_observed, seen.window_hours),
            )
        )
    return out
