"""A simple load forecast for predictive scaling (AWS predictive scaling, GCE predictive autoscaling).

Both clouds forecast from recent history with models they do not publish. AWS says it learns
daily and weekly patterns from up to 14 days of history and forecasts hourly; GCE says it
forecasts from daily and weekly cycles. This is an approximation of both, chosen to be simple
and explainable: the forecast for an hour is the mean demand of the same hour of the day over
the previous (up to) 14 days of the trace; there is none on the first day.

    >>> hourly_forecast(demand, step=300)   # demand per step, NaN where there is no history yet
"""

from __future__ import annotations

import numpy as np

__all__ = ["HISTORY_DAYS", "hourly_forecast", "lead_floor"]

HISTORY_DAYS = 14


def hourly_forecast(demand: np.ndarray, step: int, days: int = HISTORY_DAYS) -> np.ndarray:
    """Forecast demand per step of ``step`` seconds: the same hour's mean over the previous ``days`` days."""
    demand = np.asarray(demand, dtype=np.float64)
    per_hour = max(1, 3600 // step)
    per_day = max(1, 86400 // (per_hour * step))  # hours a day (24 unless a step is longer than an hour)
    starts = np.arange(0, len(demand), per_hour)
    hourly = np.add.reduceat(demand, starts) / np.diff(np.append(starts, len(demand))) if len(demand) else np.empty(0)
    total, seen = np.zeros(len(hourly)), np.zeros(len(hourly))
    for back in range(1, days + 1):
        lag = back * per_day
        if lag >= len(hourly):
            break
        total[lag:] += hourly[:-lag]
        seen[lag:] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        per_hour_forecast = np.where(seen > 0, total / seen, np.nan)
    return np.repeat(per_hour_forecast, per_hour)[: len(demand)]


def lead_floor(forecast: np.ndarray | None, t: int, lead: int, target: float, eps: float) -> float:
    """The capacity the forecast asks to have serving ``lead`` steps after ``t``: ceil(F / (T / 100)); 0 without one."""
    if forecast is None or t + lead >= len(forecast) or np.isnan(forecast[t + lead]):
        return 0.0
    return float(np.ceil(100.0 * forecast[t + lead] / target - eps))
