"""Schedule: fleets whose load has clear off-hours get a capacity schedule.

The rule, on a fleet's hourly demand (CPU % x running / 100, in instances) in ``timezone`` (default UTC),
with at least ``min_days`` (default 3) days of history:

- the **peak** is the highest mean demand of an hour of the day, on weekdays;
- an hour of the day is **off** at night when on **90 % of weekdays** its demand is **at most
  ``off_fraction`` (default 20 %) of the peak**; the longest run of such hours (wrapping past midnight)
  counts when it lasts at least ``min_off_hours`` (default 4) and less than a day;
- the **weekend** is off when it was observed (a day at least) and 90 % of its hours are at most that too;
- during the off-hours the fleet runs ``ceil(p95 off-hours demand / target_percent)`` instances (default
  target 70 %; 0 when there is no demand at all), else its capacity today.

It needs a fleet whose off-hours capacity is below its capacity today, on a provider that runs schedules
(``s.capabilities()``), with no capacity schedule yet (``s.schedules()``). The action is one
``s.schedule_capacity`` per change of capacity (down when the off-hours start, up when they end, with the
days of the week in cron form). Savings: (capacity − off-hours capacity) x off-hours a week x the hourly
price x 730 / 168.

    >>> find(observe(s, "14d"), off_fraction=0.2, timezone="Europe/Berlin")
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..providers.capabilities import Feature
from .model import Call, Recommendation
from .observe import HOURS_PER_MONTH, Observed, confidence_of

__all__ = ["DAYS", "OffHours", "cron_days", "find", "night_run", "off_hours", "transitions"]

DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
HOURS_PER_WEEK = 168


def cron_days(days: list[int]) -> str:
    """Cron's day-of-week field for ``days`` (0 = Monday): ``*``, ``MON-FRI``, ``SAT,SUN`` or ``MON,WED``."""
    days = sorted(set(days))
    if len(days) == 7:
        return "*"
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ",".join(DAYS[r[0]] if len(r) == 1 else f"{DAYS[r[0]]}-{DAYS[r[-1]]}" if len(r) > 2 else
                    f"{DAYS[r[0]]},{DAYS[r[1]]}" for r in runs)  # fmt: skip


def night_run(off: np.ndarray) -> list[int]:
    """The longest run of True among the 24 hours of ``off``, wrapping past midnight, as a list of hours."""
    if off.all():
        return list(range(24))
    start = int(np.argmin(off))  # an on-hour: runs cannot wrap past it
    best: list[int] = []
    run: list[int] = []
    for k in range(1, 25):
        h = (start + k) % 24
        if off[h]:
            run.append(h)
            if len(run) > len(best):
                best = list(run)
        else:
            run = []
    return best


def transitions(mask: np.ndarray) -> list[tuple[bool, int, list[int]]]:
    """(to_off, hour, days) for each change of a 168-hour weekly ``mask`` (index day x 24 + hour), grouped by hour."""
    groups: dict[tuple[bool, int], list[int]] = {}
    for k in range(HOURS_PER_WEEK):
        if mask[k] != mask[k - 1]:
            groups.setdefault((bool(mask[k]), k % 24), []).append(k // 24)
    return [(off, hour, days) for (off, hour), days in sorted(groups.items(), key=lambda g: (not g[0][0], g[0][1]))]


@dataclass(frozen=True)
class OffHours:
    """A fleet's off-hours: the 168-hour weekly ``mask`` (day x 24 + hour), the night's hours, the weekend, and
    the figures they rest on (peak and threshold demand, the demand seen in the off-hours)."""

    mask: np.ndarray
    night: list[int]
    weekend_off: bool
    peak: float
    limit: float
    off_demand: pd.Series


def off_hours(demand: pd.Series, off_fraction: float, min_off_hours: int) -> OffHours | None:
    """The off-hours of hourly ``demand`` (on a local-time index), or None when it has none."""
    index = pd.DatetimeIndex(demand.index)
    weekend = index.day_of_week >= 5
    weekday = demand[~weekend]
    if weekday.empty:
        return None
    hours = pd.DatetimeIndex(weekday.index).hour
    peak = float(weekday.groupby(hours).mean().max())
    if peak <= 0:
        return None  # no load at all: the idle rule's case
    limit = off_fraction * peak
    quiet = weekday.groupby(hours).quantile(0.9) <= limit
    night = night_run(np.array([bool(quiet.get(h, False)) for h in range(24)]))
    if len(night) < min_off_hours or len(night) == 24:
        night = []
    weekend_hours = demand[weekend]
    weekend_off = len(weekend_hours) >= 24 and float(weekend_hours.quantile(0.9)) <= limit
    mask = np.zeros(HOURS_PER_WEEK, dtype=bool)
    for day in range(7):
        mask[[day * 24 + h for h in night]] = True
    if weekend_off:
        mask[5 * 24 :] = True
    if not mask.any():
        return None
    slot = np.asarray(index.day_of_week * 24 + index.hour)
    return OffHours(mask, night, weekend_off, peak, limit, demand[mask[slot]])


def _hours(night: list[int]) -> str:
    return f"{night[0]:02d}:00-{(night[-1] + 1) % 24:02d}:00" if night else ""


def find(
    seen: Observed,
    off_fraction: float = 0.2,
    min_off_hours: int = 4,
    min_days: float = 3.0,
    target_percent: float = 70.0,
    timezone: str = "UTC",
) -> list[Recommendation]:
    """One schedule finding per fleet with clear off-hours whose off-hours capacity is below today's."""
    out = []
    scheduled = seen.session.schedules()
    have = set(zip(scheduled["provider"], scheduled["fleet"]))
    for f in seen.usable():
        provider = seen.session.manager.provider(f.fleet.provider)
        if f.hours_observed < min_days * 24 or (f.fleet.provider, f.fleet.name) in have:
            continue
        if not provider.supports(Feature.SCHEDULES, f.fleet):
            continue
        found = off_hours(f.demand.tz_convert(timezone), off_fraction, min_off_hours)
        if found is None:
            continue
        mask, night, off_demand = found.mask, found.night, found.off_demand
        p95_off = float(off_demand.quantile(0.95)) if len(off_demand) else 0.0
        off_capacity = math.ceil(round(p95_off / (target_percent / 100.0), 6))
        fleet = f.fleet
        on_capacity = fleet.capacity
        if off_capacity >= on_capacity:
            continue
        per_week = int(mask.sum())
        monthly = (on_capacity - off_capacity) * per_week * f.price_per_hour * HOURS_PER_MONTH / HOURS_PER_WEEK
        calls = [
            Call(
                method="schedule_capacity",
                args=[fleet.name],
                kwargs={
                    "cron": f"0 {hour} * * {cron_days(days)}",
                    "capacity": off_capacity if to_off else on_capacity,
                    "timezone": timezone,
                    "name": f"{'off' if to_off else 'on'}-hours-{hour:02d}00",
                    "provider": fleet.provider,
                },
            )
            for to_off, hour, days in transitions(mask)
        ]
        pattern = " and ".join(
            p for p in (f"every night {_hours(night)}" if night else "", "all weekend" if found.weekend_off else "") if p
        )
        evidence = {
            "timezone": timezone,
            "peak_hour_demand": round(found.peak, 3),
            "off_threshold_demand": round(found.limit, 3),
            "off_fraction": off_fraction,
            "night_hours": _hours(night),
            "weekend_off": found.weekend_off,
            "off_hours_per_week": per_week,
            "off_p95_demand": round(p95_off, 3),
            "off_capacity": off_capacity,
            "on_capacity": on_capacity,
            "hourly_price_usd": f.price_per_hour,
            "days_observed": round(f.hours_observed / 24.0, 1),
        }
        text = (
            f"demand at most {off_fraction:.0%} of the weekday peak ({found.peak:.2f} instances) {pattern} "
            f"({timezone}) over {f.hours_observed / 24:.1f} days: {per_week} off-hours a week at {off_capacity} "
            f"instance(s) instead of {on_capacity} (p95 off-hours demand {p95_off:.2f} at {target_percent:g} % target)"
        )
        out.append(
            Recommendation(
                kind="schedule",
                provider=fleet.provider,
                fleet=fleet.name,
                resource=fleet.name,
                evidence=evidence,
                evidence_text=text,
                calls=calls,
                monthly_savings_usd=round(monthly, 2),
                risk="low" if off_capacity > 0 else "medium",
                confidence=confidence_of(f.hours_observed, seen.window_hours),
            )
        )
    return out
