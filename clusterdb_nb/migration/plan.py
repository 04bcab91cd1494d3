"""A migration's plan: the config checked against the clouds, the steps, and what each costs an hour.

Every step sets an absolute value (``scale target to 4``, never ``+2``), so running one again after a
crash does no harm. Rolling keeps the two fleets' desired capacity, counted together, between the source's
capacity ``C`` and ``C + batch_size``; blue/green brings the target to ``C`` before the source is drained.

>>> plan = s.create_migration(MigrationConfig(source_fleet="web", target_provider="local-b", batch_size=2), dry_run=True)
>>> plan.attrs["hourly_cost_peak_usd"], plan.attrs["transition_cost_usd"]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from .. import catalog
from ..errors import ConflictError, NotFoundError, ValidationError
from ..models import Fleet, FleetConfig, MigrationConfig, MigrationStrategy, Plan
from ..providers.capabilities import Feature

if TYPE_CHECKING:
    from ..providers.local import LocalCloud

__all__ = [
    "blueprint",
    "capacities_after",
    "DEFAULT_BOOT_SECONDS",
    "describe",
    "forward_steps",
    "MigrationSession",
    "PLAN_COLUMNS",
    "plan_frame",
    "rollback_steps",
    "Step",
    "target_type",
]

DEFAULT_BOOT_SECONDS = 90.0
"""How long a cloud instance takes to boot, for the plan's estimates (a local cloud says its own)."""

Step = dict[str, Any]
"""One step: ``kind`` (bounds, create, scale, gate, switch, delete, keep), ``role`` (source or target) and values."""


class MigrationSession(Protocol):
    """What a migration calls on a session: its public API (no import of ``session.py``)."""

    manager: Any

    def fleet(self, fleet: str, provider: str | None = None) -> Fleet: ...
    def instances(self, fleet: str | None = None, state: Any = None, provider: str | None = None) -> pd.DataFrame: ...
    def create_fleet(self, config: FleetConfig, dry_run: bool = False, wait: bool = False) -> Fleet | Plan: ...
    def update_fleet(self, config: FleetConfig, dry_run: bool = False) -> Fleet | Plan: ...
    def update_fleet_capacity(
        self, fleet: str, capacity: int, dry_run: bool = False, provider: str | None = None, wait: bool = False
    ) -> Fleet | Plan: ...
    def delete_fleet(self, fleet: str, dry_run: bool = False, provider: str | None = None) -> None | Plan: ...
    def hourly_price(self, instance_type: str, spot: bool = False, provider: str | None = None) -> float: ...
    def now(self) -> pd.Timestamp: ...
    @property
    def locals(self) -> dict[str, LocalCloud]: ...
    def changed(self) -> None: ...


def _provider_error(field: str, name: str, configured: list[str]) -> ValidationError:
    return ValidationError(
        f"{field}: {name!r} is not a configured provider; configured: {', '.join(configured)}",
        field=field,
        rule="a configured provider",
        solution=f"Use one of {', '.join(configured)}, or add a section for it to the config (e.g. local-b: {{kind: local}})",
    )


def _source(session: MigrationSession, config: MigrationConfig) -> Fleet:
    try:
        return session.fleet(config.source_fleet, provider=config.source_provider)
    except ConflictError as exc:
        raise ValidationError(
            f"source_provider: {exc.message}",
            field="source_provider",
            rule="names the source when several providers hold the fleet",
            solution="Pass MigrationConfig(..., source_provider=...) naming the provider the fleet is on",
        ) from None


def target_type(source: Fleet, kind: str, region: str, given: str | None) -> str:
    """The target's instance type: ``given``, else the source's on a local cloud, else the catalog's equivalent.

    >>> target_type(fleet_of_t3_medium, "gcp", "us-central1", None)
    'e2-medium'
    """
    if given is not None:
        return given
    if kind == "local":
        return source.instance_type  # a local cloud runs every cloud's types
    if kind not in catalog.PROVIDERS:
        raise ValidationError(
            f"target_instance_type: the catalog has no {kind} types to find an equivalent of {source.instance_type!r}",
            field="target_instance_type",
            rule="given for a provider outside the catalog",
            solution="Pass MigrationConfig(..., target_instance_type=...) with a type the target offers",
        )
    priced = region if region in catalog.regions(kind) else None
    if catalog.provider_of(source.instance_type) == kind:
        return catalog.lookup(source.instance_type, region=priced).name
    return catalog.equivalent(source.instance_type, kind, region=priced).name


def blueprint(session: MigrationSession, config: MigrationConfig) -> dict[str, Any]:
    """The facts a migration runs on, checked before any cloud changes: source, target, prices, steps."""
    manager = session.manager
    configured = list(manager.providers)
    if config.target_provider not in manager.providers:
        raise _provider_error("target_provider", config.target_provider, configured)
    if config.source_provider is not None and config.source_provider not in manager.providers:
        raise _provider_error("source_provider", config.source_provider, configured)
    source = _source(session, config)
    name = config.target_name
    if source.provider == config.target_provider and source.name == name:
        raise ValidationError(
            f"target_provider: fleet {name!r} is already on {source.provider!r}; name another provider (or another target_fleet)",
            field="target_provider",
            rule="target differs from the source",
        )
    if source.auto_scaling is not None:
        raise ConflictError(
            f"fleet {source.name!r} on {source.provider} has an auto-scaling policy, "
            "which would fight the migration's capacities",
            operation="create_migration",
            cause="An autoscaler changes the source's capacity while the migration sets it batch by batch",
            solution="Migrate a fleet without a policy, then configure the policy on the target (s.configure_auto_scaling)",
        )
    target = manager.provider(config.target_provider)
    target.require(Feature.FLEETS, "create_migration")
    if config.target_region is not None and target.region and config.target_region != target.region:
        raise ValidationError(
            f"target_region: {target.name} works in region {target.region!r}, not {config.target_region!r}",
            field="target_region",
            rule=f"the {target.name} section's region ({target.region!r}) or unset",
            solution=f"Leave target_region unset, or configure a provider section for {config.target_region!r} and name it",
        )
    itype = target_type(source, target.kind, target.region, config.target_instance_type)
    target_price = session.hourly_price(itype, source.spot, provider=target.name)  # an unknown type is refused here
    source_price = session.hourly_price(source.instance_type, source.spot, provider=source.provider)
    try:
        session.fleet(name, provider=target.name)
    except NotFoundError:
        pass
    else:
        raise ConflictError(
            f"fleet {name!r} already exists on {target.name}",
            operation="create_migration",
            cause="A migration creates its target fleet and deletes it again on rollback",
            solution="Pass MigrationConfig(..., target_fleet='another-name'), or delete that fleet first",
        )
    boot = getattr(target.config, "boot_seconds", DEFAULT_BOOT_SECONDS) if target.kind == "local" else DEFAULT_BOOT_SECONDS
    return {
        "source": {
            "provider": source.provider,
            "fleet": source.name,
            "capacity": source.capacity,
            "min_capacity": source.min_capacity,
            "max_capacity": source.max_capacity,
            "instance_type": source.instance_type,
            "spot": source.spot,
            "price": source_price,
            "description": source.description,
            "tags": source.tags,
        },
        "target": {
            "provider": target.name,
            "fleet": name,
            "instance_type": itype,
            "region": target.region,
            "price": target_price,
            "boot_seconds": float(boot),
        },
        "strategy": config.strategy.value,
        "batch_size": config.batch_size,
        "grace_period": config.grace_period,
        "keep_source": config.keep_source,
    }


def _scale(role: str, capacity: int) -> Step:
    return {"kind": "scale", "role": role, "capacity": capacity}


def _gate(role: str, capacity: int, check: bool) -> Step:
    return {"kind": "gate", "role": role, "capacity": capacity, "check": check}


def forward_steps(bp: dict[str, Any]) -> list[Step]:
    """The steps that move the source's capacity to the target (see the module's docstring)."""
    src = bp["source"]
    c, b, lo, hi = src["capacity"], bp["batch_size"], src["min_capacity"], src["max_capacity"]
    steps: list[Step] = []
    if lo > 0 and c > 0:
        steps.append({"kind": "bounds", "role": "source", "min_capacity": 0, "max_capacity": hi})
    steps.append({"kind": "create", "role": "target"})
    if bp["strategy"] == MigrationStrategy.ROLLING.value:
        moved = 0
        while moved < c:
            moved += min(b, c - moved)
            steps += [_scale("target", moved), _gate("target", moved, True), _scale("source", c - moved)]
    elif c > 0:
        steps += [_scale("target", c), _gate("target", c, True), {"kind": "switch", "role": "target"}, _scale("source", 0)]
    if lo > 0:
        steps.append({"kind": "bounds", "role": "target", "min_capacity": lo, "max_capacity": hi})
    steps.append({"kind": "keep" if bp["keep_source"] else "delete", "role": "source"})
    return steps


def rollback_steps(bp: dict[str, Any], source_now: int, target_now: int | None) -> list[Step]:
    """The steps that give the source its capacity back and remove the target (``target_now`` None: not created)."""
    src = bp["source"]
    c, b = src["capacity"], bp["batch_size"]
    steps: list[Step] = []
    t = target_now or 0
    if bp["strategy"] == MigrationStrategy.ROLLING.value:
        if target_now is not None and source_now + t > c:  # a batch not yet counted: the target gives it back first
            t = max(0, c - source_now)
            steps.append(_scale("target", t))
        s = source_now
        while s < c:
            n = min(b, c - s)
            s += n
            steps += [_scale("source", s), _gate("source", s, False)]
            if target_now is not None:
                t = max(0, t - n)
                steps.append(_scale("target", t))
    elif source_now < c:
        steps += [_scale("source", c), _gate("source", c, False)]
    if target_now is not None:
        steps.append({"kind": "delete", "role": "target"})
    if src["min_capacity"] > 0 and c > 0:
        steps.append(
            {"kind": "bounds", "role": "source", "min_capacity": src["min_capacity"], "max_capacity": src["max_capacity"]}
        )
    return steps


def describe(step: Step, bp: dict[str, Any]) -> str:
    """A step in words, e.g. ``scale target web on local-b to 2``."""
    side = bp[step["role"]]
    where = f"{step['role']} {side['fleet']} on {side['provider']}"
    kind = step["kind"]
    if kind == "scale":
        return f"scale {where} to {step['capacity']}"
    if kind == "gate":
        check = " and the health check passes" if step["check"] else ""
        return f"wait until {step['capacity']} {step['role']} instance(s) run for {bp['grace_period']:g} s{check}"
    if kind == "create":
        t = bp["target"]
        return f"create {where} at 0 ({t['instance_type']}, tags of the source)"
    if kind == "bounds":
        return f"set {where}'s bounds to [{step['min_capacity']}, {step['max_capacity']}]"
    if kind == "switch":
        return f"switch: the target serves (point your load balancer or DNS at {side['fleet']} on {side['provider']})"
    if kind == "delete":
        return f"delete {where}"
    return f"keep {where} at capacity 0"


def capacities_after(steps: list[Step], source: int, target: int) -> list[tuple[int, int]]:
    """(source, target) desired capacity after each step, from (``source``, ``target``) before the first."""
    out = []
    for step in steps:
        if step["kind"] == "scale":
            if step["role"] == "source":
                source = step["capacity"]
            else:
                target = step["capacity"]
        elif step["kind"] == "delete":
            source, target = (0, target) if step["role"] == "source" else (source, 0)
        out.append((source, target))
    return out


PLAN_COLUMNS = [
    "step",
    "action",
    "provider",
    "fleet",
    "source_capacity",
    "target_capacity",
    "hourly_cost_usd",
    "est_seconds",
    "est_cost_usd",
]


def plan_frame(bp: dict[str, Any], steps: list[Step], source: int, target: int) -> pd.DataFrame:
    """One row per step with both fleets' capacity after it and the hourly cost of both; the summary in ``attrs``.

    ``attrs``: ``hourly_cost_before_usd`` (the source alone), ``hourly_cost_peak_usd`` (both fleets at their
    largest), ``hourly_cost_after_usd``, ``est_seconds`` (gates take the target's boot time plus the grace
    period) and ``transition_cost_usd``: what both fleets cost while the gates wait, above what the source
    alone would have cost in that time.
    """
    ps, pt = bp["source"]["price"], bp["target"]["price"]
    grace, boot = bp["grace_period"], bp["target"]["boot_seconds"]
    rows = []
    for i, (step, (s, t)) in enumerate(zip(steps, capacities_after(steps, source, target)), start=1):
        side = bp[step["role"]]
        hourly = round(s * ps + t * pt, 6)
        seconds = grace + boot if step["kind"] == "gate" else 0.0
        rows.append((i, describe(step, bp), side["provider"], side["fleet"], s, t, hourly, seconds, hourly * seconds / 3600))
    df = pd.DataFrame(rows, columns=PLAN_COLUMNS).astype(
        {"step": "int64", "source_capacity": "int64", "target_capacity": "int64", "hourly_cost_usd": "float64"}
    )
    before = round(source * ps + target * pt, 6)
    seconds = float(df["est_seconds"].sum())
    df.attrs.update(
        hourly_cost_before_usd=before,
        hourly_cost_peak_usd=round(max([before, *df["hourly_cost_usd"]]), 6),
        hourly_cost_after_usd=float(df["hourly_cost_usd"].iloc[-1]) if len(df) else before,
        est_seconds=seconds,
        transition_cost_usd=round(float(df["est_cost_usd"].sum()) - before * seconds / 3600, 6),
    )
    out: pd.DataFrame = df
    return out
