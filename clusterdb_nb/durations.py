"""The one place that reads durations, periods, times and time windows, for the whole package.

    >>> seconds("1d 6h")
    108000.0
    >>> whole_seconds("PT5M", "cooldown")
    300
    >>> period_length("5min")
    Timedelta('0 days 00:05:00')

A duration is finite, >= 0 and at most ten years; a time lies between 1970 and 2250 (UTC);
a window's start is at most its end (``start == end`` is an empty window: nothing happened in it).
Every rule raises ``ValidationError`` naming the field.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any, TypeAlias

import pandas as pd

from .errors import ValidationError

__all__ = ["check_window", "HORIZON_SECONDS", "LATEST_TIME", "period_length", "seconds", "TimeLike", "timestamp", "whole_seconds"]

HORIZON_SECONDS = 10 * 365 * 86_400  # the longest duration: ten years
# Every timestamp of pandas (ns since 1970, up to 2262) can show a time before this one.
LATEST_TIME = pd.Timestamp("2250-01-01", tz="UTC").timestamp()

TimeLike: TypeAlias = str | datetime | pd.Timestamp | None


def seconds(value: Any, field: str = "duration", maximum: float = HORIZON_SECONDS) -> float:
    """Seconds in ``"2h"``, ``"30min"``, ``"1d 6h"``, ``"PT5M"``, a number of seconds, or a timedelta; 0..``maximum``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        out = float(value)
    elif value is not None and not isinstance(value, bool):
        try:
            text = re.sub(r"(?<=\d)\s*d\b", "D", value) if isinstance(value, str) else value
            out = pd.Timedelta(text).total_seconds()
        except (ValueError, TypeError, OverflowError):
            out = math.nan
    else:
        out = math.nan
    if not math.isfinite(out):
        raise ValidationError(
            f"{field}: {value!r} is not a duration such as '30min', '2h', '1d' or a number of seconds",
            field=field,
            rule="finite pandas Timedelta string or seconds",
        )
    if not 0 <= out <= maximum:
        limit = "10 years" if maximum == HORIZON_SECONDS else f"{maximum:g} seconds"
        raise ValidationError(
            f"{field}: must be between 0 and {limit} (got {value!r})",
            field=field,
            rule=f"0 <= {field} <= {maximum:g} s",
            solution=f"Use a non-negative duration of at most {limit}, in several steps if you need more",
        )
    return out


def whole_seconds(value: Any, field: str, minimum: int = 0, maximum: float = HORIZON_SECONDS) -> int:
    """``seconds`` that must be a whole number, at least ``minimum``."""
    out = seconds(value, field, maximum)
    if out != int(out) or out < minimum:
        raise ValidationError(
            f"{field}: must be a whole number of seconds, at least {minimum}, such as '1min' or '15s' (got {value!r})",
            field=field,
            rule=f"whole seconds >= {minimum}",
        )
    return int(out)


def period_length(period: str, field: str = "period", fixed: bool = False) -> pd.Timedelta:
    """The length of one ``period`` (a pandas frequency such as ``"5min"``); must be positive.

    Calendar periods (months, weeks) count at their average length, or are refused when ``fixed``.
    """
    try:
        offset = pd.tseries.frequencies.to_offset(period)
        origin = pd.Timestamp("2026-01-01", tz="UTC")
        length: pd.Timedelta = ((origin + 10 * offset) - origin) / 10
    except (ValueError, TypeError):
        raise ValidationError(
            f"{field}: {period!r} is not a pandas frequency such as '5min', '1h' or '1D'", field=field, rule="pandas frequency"
        ) from None
    if length <= pd.Timedelta(0):
        raise ValidationError(
            f"{field}: must be a positive length of time such as '5min' (got {period!r})", field=field, rule=f"{field} > 0"
        )
    if fixed and not isinstance(offset, pd.offsets.Tick):
        raise ValidationError(
            f"{field}: {period!r} has no fixed length; use seconds, minutes, hours or days such as '5min'",
            field=field,
            rule="a fixed-length frequency",
        )
    return length


def timestamp(value: TimeLike, field: str) -> pd.Timestamp | None:
    """``value`` as a UTC Timestamp (a naive time is UTC), between 1970 and 2250; None stays None."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        ts = pd.NaT
    if ts is pd.NaT or not 0 <= ts.timestamp() <= LATEST_TIME:
        raise ValidationError(
            f"{field}: {value!r} is not a time between 1970 and 2250", field=field, rule="ISO time or datetime, 1970..2250"
        )
    utc: pd.Timestamp = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return utc


def check_window(start: pd.Timestamp | None, end: pd.Timestamp | None) -> None:
    """``start`` at most ``end`` (an equal pair is an empty window); either may be open."""
    if start is not None and end is not None and start > end:
        raise ValidationError(
            f"start: {start} is after end ({end})", field="start", rule="start <= end", solution="Swap start and end"
        )
