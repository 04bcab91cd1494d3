"""Idle: fleets that run but do nothing, and stopped instances that still bill for their disks.

The rules:

- **Idle fleet**: a fleet with instances running whose **hourly mean CPU stayed below ``cpu_below`` (default
  2 %) for each of the last ``days`` (default 7) days** -- with samples for at least 90 % of those hours --
  is scaled to 0 (its minimum lowered to 0, and its autoscaling policy's too). Savings: what it cost per hour
  on average over those days x 730 h. Risk medium: something may still call it.
- **Stopped instance holding paid storage**: an instance **stopped for at least ``days`` days** that the
  provider **still bills for** (its cost rows over the window exceed its running time at its hourly price:
  that remainder is storage) is terminated. Savings: that remainder per hour x 730 h. Only where the
  provider reports it (the local cloud bills nothing for a stopped instance, so finds none); take a
  snapshot first if its disk matters.

    >>> find(observe(s, "14d"), cpu_below=2.0, days=7)
"""

from __future__ import annotations

import pandas as pd

from .model import Call, Recommendation, Spec
from .observe import HOURS_PER_MONTH, Observed, confidence_of

__all__ = ["find", "idle_fleets", "paid_stopped_instances"]


def idle_fleets(seen: Observed, cpu_below: float, days: float) -> list[Recommendation]:
    out = []
    since = seen.end - pd.Timedelta(days=days)
    for f in seen.usable():
        if f.fleet.running == 0 and f.fleet.capacity == 0:
            continue
        util = f.util[pd.DatetimeIndex(f.util["time"]) >= since]
        cpu = pd.Series(util["cpu_percent"].to_numpy(), index=pd.DatetimeIndex(util["time"])).resample("1h").mean().dropna()
        if len(cpu) < 0.9 * days * 24 or cpu.max() >= cpu_below:
            continue
        running = float(util["running"].mean())
        hourly = running * f.price_per_hour
        fleet = f.fleet
        calls = []
        if fleet.auto_scaling is not None:
            policy = fleet.auto_scaling.model_dump() | {"min_capacity": 0}
            calls.append(
                Call(
                    method="configure_auto_scaling",
                    args=[fleet.name, Spec(model="AutoScalingConfig", fields=policy)],
                    kwargs={"provider": fleet.provider},
                )
            )
        fields = {"name": fleet.name, "provider": fleet.provider, "capacity": 0, "min_capacity": 0}
        calls.append(Call(method="update_fleet", args=[Spec(model="FleetConfig", fields=fields)]))
        evidence = {
            "max_hourly_cpu_percent": round(float(cpu.max()), 3),
            "mean_cpu_percent": round(float(cpu.mean()), 3),
            "threshold_percent": cpu_below,
            "days": days,
            "hours_observed": len(cpu),
            "mean_running": round(running, 2),
            "hourly_cost_usd": round(hourly, 6),
        }
        text = (
            f"hourly mean CPU at most {cpu.max():.2f} % (< {cpu_below:g} %) for {len(cpu)} h of the last {days:g} days, "
            f"with {running:.1f} {fleet.instance_type} instances running on average (${hourly:.4f}/h)"
        )
        out.append(
            Recommendation(
                kind="idle",
                provider=fleet.provider,
                fleet=fleet.name,
                resource=fleet.name,
                evidence=evidence,
                evidence_text=text,
                calls=calls,
                monthly_savings_usd=round(hourly * HOURS_PER_MONTH, 2),
                risk="medium",
                confidence=confidence_of(len(cpu), days * 24),
            )
        )
    return out


def paid_stopped_instances(seen: Observed, days: float) -> list[Recommendation]:
    stopped = seen.session.instances(state="stopped")
    seen.errors.update(stopped.attrs.get("errors", {}))
    cutoff = seen.end - pd.Timedelta(days=days)
    stopped = stopped[stopped["state_since"].notna() & (stopped["state_since"] <= cutoff)]
    if stopped.empty:
        return []
    costs = seen.session.costs(start=seen.start, end=seen.end, by="resource")
    seen.errors.update(costs.attrs.get("errors", {}))
    out = []
    for inst in stopped.itertuples():
        billed = costs[(costs["resource"] == inst.id) & (costs["provider"] == inst.provider)]
        compute = float((billed["running_seconds"] / 3600.0).sum()) * float(inst.hourly_cost_usd)
        storage = float(billed["cost_usd"].sum()) - compute
        if storage <= 1e-6:
            continue
        per_hour = storage / seen.window_hours
        stopped_days = (seen.end - inst.state_since) / pd.Timedelta("1D")
        evidence = {
            "stopped_days": round(stopped_days, 1),
            "days": days,
            "storage_cost_usd": round(storage, 4),
            "window_hours": round(seen.window_hours, 1),
            "storage_hourly_usd": round(per_hour, 6),
        }
        text = (
            f"stopped for {stopped_days:.1f} days (>= {days:g}) and still billed ${storage:.2f} for storage over the last "
            f"{seen.window_hours:.0f} h; snapshot its disk first if it matters"
        )
        out.append(
            Recommendation(
                kind="idle",
                provider=inst.provider,
                fleet=inst.fleet if isinstance(inst.fleet, str) and inst.fleet else None,
                resource=inst.id,
                evidence=evidence,
                evidence_text=text,
                calls=[Call(method="terminate_instance", args=[inst.id], kwargs={"provider": inst.provider})],
                monthly_savings_usd=round(per_hour * HOURS_PER_MONTH, 2),
                risk="medium",
                confidence="high",
            )
        )
    return out


def find(seen: Observed, cpu_below: float = 2.0, days: float = 7.0) -> list[Recommendation]:
    """Idle fleets, then stopped instances still billed for storage."""
    return idle_fleets(seen, cpu_below, days) + paid_stopped_instances(seen, days)
