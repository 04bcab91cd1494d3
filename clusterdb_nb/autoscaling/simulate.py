"""What would this policy have done on that load, and what would it have cost?

    >>> import clusterdb_nb as cdb
    >>> from clusterdb_nb.autoscaling import example_trace, simulate
    >>> result = simulate(example_trace(), cdb.AutoScalingConfig(min_capacity=2, max_capacity=12),
    ...                   provider="aws", instance_type="m5.large", observed_capacity=8)
    >>> result.summary.cost_usd, result.summary.minutes_saturated
    >>> result.figure()

The reference engine of the chosen cloud runs step by step over the trace (see
``clusterdb_nb.autoscaling.engines``); the fleet starts at ``min_capacity``
with every instance serving, unless ``initial_capacity`` says otherwise. The
step is the trace's own sampling period unless ``step`` says otherwise; a new
instance serves ``boot_seconds`` after launch (default
``fleet.DEFAULT_BOOT_SECONDS``, 60 s, the same for every cloud).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import catalog, frames
from ..errors import ValidationError
from ..models import AutoScalingConfig
from .engines import ENGINES, for_trace, forecast_for
from .fleet import Policies, run_reference
from .options import Options, boot_seconds_of, options_for, provider_name
from .scheduled import ScheduledEngine, as_schedules
from .summary import Summary, summarize, utilization
from .traces import Trace, load_trace

if TYPE_CHECKING:
    from ..plots import Figure

__all__ = ["as_policy", "hourly_price", "simulate", "SimulationResult"]


def hourly_price(instance_type: str | None, price_per_hour: float | None) -> float | None:
    """$/h of one instance: ``price_per_hour``, or the catalog's on-demand price of ``instance_type``, or None."""
    if instance_type is not None and price_per_hour is not None:
        raise ValidationError(
            "price_per_hour: give instance_type or price_per_hour, not both", field="price_per_hour", rule="one price source"
        )
    if instance_type is not None:
        return catalog.lookup(instance_type).on_demand_usd
    if price_per_hour is None:
        return None
    if isinstance(price_per_hour, bool) or not isinstance(price_per_hour, (int, float)) or not price_per_hour >= 0:
        raise ValidationError(
            f"price_per_hour: must be a number of USD >= 0 (got {price_per_hour!r})", field="price_per_hour", rule=">= 0"
        )
    return float(price_per_hour)


def as_policy(policy: Any) -> AutoScalingConfig:
    """The seed's ``AutoScalingConfig`` (a dict of its fields is accepted)."""
    if isinstance(policy, AutoScalingConfig):
        return policy
    if isinstance(policy, dict):
        return AutoScalingConfig(**policy)
    raise ValidationError(
        f"policy: expected an AutoScalingConfig (got {type(policy).__name__})", field="policy", rule="AutoScalingConfig"
    )


@dataclass(frozen=True)
class SimulationResult:
    """One policy replayed on one trace.

    ``timeline``: time, demand (instance-units), capacity, serving, utilization, saturated;
    ``activities``: each capacity change with its reason (``frames.SCALING_ACTIVITIES``);
    ``summary``: a :class:`~clusterdb_nb.autoscaling.summary.Summary`; ``gaps`` / ``longest_gap``:
    the holes in the trace that were filled by holding the last value.
    """

    provider: str
    policy: AutoScalingConfig
    options: Options
    timeline: pd.DataFrame
    activities: pd.DataFrame
    summary: Summary
    price_per_hour: float | None
    step_seconds: int
    gaps: int
    longest_gap: pd.Timedelta
    observed: str
    boot_seconds: int = 60
    step_note: str = ""
    forecast: pd.Series | None = None  # predictive scaling's demand forecast (instance-units), if asked for

    def figure(self, title: str | None = None) -> Figure:
        """Demand, capacity and utilization against the target, drawn per period when long, with a range slider
        (``clusterdb_nb.plots.simulation_figure``)."""
        from ..plots import simulation_figure

        return simulation_figure(self.timeline, self.policy, self.step_seconds, ENGINES[self.provider].label, title)

    def __repr__(self) -> str:
        p = self.policy
        gaps = f"{self.gaps} gap(s), longest {self.longest_gap}" if self.gaps else "no gaps"
        return (
            f"<SimulationResult {self.provider}: target {p.target_cpu_utilization:g}%, cooldown {p.cooldown_seconds}s, "
            f"{p.min_capacity}-{p.max_capacity} instances over {len(self.timeline):,} steps of {self.step_seconds}s; "
            f"{self.summary}; trace {gaps}; {self.step_note}; boot {self.boot_seconds} s>"
        )

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>"


def _labelled(label: str, reason: str) -> str:
    return reason if reason.startswith("schedule ") else f"{label}: {reason}"


def simulate(
    trace: Any,
    policy: AutoScalingConfig,
    provider: str = "aws",
    instance_type: str | None = None,
    price_per_hour: float | None = None,
    initial_capacity: int | None = None,
    step: str | int | pd.Timedelta | None = None,
    observed_capacity: float | None = None,
    boot_seconds: int | str | None = None,
    schedules: Any = None,
    **extras: Any,
) -> SimulationResult:
    """Replay ``policy`` under ``provider``'s autoscaler ("aws", "gcp", "azure", "kubernetes") on ``trace``.

    ``extras`` are the provider's own settings (see ``clusterdb_nb.autoscaling.options``), e.g.
    ``instance_warmup=120`` or ``predictive="forecast_and_scale"`` (aws), ``mode="ONLY_SCALE_OUT"`` or
    ``predictive=True`` (gcp), ``rules=[AzureRule(...)]`` (azure), ``behavior=HpaBehavior()`` (kubernetes).
    The price is ``price_per_hour`` or the catalog's on-demand price of ``instance_type``; without
    either ``cost_usd`` is NaN. ``schedules`` (``CapacitySchedule``s) fire on the trace's timeline: each
    sets the capacity and the policy's bounds (see ``autoscaling.scheduled``); their changes are in
    ``activities``. ``step`` defaults to the trace's sampling period; ``boot_seconds`` (launch to serving) to 60 s on every cloud.
    """
    name = provider_name(provider)
    options = options_for(name, extras)
    config = as_policy(policy)
    price = hourly_price(instance_type, price_per_hour)
    boot = boot_seconds_of(boot_seconds)
    data = trace if isinstance(trace, Trace) else load_trace(trace, step, observed_capacity)
    options = for_trace(options, data.step, data.sample_seconds)
    initial = int(Policies.of([config], initial_capacity).initial[0])
    predicted = forecast_for(options, data.demand, data.step)
    engine = ENGINES[name].reference(config, options, data.step, **predicted)
    timed = as_schedules(schedules)
    if timed:

        def make(bounded: AutoScalingConfig) -> Any:
            return ENGINES[name].reference(bounded, options, data.step, **predicted)

        engine = ScheduledEngine(make, config, timed, data.time[0], data.time[-1], data.step)
    capacity, serving, changes = run_reference(engine, data.demand, data.step, initial, boot)
    figures = summarize(
        capacity[:, None],
        serving[:, None],
        np.array([len(changes)]),
        data.demand,
        np.array([config.target_cpu_utilization]),
        data.step,
        price,
    )
    summary = Summary.of(figures, 0)
    util = utilization(data.demand, serving)
    timeline = frames.frame(
        frames.SIMULATION,
        {
            "time": data.time,
            "demand": data.demand,
            "capacity": capacity,
            "serving": serving,
            "utilization": util,
            "saturated": util >= 100.0,
        },
    )
    step_delta = pd.Timedelta(seconds=data.step)
    activities = frames.frame(
        frames.SCALING_ACTIVITIES,
        [
            (data.time[t] + step_delta, "simulated", name, old, new, _labelled(ENGINES[name].label, reason))
            for t, old, new, reason in changes
        ],
    )
    return SimulationResult(
        provider=name,
        policy=config,
        options=options,
        timeline=timeline,
        activities=activities,
        summary=summary,
        price_per_hour=price,
        step_seconds=data.step,
        gaps=data.gaps,
        longest_gap=data.longest_gap,
        observed=data.observed,
        boot_seconds=boot,
        step_note=data.step_note,
        forecast=pd.Series(predicted["forecast"], index=data.time, name="forecast") if predicted else None,
    )
