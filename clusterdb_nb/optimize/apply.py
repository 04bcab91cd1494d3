"""``s.apply(recommendation)``: the dry-run plan of every call first, then the calls, through the session.

    >>> plan = apply(s, rec, dry_run=True)     # nothing changes; each call's own plan
    >>> done = apply(s, rec)                   # plans first (any error stops before a change), then the calls
    >>> print(done)

Any error while planning (a fleet gone, a bound crossed, a feature the provider lacks) stops before a change.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from ..models import Plan
from .model import Call, Recommendation, Spec

__all__ = ["Applied", "apply", "call"]


@dataclass(frozen=True)
class Applied:
    """What ``s.apply`` did (``dry_run=False``) or would do (``dry_run=True``): each call and what it returned."""

    recommendation: Recommendation
    dry_run: bool
    steps: list[tuple[str, Any]] = field(default_factory=list)  # (the call as code, its plan or result)

    @property
    def plans(self) -> list[Plan]:
        """The steps' ``Plan`` models (a dry run of a fleet or instance call returns one)."""
        return [result for _, result in self.steps if isinstance(result, Plan)]

    @property
    def hourly_cost_delta_usd(self) -> float | None:
        """The $/h change the plans show (None when no step is priced)."""
        plans = self.plans
        return round(sum(p.hourly_cost_delta_usd for p in plans), 6) if plans else None

    @property
    def summary(self) -> str:
        """One line: planned or applied, what, and the hourly cost change when the plans price it."""
        rec = self.recommendation
        verb = "would run" if self.dry_run else "applied"
        delta = self.hourly_cost_delta_usd
        cost = f"; {delta:+.4f} $/h" if delta is not None else ""
        return f"{rec.kind} {rec.resource}: {verb} {len(self.steps)} call(s){cost}"

    def __repr__(self) -> str:
        return f"<Applied {self.summary}>"

    def _repr_html_(self) -> str:
        return f"<pre style='margin:0'>{html.escape(str(self))}</pre>"

    def __str__(self) -> str:
        lines = [self.summary]
        for code, result in self.steps:
            lines.append(f"  {code}")
            if self.dry_run:
                lines.extend("    " + line for line in str(result).splitlines())
        return "\n".join(lines)


def _value(value: Any) -> Any:
    return value.build() if isinstance(value, Spec) else value


def call(session: Any, step: Call, dry_run: bool) -> Any:
    """Run one call on ``session``, ``dry_run`` passed through."""
    method = getattr(session, step.method)
    return method(*[_value(a) for a in step.args], **{k: _value(v) for k, v in step.kwargs.items()}, dry_run=dry_run)


def apply(session: Any, recommendation: Recommendation, dry_run: bool = False) -> Applied:
    """Plan every call of ``recommendation``; with ``dry_run`` return the plans, else make the calls in order."""
    planned = Applied(recommendation, True, [(c.render(), call(session, c, True)) for c in recommendation.calls])
    if dry_run:
        return planned
    return Applied(recommendation, False, [(c.render(), call(session, c, False)) for c in recommendation.calls])
