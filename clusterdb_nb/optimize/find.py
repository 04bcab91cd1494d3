"""``s.recommendations()``: every rule over the session's fleets, one row per finding, biggest savings first.

    >>> recommendations(s, window="14d", kinds=["rightsize", "schedule"], rightsize_p95_below=30)

Each rule's thresholds are keywords named ``<kind>_<parameter>`` (``rightsize_p95_below``,
``idle_days``, ``schedule_timezone``, ...; see each rule's module for the parameters and defaults).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from .. import frames
from ..errors import ComputeError, ValidationError
from . import autoscale, cross_cloud, idle, rightsize, schedule, spot
from .model import KINDS, Recommendation
from .observe import detached, observe

__all__ = ["RECOMMENDATIONS", "RULES", "as_frame", "parameters", "recommendations"]

RULES: dict[str, Callable[..., list[Recommendation]]] = {
    "rightsize": rightsize.find,
    "idle": idle.find,
    "spot": spot.find,
    "schedule": schedule.find,
    "autoscaling": autoscale.find,
    "cross_cloud": cross_cloud.find,
}
RECOMMENDATIONS: frames.Schema = {
    "kind": "str",
    "provider": "str",
    "fleet": "str",
    "resource": "str",
    "evidence": "str",
    "action": "str",
    "monthly_savings_usd": "float64",
    "risk": "str",
    "confidence": "str",
    "id": "str",
    "details": "object",
    "recommendation": "object",
}


def parameters() -> dict[str, Any]:
    """Every threshold keyword ``s.recommendations`` takes, with its default: ``{"rightsize_p95_below": 40.0, ...}``."""
    return {
        f"{kind}_{name}": p.default
        for kind, rule in RULES.items()
        for name, p in list(inspect.signature(rule).parameters.items())[1:]
    }


def _kinds(kinds: str | Iterable[str] | None) -> list[str]:
    chosen = list(KINDS) if kinds is None else [kinds] if isinstance(kinds, str) else list(kinds)
    unknown = [k for k in chosen if k not in RULES]
    if unknown or not chosen:
        raise ValidationError(
            f"kinds: {unknown or chosen!r} is not a list of {', '.join(KINDS)}",
            field="kinds",
            rule=" | ".join(KINDS),
            solution=f"Pass some of {', '.join(KINDS)}, or None for every kind",
        )
    return chosen


def _split(thresholds: dict[str, Any]) -> dict[str, dict[str, Any]]:
    known = parameters()
    unknown = sorted(set(thresholds) - set(known))
    if unknown:
        raise ValidationError(
            f"{unknown[0]}: not a threshold of any rule; known: {', '.join(known)}",
            field=unknown[0],
            rule="a rule's threshold",
            solution="Name a threshold <kind>_<parameter>, e.g. rightsize_p95_below=30",
        )
    split: dict[str, dict[str, Any]] = {kind: {} for kind in RULES}
    for key, value in thresholds.items():
        kind = next(k for k in sorted(RULES, key=len, reverse=True) if key.startswith(k + "_"))
        split[kind][key[len(kind) + 1 :]] = value
    return split


def as_frame(found: list[Recommendation]) -> pd.DataFrame:
    """One row per recommendation in :data:`RECOMMENDATIONS` form, the biggest monthly savings first."""
    ordered = sorted(found, key=lambda r: (-r.monthly_savings_usd, r.kind, r.provider, r.resource))
    rows = [
        (r.kind, r.provider, r.fleet or "", r.resource, r.evidence_text, r.action, r.monthly_savings_usd, r.risk,
         r.confidence, r.id, r.evidence, r)
        for r in ordered
    ]  # fmt: skip
    return frames.frame(RECOMMENDATIONS, rows)


def recommendations(
    session: Any,
    window: str | float | pd.Timedelta = "14d",
    kinds: str | Iterable[str] | None = None,
    report: Callable[[str, dict[str, ComputeError]], None] | None = None,
    **thresholds: Any,
) -> pd.DataFrame:
    """Run the rules of ``kinds`` (default: all) on the last ``window`` of every fleet; ``attrs["errors"]`` holds the
    providers that failed (their fleets are left out, the others' rows are there); see :func:`observe` for ``report``."""
    chosen = _kinds(kinds)
    split = _split(thresholds)
    seen = observe(session, window, report)
    found = [rec for kind in chosen for rec in RULES[kind](seen, **split[kind])]
    df = as_frame(found)
    df.attrs["errors"] = {name: detached(err) for name, err in seen.errors.items()}
    df.attrs["window"] = (seen.start, seen.end)
    return df
