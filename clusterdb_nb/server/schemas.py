"""Request and response bodies of the REST API: the toolkit's own models, plus the few shapes HTTP adds.

A function's ``code`` travels as a base64-encoded zip (``FunctionBody``); a server never reads paths
a client names. A dry run answers with the ``Plan`` and its hourly cost delta (``PlanBody``)::

    >>> FunctionBody(name="echo", code=base64.b64encode(zip_bytes).decode())
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import Base64Bytes, BaseModel, Field, field_validator

from ..models import Count, FunctionConfig, InstanceState, Model, Plan

__all__ = [
    "CapacityBody",
    "FunctionBody",
    "FunctionRow",
    "Health",
    "InstanceRow",
    "InvocationBody",
    "Page",
    "PlanBody",
    "Problem",
    "SdTargets",
]

T = TypeVar("T")


class Problem(BaseModel):
    """An RFC 9457 problem document, with our error's cause and solution."""

    type: str
    title: str
    status: int
    detail: str
    cause: str
    solution: str
    provider: str | None = None
    operation: str | None = None
    field: str | None = None


class Page(BaseModel, Generic[T]):
    """One page of a listing: ``next_page_token`` fetches the next (None on the last); ``errors``: providers that failed."""

    items: list[T]
    next_page_token: str | None = None
    errors: dict[str, Problem] = Field(default_factory=dict)


class CapacityBody(Model):
    """``PUT /api/v1/fleets/{id}/capacity``: the new desired capacity."""

    capacity: Count


class FunctionBody(FunctionConfig):
    """A ``FunctionConfig`` whose ``code`` is a base64-encoded zip (never a path: the server reads no client paths)."""

    code: Base64Bytes | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_source(cls, value: Any) -> Any:
        return value


class PlanBody(BaseModel):
    """What a ``?dry_run=true`` call answers: the plan and its hourly cost delta."""

    operation: str
    target: str
    provider: str
    calls: list[dict[str, str]]
    hourly_cost_before_usd: float
    hourly_cost_after_usd: float
    hourly_cost_delta_usd: float

    @classmethod
    def of(cls, plan: Plan) -> PlanBody:
        return cls(**plan.model_dump(), hourly_cost_delta_usd=plan.hourly_cost_delta_usd)


class InstanceRow(BaseModel):
    """One row of ``GET /api/v1/instances`` (the columns of ``s.instances()``)."""

    id: str
    fleet: str | None
    provider: str
    region: str
    instance_type: str
    state: InstanceState
    spot: bool
    hourly_cost_usd: float | None  # None when the catalog has no price for the type
    launched_at: datetime | None
    state_since: datetime | None
    private_ip: str | None
    tags: dict[str, str]


class FunctionRow(BaseModel):
    """One row of ``GET /api/v1/functions`` (the columns of ``s.functions()``)."""

    id: str
    name: str
    provider: str
    runtime: str
    handler: str
    memory_mb: int
    timeout_sec: int
    version: int
    code_sha256: str | None
    updated_at: datetime | None


class InvocationBody(BaseModel):
    """What ``POST /api/v1/functions/{name}/invoke`` answers: the Invocation with its result decoded."""

    request_id: str
    function: str
    version: int
    provider: str
    status: str
    result: Any = None
    error: dict[str, Any] | None = None
    logs: str = ""
    duration_ms: float
    billed_ms: int
    cold_start: bool
    cost_usd: float


class SdTargets(BaseModel):
    """One target group of Prometheus HTTP service discovery."""

    targets: list[str]
    labels: dict[str, str]


class Health(BaseModel):
    status: str
    version: str
