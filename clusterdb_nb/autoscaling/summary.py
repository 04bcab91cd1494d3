"""What a simulated policy cost and how well it served, from its capacity and serving timelines.

Utilization is what the fleet would have run at: demand / serving capacity,
capped at 100 % (100 % when demand meets no serving instance). A step is
*saturated* at 100 % (demand not fully served) and *above target* when
utilization exceeds the policy's target.

    >>> figures = summarize(capacity, serving, actions, demand, target=np.array([70.0]), step=60, price_per_hour=0.0416)
    >>> Summary.of(figures, 0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ..display import table_html

__all__ = ["summarize", "Summary", "utilization"]


@dataclass(frozen=True)
class Summary:
    """One policy over one trace. ``cost_usd`` is NaN when no price was given."""

    instance_hours: float
    cost_usd: float
    minutes_above_target: float
    minutes_saturated: float
    scaling_actions: int
    p95_utilization: float

    @classmethod
    def of(cls, figures: dict[str, np.ndarray], i: int) -> Summary:
        """Policy ``i``'s summary from :func:`summarize`'s arrays."""
        return cls(
            instance_hours=float(figures["instance_hours"][i]),
            cost_usd=float(figures["cost_usd"][i]),
            minutes_above_target=float(figures["minutes_above_target"][i]),
            minutes_saturated=float(figures["minutes_saturated"][i]),
            scaling_actions=int(figures["scaling_actions"][i]),
            p95_utilization=float(figures["p95_utilization"][i]),
        )

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def _repr_html_(self) -> str:
        """A one-row table in notebooks: money to the cent, numbers to 4 significant figures."""
        return table_html(pd.DataFrame([self.as_dict()]))

    def __str__(self) -> str:
        cost = "n/a" if math.isnan(self.cost_usd) else f"${self.cost_usd:,.2f}"
        return (
            f"{self.instance_hours:,.1f} instance-hours ({cost}), {self.minutes_above_target:,.0f} min above target, "
            f"{self.minutes_saturated:,.0f} min saturated, {self.scaling_actions} scaling actions, "
            f"p95 utilization {self.p95_utilization:.1f}%"
        )


def utilization(demand: np.ndarray, serving: np.ndarray) -> np.ndarray:
    """Utilization % per step of ``demand`` (steps,) on ``serving`` instances (steps,) or (steps, policies)."""
    demand100 = 100.0 * np.asarray(demand, dtype=np.float64)
    if np.ndim(serving) == 2:
        demand100 = demand100[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        busy = np.divide(demand100, serving, dtype=np.float64)  # inf: demand on no instance; NaN: none on none
    np.minimum(busy, 100.0, out=busy)
    percent: np.ndarray = np.nan_to_num(busy, copy=False, nan=0.0)
    return percent


def summarize(
    capacity: np.ndarray,
    serving: np.ndarray,
    actions: np.ndarray,
    demand: np.ndarray,
    target: np.ndarray,
    step: int,
    price_per_hour: float | None,
) -> dict[str, np.ndarray]:
    """The :class:`Summary` fields for every policy (columns of ``capacity`` and ``serving``), as arrays.

    One compiled pass per policy (numba): no steps x policies utilization matrix is built.
    """
    from .kernels import summaries  # numba: imported on first use, not with the package

    count = capacity.shape[1]
    out = np.zeros((4, count))
    if len(demand):
        summaries(capacity.T, serving.T, 100.0 * np.asarray(demand, dtype=np.float64), np.asarray(target, np.float64), out)
    minutes = step / 60.0
    price = math.nan if price_per_hour is None else price_per_hour
    return {
        "instance_hours": out[0] * step / 3600.0,
        "minutes_above_target": out[1] * minutes,
        "minutes_saturated": out[2] * minutes,
        "p95_utilization": out[3],
        "cost_usd": out[0] * step / 3600.0 * price,
        "scaling_actions": np.asarray(actions, dtype=np.int64),
    }
