"""Try a grid of policies on a trace and pick one.

    >>> result = tune(example_trace(), targets=[50, 60, 70, 80], cooldowns=[60, 300, 600],
    ...               min_capacity=2, max_capacity=12, provider="aws", instance_type="m5.large", observed_capacity=8)
    >>> result.table            # every policy: cost and SLO figures
    >>> result.pareto           # the cost / saturated-minutes front
    >>> result.recommended, result.reason
    >>> result.figure()

Every policy of the grid runs at once in the provider's vectorized engine (the
same decisions as the reference engine ``simulate`` uses, as the property tests
show). The objective is explicit (``clusterdb_nb.autoscaling.slo``): the
recommendation is the cheapest policy within the SLO -- at most 0.1 % of minutes
saturated, 25 % above target and a p95 utilization of 70 % unless ``slo=`` says
otherwise -- and ``reason`` says which limit binds. ``notes`` says when the
figures cannot be trusted as they stand (demand censored at 100 % CPU, no
``observed_capacity``).
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import frames
from ..errors import ValidationError
from ..models import AutoScalingConfig
from .engines import ENGINES, for_trace, forecast_for
from .fleet import Policies
from .options import Options, boot_seconds_of, options_for, provider_name
from .simulate import hourly_price
from .slo import Slo, recommend
from .summary import summarize
from .traces import Trace, load_trace

if TYPE_CHECKING:
    from ..plots import Figure

__all__ = ["BATCH", "CENSORED_P95", "pareto_front", "trace_notes", "tune", "TuningResult"]

BATCH = 1024  # policies per engine run: bounds memory (steps x batch x 2 timelines of small ints)
CENSORED_P95 = 99.0  # a trace whose CPU p95 is at least this sits at 100 %: its true demand is unknown


def _grid(values: Any, field: str) -> list[Any]:
    items = list(values) if isinstance(values, Iterable) and not isinstance(values, (str, bytes)) else [values]
    if not items:
        raise ValidationError(f"{field}: give at least one value", field=field, rule="non-empty")
    return items


def pareto_front(cost: np.ndarray, saturated: np.ndarray) -> np.ndarray:
    """True for the policies no other beats on both cost and saturated minutes (ties are all kept)."""
    order = np.lexsort((saturated, cost))
    front = np.zeros(len(cost), dtype=bool)
    best, best_cost = math.inf, math.nan
    for i in order:
        if saturated[i] < best or (saturated[i] == best and cost[i] == best_cost):
            front[i] = True
            best, best_cost = saturated[i], cost[i]
    return front


@dataclass(frozen=True)
class TuningResult:
    """Every policy of the grid on one trace, the cost / saturation front, and a recommendation.

    ``slo`` and ``limits`` (per table column) are the objective; ``binding`` the SLO keys that keep a
    cheaper policy out (or, when no policy meets the SLO, those the recommendation misses);
    ``notes`` what to keep in mind reading the figures.
    """

    provider: str
    options: Options
    table: pd.DataFrame
    recommended: AutoScalingConfig
    reason: str
    cost_column: str
    gaps: int
    longest_gap: pd.Timedelta
    slo: Slo
    limits: dict[str, float]
    binding: list[str]
    notes: list[str]

    @property
    def pareto(self) -> pd.DataFrame:
        """The policies on the front, cheapest first."""
        front: pd.DataFrame = self.table[self.table["pareto"]].sort_values(
            [self.cost_column, "minutes_saturated"], ignore_index=True
        )
        return front

    def figure(self, title: str | None = None, selected: int | None = None) -> Figure:
        """Cost against saturated minutes for every policy, the front joined, the recommendation starred, the
        ``selected`` row of ``table`` ringed; hover names each policy (``clusterdb_nb.plots.pareto_figure``)."""
        from ..plots import pareto_figure

        return pareto_figure(self.table, self.cost_column, ENGINES[self.provider].label, selected, title)

    def __repr__(self) -> str:
        front, meets = int(self.table["pareto"].sum()), int(self.table["meets_slo"].sum())
        notes = "".join(f"\nnote: {n}" for n in self.notes)
        return (
            f"<TuningResult {self.provider}: {len(self.table)} policies, {meets} within the SLO, {front} on the front; "
            f"{self.reason}{notes}>"
        )

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>"


def trace_notes(data: Trace) -> list[str]:
    """What to keep in mind about ``data``'s figures: the step, censored demand, a missing instance count."""
    notes = [data.step_note] if data.step_note else []
    if data.cpu_p95 >= CENSORED_P95:
        notes.append(
            f"demand is censored: the trace's CPU p95 is {data.cpu_p95:.1f}%, so the fleet was at its limit and the "
            "true demand is unknown (higher than the trace says); saturation figures are a lower bound"
        )
    if data.observed.startswith("1 instance"):
        notes.append(
            "observed_capacity was not given: the trace is taken as one instance's CPU, so demand never exceeds one "
            "instance; pass observed_capacity= (the fleet's size when the trace was taken)"
        )
    return notes


def tune(
    trace: Any,
    targets: Iterable[float] = (50.0, 60.0, 70.0, 80.0),
    cooldowns: Iterable[int] = (60, 180, 300, 600),
    min_capacity: int | Iterable[int] = 1,
    max_capacity: int | Iterable[int] = 10,
    provider: str = "aws",
    instance_type: str | None = None,
    price_per_hour: float | None = None,
    initial_capacity: int | None = None,
    step: str | int | pd.Timedelta | None = None,
    observed_capacity: float | None = None,
    boot_seconds: int | str | None = None,
    slo: dict[str, float] | Slo | None = None,
    progress: bool | None = None,
    **extras: Any,
) -> TuningResult:
    """Simulate every policy of targets x cooldowns x min_capacity x max_capacity and recommend one.

    ``slo``: the objective's limits, ``dict(max_saturated_fraction=0.001, max_minutes_above_target=...,
    max_p95_utilization=85)`` (see ``clusterdb_nb.autoscaling.slo``; unset keys take the defaults).
    ``progress``: a tqdm bar over batches of policies (default: when the grid is larger than one batch).
    Other arguments as in :func:`~clusterdb_nb.autoscaling.simulate`.
    """
    from tqdm.auto import tqdm

    name = provider_name(provider)
    options = options_for(name, extras)
    price = hourly_price(instance_type, price_per_hour)
    objective = Slo.of(slo)
    lows, highs = _grid(min_capacity, "min_capacity"), _grid(max_capacity, "max_capacity")
    bounds = [(lo, hi) for lo, hi in itertools.product(lows, highs) if len(lows) == len(highs) == 1 or lo <= hi]
    if not bounds:
        raise ValidationError(
            f"min_capacity: every min_capacity {lows} is above every max_capacity {highs}",
            field="min_capacity",
            rule="min <= max",
        )
    configs = [
        AutoScalingConfig(target_cpu_utilization=t, cooldown_seconds=c, min_capacity=lo, max_capacity=hi)
        for t, c, (lo, hi) in itertools.product(_grid(targets, "targets"), _grid(cooldowns, "cooldowns"), bounds)
    ]
    boot = boot_seconds_of(boot_seconds)
    data = trace if isinstance(trace, Trace) else load_trace(trace, step, observed_capacity)
    options = for_trace(options, data.step, data.sample_seconds)
    policies = Policies.of(configs, initial_capacity)
    limits = objective.limits(len(data) * data.step / 60.0)

    predicted = forecast_for(options, data.demand, data.step)
    parts = []
    batches = range(0, len(configs), BATCH)
    show = len(configs) > BATCH if progress is None else progress
    for start in tqdm(batches, desc=f"tuning {len(configs)} policies", unit="batch", disable=not show):
        chosen = slice(start, min(start + BATCH, len(configs)))
        batch = Policies(
            *(getattr(policies, f)[chosen] for f in ("min_capacity", "max_capacity", "target", "cooldown", "initial"))
        )
        run = ENGINES[name].simulate_many(batch, options, data.demand, data.step, boot, **predicted)
        parts.append(summarize(run.capacity, run.serving, run.actions, data.demand, batch.target, data.step, price))
    figures = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    cost = "cost_usd" if price is not None else "instance_hours"
    front = pareto_front(figures[cost], figures["minutes_saturated"])
    table = frames.frame(
        frames.TUNING,
        {
            "target_cpu_utilization": policies.target,
            "cooldown_seconds": policies.cooldown.astype(np.int64),
            "min_capacity": policies.min_capacity.astype(np.int64),
            "max_capacity": policies.max_capacity.astype(np.int64),
            **figures,
            "meets_slo": np.zeros(len(configs), dtype=bool),
            "pareto": front,
            "recommended": np.zeros(len(configs), dtype=bool),
        },
    )
    best, meets, reason, binding = recommend(table, cost, limits)
    table["meets_slo"] = meets.to_numpy()
    table.loc[best, "recommended"] = True
    return TuningResult(
        provider=name,
        options=options,
        table=table,
        recommended=configs[best],
        reason=reason,
        cost_column=cost,
        gaps=data.gaps,
        longest_gap=data.longest_gap,
        slo=objective,
        limits=limits,
        binding=binding,
        notes=trace_notes(data),
    )
