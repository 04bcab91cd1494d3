"""The tuner's objective: the cheapest policy that meets a service-level objective (SLO).

Three limits, each checked on the whole trace (``tune(slo=dict(...))``; unset keys take the defaults):

* ``max_saturated_fraction`` (default 0.001): share of the trace's minutes at 100 % CPU, i.e. with
  demand not fully served. 0.1 % is about 43 minutes a month.
* ``max_minutes_above_target`` (default: 25 % of the trace's minutes): minutes above the policy's own
  target. Target tracking hovers around its target, so some time above it is normal; a fleet that
  spends more than a quarter of its time there is too slow to scale out.
* ``max_p95_utilization`` (default 70 %): the 95th percentile of utilization, the headroom left for
  a burst. Without it, minutes saturated alone reward ever higher targets (90-95 %, p95 72-83 %).

A platform engineer signs these defaults for a latency-sensitive web tier; a batch fleet would
loosen them (``slo=dict(max_p95_utilization=90)``).

    >>> Slo.of(dict(max_p95_utilization=80)).limits(trace_minutes=43_200)
    {'minutes_saturated': 43.2, 'minutes_above_target': 10800.0, 'p95_utilization': 80.0}
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import pandas as pd

from ..errors import ValidationError

__all__ = ["ABOVE_TARGET_FRACTION", "COLUMNS", "recommend", "Slo"]

ABOVE_TARGET_FRACTION = 0.25  # the default max_minutes_above_target, as a share of the trace's minutes
COLUMNS = {  # the tuning table's column each limit bounds, and how to say it
    "minutes_saturated": ("max_saturated_fraction", "saturated"),
    "minutes_above_target": ("max_minutes_above_target", "above target"),
    "p95_utilization": ("max_p95_utilization", "p95 utilization"),
}


def _amount(column: str, value: float) -> str:
    """A bounded column's value as people read it: whole minutes, or a percentage to one decimal."""
    return f"{value:,.1f}%" if column == "p95_utilization" else f"{value:,.0f} min"


@dataclass(frozen=True)
class Slo:
    """The limits a recommended policy must meet (see the module docstring)."""

    max_saturated_fraction: float = 0.001
    max_minutes_above_target: float | None = None
    max_p95_utilization: float = 70.0

    @classmethod
    def of(cls, given: Any) -> Slo:
        """From a dict of the three keys (or an ``Slo``; None: the defaults), checked."""
        if given is None or isinstance(given, Slo):
            return given or cls()
        if not isinstance(given, dict):
            raise ValidationError(
                f"slo: expected a dict such as dict(max_saturated_fraction=0.001) (got {type(given).__name__})",
                field="slo",
                rule="dict",
            )
        names = [f.name for f in fields(cls)]
        for key, value in given.items():
            if key not in names:
                raise ValidationError(
                    f"slo.{key}: not an SLO key (keys: {', '.join(names)})", field=f"slo.{key}", rule="known key"
                )
            number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
            if key == "max_minutes_above_target" and value is None:
                continue
            if not number or (key == "max_saturated_fraction" and value > 1) or (key == "max_p95_utilization" and value > 100):
                bound = {"max_saturated_fraction": "0 to 1", "max_p95_utilization": "0 to 100"}.get(key, ">= 0")
                raise ValidationError(f"slo.{key}: must be a number {bound} (got {value!r})", field=f"slo.{key}", rule=bound)
        default = cls()
        above = given.get("max_minutes_above_target")
        return cls(
            max_saturated_fraction=float(given.get("max_saturated_fraction", default.max_saturated_fraction)),
            max_minutes_above_target=None if above is None else float(above),
            max_p95_utilization=float(given.get("max_p95_utilization", default.max_p95_utilization)),
        )

    def limits(self, trace_minutes: float) -> dict[str, float]:
        """Each bounded table column and its limit, for a trace of ``trace_minutes``."""
        above = self.max_minutes_above_target
        return {
            "minutes_saturated": self.max_saturated_fraction * trace_minutes,
            "minutes_above_target": ABOVE_TARGET_FRACTION * trace_minutes if above is None else above,
            "p95_utilization": self.max_p95_utilization,
        }


def _policy_words(row: pd.Series) -> str:
    return (
        f"target {row['target_cpu_utilization']:g}%, cooldown {int(row['cooldown_seconds'])} s, "
        f"{int(row['min_capacity'])}-{int(row['max_capacity'])} instances"
    )


def _cost_words(row: pd.Series, column: str) -> str:
    return f"${row[column]:,.2f}" if column == "cost_usd" else f"{row[column]:,.1f} instance-hours"


def _figures(row: pd.Series, limits: dict[str, float]) -> str:
    return ", ".join(f"{_amount(c, row[c])} {words} (limit {_amount(c, limits[c])})" for c, (_, words) in COLUMNS.items())


def recommend(table: pd.DataFrame, cost: str, limits: dict[str, float]) -> tuple[int, pd.Series, str, list[str]]:
    """The recommended row's index, which rows meet the SLO, the reason in words and the binding constraints.

    The cheapest policy meeting every limit (ties: fewer saturated minutes, then fewer actions). A limit
    *binds* when dropping it alone would let a cheaper policy through. If no policy meets them all, the
    one whose worst excess over a limit (relative to the limit) is smallest.
    """
    keys = [cost, "minutes_saturated", "scaling_actions"]
    ok = {c: table[c] <= limit + 1e-9 for c, limit in limits.items()}
    meets = pd.concat(ok, axis=1).all(axis=1)
    if meets.any():
        i = int(table[meets].sort_values(keys, kind="stable").index[0])
        row = table.loc[i]
        binding, because = [], []
        for column, (key, words) in COLUMNS.items():
            others = pd.concat([v for c, v in ok.items() if c != column], axis=1).all(axis=1)
            cheaper = table[others & (table[cost] < row[cost])]
            if len(cheaper):
                alt = cheaper.sort_values(keys, kind="stable").iloc[0]
                binding.append(key)
                because.append(
                    f"{key} binds: the cheaper {_policy_words(alt)} ({_cost_words(alt, cost)}) "
                    f"would have {_amount(column, alt[column])} {words} > {_amount(column, limits[column])}"
                )
        reason = f"cheapest policy within the SLO: {_policy_words(row)} costs {_cost_words(row, cost)}; {_figures(row, limits)}"
        reason += "; " + ("; ".join(because) if because else "no limit binds: it is the cheapest policy of the grid")
        return i, meets, reason, binding
    worst = pd.concat({c: (table[c] - limit).clip(lower=0) / max(limit, 1e-9) for c, limit in limits.items()}, axis=1).max(axis=1)
    order = table.assign(_worst=worst).sort_values(["_worst", *keys], kind="stable")
    i = int(order.index[0])
    row = table.loc[i]
    missed = [COLUMNS[c][0] for c, v in ok.items() if not v.loc[i]]
    reason = (
        f"no policy meets the SLO; this one comes closest: {_policy_words(row)} costs {_cost_words(row, cost)}; "
        f"{_figures(row, limits)}; it misses {', '.join(missed)} (raise max_capacity, or loosen the SLO?)"
    )
    return i, meets, reason, missed
