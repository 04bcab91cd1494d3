"""CPU traces in, demand per engine step out.

Accepted: a CloudWatch-style CSV path (``timestamp,value`` with CPU %), the
DataFrame ``pandas.read_csv`` makes of it, a Series of CPU % on a
DatetimeIndex, or a local fleet's ``s.utilization(fleet)`` (``time``,
``cpu_percent``, ``running``). Demand is CPU % x the instances that produced
it (the ``running`` column, else ``observed_capacity``, else 1), in
instance-units. It is resampled to the step (mean of the samples in a step,
the last value held through steps without one); a stretch between samples
longer than 1.5 sample periods is a gap, counted and reported.

    >>> trace = load_trace(example_trace("ec2_cpu_utilization_825cc2"), observed_capacity=4)
    >>> trace.gaps, trace.longest_gap
    (2, Timedelta('0 days 00:10:00'))
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import durations
from ..errors import ValidationError

__all__ = ["example_trace", "EXAMPLE_TRACES", "load_trace", "step_seconds", "Trace"]

EXAMPLE_TRACES = {
    "cpu_utilization_asg_misconfiguration": "An Auto Scaling group's CPU, 2014-05-14 to 2014-07-15, 5-minute points",
    "ec2_cpu_utilization_825cc2": "One EC2 instance's CPU, 2014-04-10 to 2014-04-24, 5-minute points with two gaps",
    "ec2_cpu_utilization_5f5533": "One EC2 instance's CPU, 2014-02-14 to 2014-02-28, 5-minute points",
}


def example_trace(name: str = "cpu_utilization_asg_misconfiguration") -> Path:
    """Path of a real AWS CloudWatch CPU trace shipped with the package (Numenta Anomaly Benchmark, MIT).

    >>> pd.read_csv(example_trace()).head(2)
    """
    if name not in EXAMPLE_TRACES:
        allowed = ", ".join(EXAMPLE_TRACES)
        raise ValidationError(f"name: no example trace {name!r} (there are: {allowed})", field="name", rule=allowed)
    return Path(str(resources.files("clusterdb_nb.autoscaling") / "data" / f"{name}.csv"))


@dataclass(frozen=True)
class Trace:
    """Demand per step, ready for an engine."""

    time: pd.DatetimeIndex
    demand: np.ndarray
    step: int
    gaps: int
    longest_gap: pd.Timedelta
    observed: str  # where the instance count came from, in words
    sample_seconds: int = 60  # the trace's own sampling period (median spacing), whole seconds
    step_note: str = ""  # which step, and why, in words
    cpu_p95: float = float("nan")  # the 95th percentile of the trace's own CPU %, before resampling

    def __len__(self) -> int:
        return len(self.demand)


def step_seconds(step: Any) -> int:
    """Whole seconds of ``step`` ("1min", "15s", a Timedelta or seconds), at least 1."""
    return durations.whole_seconds(step, "step", minimum=1)


def _bad(field: str, rule: str, detail: str) -> ValidationError:
    return ValidationError(f"{field}: {detail}", field=field, rule=rule)


def _columns(trace: Any) -> tuple[Any, pd.Series, pd.Series | None, str]:
    """(timestamps, CPU values, running counts or None, value column name) of any accepted shape."""
    if isinstance(trace, (str, os.PathLike)):
        try:
            trace = pd.read_csv(trace)
        except pd.errors.EmptyDataError:
            raise _bad("trace", "at least one sample", f"{os.fspath(trace)!r} is empty") from None
        except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise _bad("trace", "a readable CSV of timestamp,value", f"cannot read {os.fspath(trace)!r}: {exc}") from None
    if isinstance(trace, pd.Series):
        if not isinstance(trace.index, pd.DatetimeIndex):
            raise _bad("trace", "Series on a DatetimeIndex", f"a Series needs a DatetimeIndex (got {type(trace.index).__name__})")
        return trace.index, trace.reset_index(drop=True), None, "value"
    if isinstance(trace, pd.DataFrame):
        if {"time", "cpu_percent"} <= set(trace.columns):
            running = trace["running"].reset_index(drop=True) if "running" in trace.columns else None
            return trace["time"].to_numpy(), trace["cpu_percent"].reset_index(drop=True), running, "cpu_percent"
        if {"timestamp", "value"} <= set(trace.columns):
            return trace["timestamp"].to_numpy(), trace["value"].reset_index(drop=True), None, "value"
        raise _bad(
            "trace",
            "columns timestamp,value or time,cpu_percent",
            f"expected columns timestamp,value (CloudWatch CSV) or time,cpu_percent (s.utilization) (got {list(trace.columns)})",
        )
    raise _bad(
        "trace",
        "CSV path, DataFrame or Series",
        f"expected a CSV path, a DataFrame or a Series of CPU % (got {type(trace).__name__})",
    )


def load_trace(trace: Any, step: Any = None, observed_capacity: float | None = None) -> Trace:
    """Validate ``trace`` and turn it into demand per ``step`` (default: the trace's own sampling period);
    see the module docstring for the shapes."""
    seconds = None if step is None else step_seconds(step)
    times, raw, running, name = _columns(trace)
    if len(raw) == 0:
        raise _bad("trace", "at least one sample", "the trace is empty")
    values = pd.to_numeric(raw, errors="coerce")
    wrong = values.isna() & raw.notna()
    if wrong.any():
        i = int(np.flatnonzero(wrong.to_numpy())[0])
        raise _bad(f"trace.{name}", "numeric CPU %", f"row {i} holds {raw.iloc[i]!r}, not a number")
    values = values.astype(np.float64)
    outside = (values < 0) | (values > 100)
    if outside.any():
        i = int(np.flatnonzero(outside.to_numpy())[0])
        raise _bad(f"trace.{name}", "0 <= CPU % <= 100", f"row {i} holds {values.iloc[i]:g}, outside 0-100 %")
    try:
        stamps = pd.DatetimeIndex(pd.to_datetime(times, utc=True)).as_unit("ns")
    except (ValueError, TypeError, OverflowError) as exc:
        raise _bad("trace.timestamp", "parseable timestamps", f"not all timestamps are times ({exc})") from None
    if stamps.hasnans:
        raise _bad("trace.timestamp", "parseable timestamps", f"row {int(np.flatnonzero(stamps.isna())[0])} has no timestamp")
    order = np.diff(stamps.asi8)
    if (order < 0).any():
        i = int(np.flatnonzero(order < 0)[0]) + 1
        raise _bad("trace.timestamp", "sorted timestamps", f"row {i} ({stamps[i]}) comes before the row above it; sort the trace")
    if (order == 0).any():
        i = int(np.flatnonzero(order == 0)[0]) + 1
        raise _bad("trace.timestamp", "unique timestamps", f"row {i} repeats the timestamp {stamps[i]}")
    if observed_capacity is not None:
        if isinstance(observed_capacity, bool) or not isinstance(observed_capacity, (int, float)) or not observed_capacity > 0:
            raise _bad("observed_capacity", "> 0", f"must be a number of instances > 0 (got {observed_capacity!r})")
        count, observed = np.full(len(values), float(observed_capacity)), f"{observed_capacity:g} instance(s) (observed_capacity)"
    elif running is not None:
        count = pd.to_numeric(running, errors="coerce").to_numpy(dtype=np.float64)
        if np.isnan(count).any() or (count < 0).any():
            raise _bad("trace.running", "instance counts >= 0", "the running column must hold instance counts >= 0")
        observed = "the trace's running column"
    else:
        count, observed = np.ones(len(values)), "1 instance (pass observed_capacity= for the fleet's size)"
    demand = pd.Series(values.to_numpy() / 100.0 * count, index=stamps).dropna()
    if demand.empty:
        raise _bad("trace", "at least one sample with a value", "every sample of the trace is missing")
    sample = max(1, round(float(np.median(order)) / 1e9)) if len(order) else (seconds or 60)
    if seconds is None:
        seconds, note = sample, f"step {_duration(sample)}: the trace's own sampling period"
    else:
        note = f"step {_duration(seconds)} (given); the trace is sampled every {_duration(sample)}"
    period = pd.Timedelta(int(np.median(order)), unit="ns") if len(order) else pd.Timedelta(seconds=seconds)
    trace = _resample(demand, seconds, period, observed, sample, note)
    resampled: Trace = replace(trace, cpu_p95=float(np.nanpercentile(values.to_numpy(), 95)))
    return resampled


def _duration(seconds: int) -> str:
    """``300`` -> ``"5 min"``, ``90`` -> ``"90 s"``."""
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def _resample(demand: pd.Series, seconds: int, period: pd.Timedelta, observed: str, sample: int, note: str) -> Trace:
    """Mean per step, held through steps without a sample; ``period`` is the trace's own sample spacing."""
    freq = pd.Timedelta(seconds=seconds)
    spacing = np.diff(pd.DatetimeIndex(demand.index).asi8)
    gaps = spacing > 1.5 * period.value
    longest = pd.Timedelta(int(spacing[gaps].max()), unit="ns") if gaps.any() else pd.Timedelta(0)
    start = demand.index[0].floor(freq)
    end = (demand.index[-1] + period - pd.Timedelta(1, unit="ns")).floor(freq)  # the last sample holds for one period
    index = pd.date_range(start, end, freq=freq)
    per_step = demand.resample(freq, origin=start).mean().reindex(index).ffill()
    return Trace(
        time=index,
        demand=per_step.to_numpy(dtype=np.float64),
        step=seconds,
        gaps=int(gaps.sum()),
        longest_gap=longest,
        observed=observed,
        sample_seconds=sample,
        step_note=note,
    )
