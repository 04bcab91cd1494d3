"""A recommendation: what a rule found, the numbers it rests on, and the session calls that act on it.

    >>> rec = Recommendation(kind="rightsize", provider="local", fleet="web", resource="web",
    ...     evidence={"p95_cpu_percent": 12.0}, evidence_text="p95 CPU 12 %",
    ...     calls=[Call(method="update_fleet", args=[Spec(model="FleetConfig", fields={"name": "web",
    ...            "provider": "local", "instance_type": "m5.large"})])], monthly_savings_usd=70.1, risk="low", confidence="high")
    >>> rec.action
    "s.update_fleet(FleetConfig('web', provider='local').with_instance_type('m5.large'))"

The action string and ``s.apply`` are built from the same ``calls``, so what the frame shows is what runs.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal, get_args

from pydantic import Field

from ..models import Model

__all__ = ["Call", "KINDS", "Level", "METHODS", "Method", "Recommendation", "Spec"]

KINDS = ("rightsize", "idle", "spot", "schedule", "autoscaling", "cross_cloud")
# The session calls a recommendation may make: each takes dry_run=True and then only plans.
Method = Literal[
    "update_fleet",
    "update_fleet_capacity",
    "configure_auto_scaling",
    "terminate_instance",
    "schedule_capacity",
    "create_migration",
]
METHODS: tuple[str, ...] = get_args(Method)
Level = Literal["low", "medium", "high"]


class Spec(Model):
    """A model argument of a call, e.g. ``FleetConfig(name='web', instance_type='m5.large')``, built when applied."""

    model: Literal["FleetConfig", "AutoScalingConfig", "MigrationConfig"]
    fields: dict[str, Any]

    def render(self) -> str:
        fields = dict(self.fields)
        name = fields.pop("name", None) if self.model == "FleetConfig" else None
        head = [repr(name)] if name is not None else []
        tail = ""
        changed = [k for k in fields if k != "provider"]
        if name is not None and len(changed) == 1 and changed[0] in ("instance_type", "capacity"):
            tail = f".with_{changed[0]}({fields.pop(changed[0])!r})"
        return f"{self.model}({', '.join(head + [f'{k}={v!r}' for k, v in fields.items()])}){tail}"

    def build(self) -> Any:
        """The model itself, validated."""
        from .. import models

        return getattr(models, self.model)(**self.fields)


class Call(Model):
    """One session call: ``s.<method>(*args, **kwargs)``; a ``Spec`` argument is built into its model."""

    method: Method
    args: list[Spec | str | int | float | bool | None] = Field(default_factory=list)
    kwargs: dict[str, Spec | str | int | float | bool | None] = Field(default_factory=dict)

    def render(self) -> str:
        def show(value: Any) -> str:
            return value.render() if isinstance(value, Spec) else repr(value)

        parts = [show(a) for a in self.args] + [f"{k}={show(v)}" for k, v in self.kwargs.items()]
        return f"s.{self.method}({', '.join(parts)})"


class Recommendation(Model):
    """One finding of ``s.recommendations()``: ``evidence`` holds the numbers, ``evidence_text`` says them."""

    kind: Literal["rightsize", "idle", "spot", "schedule", "autoscaling", "cross_cloud"]
    provider: str
    fleet: str | None
    resource: str
    evidence: dict[str, Any]
    evidence_text: str
    calls: list[Call]
    monthly_savings_usd: float
    risk: Level
    confidence: Level

    @property
    def id(self) -> str:
        """Stable for the same finding on the same resource: ``rec-`` and 8 hex digits."""
        key = f"{self.kind}|{self.provider}|{self.fleet}|{self.resource}"
        return "rec-" + hashlib.blake2b(key.encode(), digest_size=4).hexdigest()

    @property
    def action(self) -> str:
        """The calls that apply it, as code to paste into a cell."""
        return "; ".join(c.render() for c in self.calls)

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.resource} on {self.provider}: save ${self.monthly_savings_usd:,.2f}/month "
            f"(risk {self.risk}, confidence {self.confidence})\n  evidence: {self.evidence_text}\n  action: {self.action}"
        )
