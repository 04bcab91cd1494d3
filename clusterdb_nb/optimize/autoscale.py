"""Autoscaling: fixed-size fleets whose load would let a policy save money get the tuner's policy.

The rule: a fleet **without autoscaling**, with instances and at least a day of history, is tuned on **its
own utilization over the window** (``clusterdb_nb.autoscaling.tune_many``: every policy of ``targets`` x
``cooldowns`` replayed by its cloud's autoscaler engine -- the local cloud's own engine for a local fleet --
at its hourly price), against its fixed capacity today replayed the same way. It is recommended when the
tuner's policy **meets the SLO** (the tuner's default objective) and **costs at least ``min_savings_percent``
(default 10 %) less** than the fixed capacity over the same history. Savings: that difference per observed
hour x 730 h. The bounds tried: the fleet's minimum (at least 1) to twice today's capacity (within its maximum).

    >>> find(observe(s, "14d"), min_savings_percent=10.0)
"""

from __future__ import annotations

from collections.abc import Iterable

from ..autoscaling.estate import ENGINE_OF, tune_many
from ..models import AutoScalingConfig
from .model import Call, Recommendation, Spec
from .observe import HOURS_PER_MONTH, FleetSeen, Observed, confidence_of

__all__ = ["find"]


def _engine(seen: Observed, f: FleetSeen) -> str:
    provider = seen.session.manager.provider(f.fleet.provider)
    return str(provider.config.autoscaler) if f.kind == "local" else ENGINE_OF.get(f.kind, f.kind)


def find(
    seen: Observed,
    min_savings_percent: float = 10.0,
    targets: Iterable[float] = (50.0, 60.0, 70.0),
    cooldowns: Iterable[int] = (60, 300),
) -> list[Recommendation]:
    """One autoscaling finding per fixed-size fleet whose tuned policy saves at least ``min_savings_percent``."""
    out = []
    for f in seen.usable():
        fleet = f.fleet
        if fleet.auto_scaling is not None or fleet.capacity == 0:
            continue
        lo = max(1, fleet.min_capacity)
        hi = max(min(fleet.max_capacity, 2 * fleet.capacity), fleet.capacity)
        if lo >= fleet.capacity:
            continue
        engine = _engine(seen, f)
        entry = {
            "trace": f.util.dropna(subset=["cpu_percent"]),
            "provider": engine,
            "price_per_hour": f.price_per_hour,
            "min_capacity": lo,
            "max_capacity": hi,
            "current": AutoScalingConfig(min_capacity=fleet.capacity, max_capacity=fleet.capacity),
        }
        row = tune_many({fleet.name: entry}, progress=False, targets=list(targets), cooldowns=list(cooldowns)).iloc[0]
        if row["error"] or not row["meets_slo"] or not row["savings_percent"] >= min_savings_percent:
            continue
        policy = {
            "min_capacity": int(row["min_capacity"]),
            "max_capacity": int(row["max_capacity"]),
            "target_cpu_utilization": float(row["target_cpu_utilization"]),
            "cooldown_seconds": int(row["cooldown_seconds"]),
        }
        hours = f.hours_observed
        monthly = float(row["savings_usd"]) / hours * HOURS_PER_MONTH
        evidence = {
            "engine": engine,
            "hours_observed": round(hours, 1),
            "capacity": fleet.capacity,
            "current_instance_hours": round(float(row["current_instance_hours"]), 1),
            "current_cost_usd": round(float(row["current_cost_usd"]), 4),
            "policy_instance_hours": round(float(row["instance_hours"]), 1),
            "policy_cost_usd": round(float(row["cost_usd"]), 4),
            "savings_percent": round(float(row["savings_percent"]), 1),
            "threshold_percent": min_savings_percent,
            "p95_utilization": round(float(row["p95_utilization"]), 1),
            "minutes_saturated": float(row["minutes_saturated"]),
            **policy,
        }
        text = (
            f"replayed on its own {hours:.0f} h of utilization by the {engine} autoscaler: a policy of "
            f"{policy['min_capacity']}-{policy['max_capacity']} instances at {policy['target_cpu_utilization']:g} % CPU "
            f"(cooldown {policy['cooldown_seconds']} s) uses {row['instance_hours']:.0f} instance-hours (${row['cost_usd']:.2f}) "
            f"instead of {row['current_instance_hours']:.0f} (${row['current_cost_usd']:.2f}) at a fixed {fleet.capacity}, "
            f"{row['savings_percent']:.0f} % less (>= {min_savings_percent:g} %), within the SLO "
            f"(p95 utilization {row['p95_utilization']:.0f} %, {row['minutes_saturated']:g} minutes saturated)"
        )
        out.append(
            Recommendation(
                kind="autoscaling",
                provider=fleet.provider,
                fleet=fleet.name,
                resource=fleet.name,
                evidence=evidence,
                evidence_text=text,
                calls=[
                    Call(
                        method="configure_auto_scaling",
                        args=[fleet.name, Spec(model="AutoScalingConfig", fields=policy)],
                        kwargs={"provider": fleet.provider},
                    )
                ],
                monthly_savings_usd=round(monthly, 2),
                risk="low",
                confidence=confidence_of(hours, seen.window_hours),
            )
        )
    return out
