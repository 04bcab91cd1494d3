"""Resource models (pydantic v2), validated before any provider is called.

The builder and the keyword form both work and return new objects::

    >>> cfg = FleetConfig("web-fleet", "Web Application Fleet").with_capacity(5)
    >>> cfg.capacity
    5
    >>> FleetConfig(name="web-fleet", capacity=-1)
    Traceback (most recent call last):
    ValidationError: capacity: Input should be greater than or equal to 0 (got -1)
"""

from __future__ import annotations

import enum
import html
import json
import math
import numbers
import os
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pydantic
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from typing_extensions import Self

from . import code_zip
from .durations import HORIZON_SECONDS
from .durations import LATEST_TIME as LATEST_TIME  # every timestamp argument and clock stays before it
from .errors import ValidationError

if TYPE_CHECKING:  # pandas is imported where used, so importing the models stays light
    from collections.abc import Iterator

    import pandas as pd

__all__ = [
    "AutoScalingConfig",
    "CapacitySchedule",
    "Count",
    "cross_field",
    "Fleet",
    "FleetConfig",
    "Function",
    "FunctionConfig",
    "Identifier",
    "IDENTIFIER_RULE",
    "Instance",
    "InstanceConfig",
    "InstanceState",
    "Invocation",
    "is_secret_key",
    "MigrationConfig",
    "MigrationStrategy",
    "MAX_CAPACITY",
    "Model",
    "NAME_RULE",
    "Plan",
    "PlannedCall",
    "Seconds",
    "StrictInt",
]

NAME_RULE = "lowercase letters, digits and hyphens, 1-63 characters, starting with a letter"
# Every pattern is used with fullmatch: "$" would also match before a trailing newline.
_NAME = re.compile(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?")
_TAG_KEY = re.compile(r"[A-Za-z0-9_.:/=+\-@ ]{1,63}")
_TAG_VALUE = re.compile(r"[A-Za-z0-9_.:/=+\-@ ]{0,255}")
# Every cloud's runtime names have this shape; which ones a cloud runs is its ``cloud_rules``.
_RUNTIME = re.compile(r"[a-z][a-z0-9._-]{0,63}")
_HANDLER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")
_ENV_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
IDENTIFIER_RULE = "1-64 letters, digits and . _ - starting with a letter or digit"


_SECRET_WORDS = frozenset("token secret secrets password passwd passphrase pass pwd credential credentials apikey".split())
_REFERENCE_WORDS = frozenset("file path dir url uri endpoint name id arn ttl type env".split())
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def is_secret_key(key: str) -> bool:
    """Whether a config key names a secret: a secret word anywhere, or ``key`` last.

    Keys that end in a word naming a reference to something (``credentials_file``,
    ``key_name``, ``secret_arn``, ``token_url``) are not secrets, nor is a public key (``ssh_public_key``).

    >>> [is_secret_key(k) for k in ("api_token", "apiKey", "client_secret", "key_name", "credentials_file")]
    [True, True, True, False, False]
    """
    words = [w.lower() for w in _WORD.findall(key)]
    if not words or words[-1] in _REFERENCE_WORDS or words[-2:] in (["public", "key"], ["public", "keys"]):
        return False
    joined = "".join(words)
    return bool(_SECRET_WORDS.intersection(words)) or words[-1] in ("key", "keys") or "connectionstring" in joined


MAX_CAPACITY = 100_000
"""Sanity cap on any instance count; each provider caps its groups further."""


def _strict_int(value: Any) -> Any:
    """Integers only: no booleans, floats or strings (``True`` is not 1 instance)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"must be an integer, not {type(value).__name__}")
    return int(value)


def _real_number(value: Any) -> Any:
    """Finite numbers only: no booleans, strings, infinities or NaN."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"must be a number, not {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return float(value)


def _identifier(value: str) -> str:
    if not _IDENTIFIER.fullmatch(value):
        raise ValueError(f"must be {IDENTIFIER_RULE}")
    return value


StrictInt = Annotated[int, BeforeValidator(_strict_int)]
"""An ``int`` field that refuses ``True``, ``2.0`` and ``"2"``."""
Count = Annotated[int, BeforeValidator(_strict_int), Field(ge=0, le=MAX_CAPACITY)]
"""An instance count: an integer from 0 to ``MAX_CAPACITY``."""
Seconds = Annotated[float, BeforeValidator(_real_number), Field(ge=0, le=HORIZON_SECONDS, allow_inf_nan=False)]
"""A duration in seconds: finite, >= 0, at most ``HORIZON_SECONDS``."""
Identifier = Annotated[str, AfterValidator(_identifier)]
"""An instance type, region or provider name: no blanks, no newlines, never empty."""


def _rule_of(err: Any) -> str:
    ctx = err.get("ctx") or {}
    if "error" in ctx:
        return str(ctx["error"])
    return str(err["msg"]).removeprefix("Value error, ")


def _raise_ours(exc: pydantic.ValidationError, hide_input: bool) -> None:
    """Re-raise pydantic's first error as ours, with the dotted field path, the rule and the fix."""
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    inner = (err.get("ctx") or {}).get("error")
    solution = None
    if isinstance(inner, ValidationError):  # a nested model or a cross-field rule already said it
        field = ".".join([*loc, *([inner.field] if inner.field else [])]) or exc.title
        rule = inner.rule or ""
        detail = inner.message.removeprefix(f"{inner.field}: ")
        if inner.solution != ValidationError.default_solution:
            solution = inner.solution
    else:
        field = ".".join(loc) or exc.title
        rule = _rule_of(err)
        secret = any(isinstance(p, str) and is_secret_key(p) for p in err["loc"])
        shown = not hide_input and not secret and "input" in err and not isinstance(err["input"], dict)
        got = repr(err["input"]) if shown else ""
        detail = rule + (f" (got {got if len(got) <= 80 else got[:77] + '...'})" if shown else "")
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    raise ValidationError(
        f"{field}: {detail}{more}",
        field=field,
        rule=rule,
        solution=solution or f"Correct the value ({rule[:1].lower()}{rule[1:]})",
    ) from None


def cross_field(field: str, rule: str, detail: str) -> ValidationError:
    """The error a model validator raises for a rule across fields, naming ``field``."""
    return ValidationError(f"{field}: {detail}", field=field, rule=rule)


class Model(BaseModel):
    """Frozen model whose validation errors are clusterdb_nb.ValidationError."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            _raise_ours(exc, bool(self.model_config.get("hide_input_in_errors")))

    @classmethod
    def model_validate(cls, obj: Any, **kw: Any) -> Self:
        try:
            return super().model_validate(obj, **kw)
        except pydantic.ValidationError as exc:
            _raise_ours(exc, bool(cls.model_config.get("hide_input_in_errors")))
            raise  # unreachable: _raise_ours always raises

    def __setattr__(self, name: str, value: Any) -> None:
        raise ValidationError(
            f"{name}: {type(self).__name__} is immutable; build a new one (e.g. with .with_capacity())",
            field=name,
            rule="models are frozen",
        )

    def _replace(self, **changes: Any) -> Self:
        """A new, re-validated copy with ``changes`` applied."""
        return type(self)(**{**self.model_dump(), **changes})

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>{html.escape(str(v))}</td></tr>"
            for k, v in self.model_dump().items()
            if not isinstance(v, bytes)
        )
        return f"<table><caption style='text-align:left'><b>{type(self).__name__}</b></caption>{rows}</table>"


def _valid_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"must be {NAME_RULE}")
    return value


def _check_tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > 50:
        raise ValueError("at most 50 tags")
    for key, value in tags.items():
        if not _TAG_KEY.fullmatch(key):
            raise ValueError(f"tag key {key!r} must be 1-63 characters of letters, digits, spaces and _.:/=+-@")
        if not _TAG_VALUE.fullmatch(value):
            raise ValueError(f"tag {key!r}: value must be 0-255 characters of letters, digits, spaces and _.:/=+-@")
    return tags


class AutoScalingConfig(Model):
    """An auto-scaling policy.

    >>> AutoScalingConfig(min_capacity=1, max_capacity=10, target_cpu_utilization=70.0, cooldown_seconds=300)
    """

    min_capacity: Count = 1
    max_capacity: Count = 10
    target_cpu_utilization: Annotated[float, BeforeValidator(_real_number)] = Field(70.0, gt=0, le=100)
    cooldown_seconds: StrictInt = Field(300, ge=0, le=HORIZON_SECONDS)

    @classmethod
    def coerce(cls, value: Any) -> AutoScalingConfig:
        """``value`` itself, or a policy validated from a dict of its fields.

        >>> AutoScalingConfig.coerce({"min_capacity": 2, "max_capacity": 8}).max_capacity
        8
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            return cls.model_validate(value)
        raise ValidationError(
            f"config: expected an AutoScalingConfig or a dict of its fields (got {type(value).__name__})",
            field="config",
            rule="AutoScalingConfig or dict",
            solution="pass cdb.AutoScalingConfig(min_capacity=..., max_capacity=...) or a dict with those keys",
        )

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min_capacity > self.max_capacity:
            raise cross_field(
                "min_capacity",
                "min_capacity <= max_capacity",
                f"must be <= max_capacity ({self.max_capacity}) (got {self.min_capacity})",
            )
        return self

    def clamp(self, capacity: int) -> int:
        """``capacity`` moved into this policy's bounds.

        >>> AutoScalingConfig(min_capacity=2, max_capacity=8).clamp(10)
        8
        """
        return min(max(capacity, self.min_capacity), self.max_capacity)


class FleetConfig(Model):
    """What a fleet should be. Unset fields take the config's ``fleet`` defaults.

    >>> FleetConfig("web-fleet", "Web Application Fleet").with_capacity(5).with_instance_type("t3.medium")
    >>> FleetConfig(name="web-fleet", capacity=5, instance_type="t3.medium", provider="local")
    """

    name: str
    description: str = ""
    capacity: Count | None = None
    instance_type: Identifier | None = None
    min_capacity: Count | None = None
    max_capacity: Count | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    provider: Identifier | None = None
    region: Identifier | None = None
    spot: bool | None = None
    image: str | None = None
    networking: dict[str, Any] = Field(default_factory=dict)

    def __init__(self, name: str | None = None, description: str | None = None, /, **data: Any) -> None:
        if name is not None:
            data["name"] = name
        if description is not None:
            data["description"] = description
        super().__init__(**data)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _valid_name(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_tags(value)

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        lo, hi, n = self.min_capacity, self.max_capacity, self.capacity
        if lo is not None and hi is not None and lo > hi:
            raise cross_field("min_capacity", "min_capacity <= max_capacity", f"must be <= max_capacity ({hi}) (got {lo})")
        if n is not None and lo is not None and n < lo:
            raise cross_field("capacity", "min_capacity <= capacity", f"must be >= min_capacity ({lo}) (got {n})")
        if n is not None and hi is not None and n > hi:
            raise cross_field("capacity", "capacity <= max_capacity", f"must be <= max_capacity ({hi}) (got {n})")
        return self

    def with_capacity(self, capacity: int) -> FleetConfig:
        return self._replace(capacity=capacity)

    def with_instance_type(self, instance_type: str) -> FleetConfig:
        return self._replace(instance_type=instance_type)

    def with_tags(self, tags: dict[str, str]) -> FleetConfig:
        return self._replace(tags={**self.tags, **tags})

    def with_bounds(self, min_capacity: int, max_capacity: int) -> FleetConfig:
        return self._replace(min_capacity=min_capacity, max_capacity=max_capacity)

    def resolve_update(self, current: Fleet) -> FleetConfig:
        """This change applied to ``current``: every size filled in and checked together.

        Without a new capacity, the fleet's capacity is clamped into the new bounds.

        E.g. ``FleetConfig("web", max_capacity=2).resolve_update(fleet).capacity`` is 2 for a fleet of 5.
        """
        lo = self.min_capacity if self.min_capacity is not None else current.min_capacity
        hi = self.max_capacity if self.max_capacity is not None else current.max_capacity
        capacity = self.capacity if self.capacity is not None else min(max(current.capacity, lo), hi)
        return self._replace(capacity=capacity, min_capacity=lo, max_capacity=hi)

    def with_provider(self, provider: str, region: str | None = None) -> FleetConfig:
        return self._replace(provider=provider, region=region)


class InstanceState(str, enum.Enum):
    """Instance states normalized across clouds."""

    PENDING = "pending"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    TERMINATING = "terminating"
    TERMINATED = "terminated"

    def __str__(self) -> str:
        return self.value


class Fleet(Model):
    """A fleet as a provider reports it (``id`` is the fleet's name)."""

    id: str
    name: str
    provider: str
    region: str
    instance_type: str
    capacity: int
    min_capacity: int
    max_capacity: int
    running: int = 0
    description: str = ""
    spot: bool = False
    tags: dict[str, str] = Field(default_factory=dict)
    auto_scaling: AutoScalingConfig | None = None
    created_at: datetime | None = None
    hourly_cost_usd: float = 0.0

    def check_capacity(self, capacity: int, operation: str = "update_fleet_capacity") -> int:
        """``capacity`` when it lies within this fleet's bounds, else the one "outside the bounds" error."""
        if not self.min_capacity <= capacity <= self.max_capacity:
            raise ValidationError(
                f"capacity: {capacity} is outside fleet {self.name!r}'s bounds [{self.min_capacity}, {self.max_capacity}]",
                field="capacity",
                rule="min_capacity <= capacity <= max_capacity",
                provider=self.provider,
                operation=operation,
                solution="Change the bounds first: update_fleet(FleetConfig(name, min_capacity=..., max_capacity=...))",
            )
        return capacity


class Instance(Model):
    """One virtual machine."""

    id: str
    provider: str
    region: str
    instance_type: str
    state: InstanceState
    fleet: str | None = None
    spot: bool = False
    launched_at: datetime | None = None
    state_since: datetime | None = None
    private_ip: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class InstanceConfig(Model):
    """A standalone instance, outside any fleet (``s.create_instance``).

    >>> InstanceConfig(name="bastion", instance_type="t3.micro", provider="local", region="local-1")
    >>> InstanceConfig(name="Bastion", instance_type="t3.micro", provider="local", region="local-1")
    Traceback (most recent call last):
    ValidationError: name: must be lowercase letters, digits and hyphens, 1-63 characters, starting with a letter ...
    """

    name: str
    instance_type: Identifier
    provider: Identifier
    region: Identifier
    image: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    spot: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _valid_name(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_tags(value)

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None:
            _identifier(value)
        return value


class FunctionConfig(Model):
    """A serverless function.

    ``code`` is a deployment zip: its bytes, a path to a zip, a
    directory, or ``{file name: source}`` (both zipped deterministically). Zip entries with absolute paths or
    ``..`` are refused here, before any cloud sees them; what one cloud takes
    (runtimes, reserved environment keys, memory, timeout, sizes) is checked against its provider
    section's ``cloud_rules`` before the call. ``reserved_concurrency``
    caps simultaneous invocations (beyond it they are throttled).

    >>> FunctionConfig(name="process-image", runtime="python3.12", handler="main.handler",
    ...                memory_mb=256, timeout_sec=30, environment={"STAGE": "dev"}, code="handlers/")
    """

    name: str
    runtime: str = "python3.12"
    handler: str = "main.handler"
    # The widest any supported cloud takes (Cloud Functions: 32 GiB, 60 min); each cloud's own are its rules'.
    memory_mb: StrictInt = Field(128, ge=128, le=32768)
    timeout_sec: StrictInt = Field(3, ge=1, le=3600)
    environment: dict[str, str] = Field(default_factory=dict)
    code: bytes | None = None
    reserved_concurrency: StrictInt | None = Field(None, ge=0, le=1000)
    provider: Identifier | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_source(cls, value: Any) -> Any:
        if isinstance(value, (str, os.PathLike)):
            try:
                return code_zip.read_code(value)
            except RuntimeError as exc:  # pathlib: "~user" of an unknown user
                raise ValidationError(
                    f"cannot read {os.fspath(value)!r}: {exc}",
                    rule="a readable zip file or directory",
                    solution="give zip bytes, or the path of a zip file or a directory you can read",
                ) from None
        if isinstance(value, Mapping):
            return code_zip.zip_files(value)
        if isinstance(value, (bytearray, memoryview)):
            return bytes(value)
        return value

    @model_validator(mode="after")
    def _code_zip(self) -> Self:
        if self.code is not None:
            code_zip.check_zip(self.code)
        return self

    def require_code(self) -> Self:
        """This config, when it carries code: creating a function needs it (updating may keep the old code)."""
        if self.code is None:
            raise ValidationError(
                "code: creating a function needs its code (zip bytes, a path to a zip, or a directory)",
                field="code",
                rule="required to create a function",
            )
        return self

    @property
    def code_sha256(self) -> str | None:
        """Lambda's ``CodeSha256`` of the zip (base64 of its SHA-256), None without code."""
        return code_zip.code_sha256(self.code) if self.code is not None else None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _valid_name(value)

    @field_validator("runtime")
    @classmethod
    def _runtime(cls, value: str) -> str:
        if not _RUNTIME.fullmatch(value):
            raise ValueError("must be a runtime name in lowercase, such as python3.12, nodejs20.x, python312")
        return value

    @field_validator("handler")
    @classmethod
    def _handler(cls, value: str) -> str:
        if not _HANDLER.fullmatch(value):
            raise ValueError("must be module.function, e.g. main.handler")
        return value

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not _ENV_KEY.fullmatch(key):
                raise ValueError(f"environment key {key!r} must start with a letter and hold only letters, digits and _")
        return value


class Function(Model):
    """A deployed function version."""

    id: str
    name: str
    provider: str
    runtime: str
    handler: str
    memory_mb: int
    timeout_sec: int
    version: int = 1
    code_sha256: str | None = None
    code_size: int = 0
    reserved_concurrency: int | None = None
    environment_keys: list[str] = Field(default_factory=list)
    updated_at: datetime | None = None


class Invocation(Model):
    """One invocation of a function and what it returned, as Lambda reports it.

    ``payload`` is the response body: the handler's return value as JSON, or
    for a failed invocation Lambda's error document (``errorType``,
    ``errorMessage``, ``stackTrace``), which is also in ``error``.

    >>> inv = s.invoke_function("echo", b'{"x": 1}')
    >>> inv.status, inv.result, inv.cold_start
    ('success', {'x': 1}, True)
    """

    request_id: str
    function: str
    version: int
    provider: str
    status: Literal["success", "error", "timeout", "out_of_memory"]
    payload: bytes = b""
    error: dict[str, Any] | None = None
    logs: str = ""
    duration_ms: float = 0.0
    init_ms: float | None = None
    billed_ms: int = 0
    memory_mb: int = 128
    memory_used_mb: int = 0
    cold_start: bool = False
    started_at: datetime | None = None
    cost_usd: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def function_error(self) -> str | None:
        """``"Unhandled"`` when the invocation failed, as in Lambda's ``FunctionError``."""
        return None if self.ok else "Unhandled"

    @property
    def result(self) -> Any:
        """The payload decoded from JSON (the raw bytes when it is not JSON)."""
        try:
            return json.loads(self.payload) if self.payload else None
        except ValueError:
            return self.payload

    def __repr__(self) -> str:
        kind = "cold" if self.cold_start else "warm"
        what = self.status if self.error is None else f"{self.status} {self.error.get('errorType', '')}"
        timing = f"{self.duration_ms:.1f} ms, billed {self.billed_ms} ms"
        return f"<Invocation {self.function}:{self.version} {what} ({kind}, {timing})>"

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.ok else "#cf222e"
        head = (
            f"<b>Invocation</b> {html.escape(self.function)}:{self.version} "
            f"<b style='color:{colour}'>{html.escape(self.status)}</b> · {'cold start' if self.cold_start else 'warm'} · "
            f"{self.duration_ms:.1f} ms (billed {self.billed_ms} ms"
            + (f", init {self.init_ms:.1f} ms" if self.init_ms is not None else "")
            + f") · {self.memory_used_mb} / {self.memory_mb} MB · ${self.cost_usd:.9f} · request {html.escape(self.request_id)}"
        )
        rows = []
        if self.error is not None:
            trace = "".join(self.error.get("stackTrace") or [])
            text = f"{self.error.get('errorType', '')}: {self.error.get('errorMessage', '')}\n{trace}"
            rows.append(("error", text))
        else:
            result = self.result
            shown = json.dumps(result, indent=2, ensure_ascii=False) if not isinstance(result, bytes) else repr(result)
            rows.append(("result", shown if len(shown) <= 10_000 else shown[:10_000] + " …"))
        if self.logs:
            rows.append(("logs", self.logs if len(self.logs) <= 10_000 else "… " + self.logs[-10_000:]))
        body = "".join(
            f"<tr><th style='text-align:left;vertical-align:top'>{k}</th>"
            f"<td style='text-align:left'><pre style='margin:0'>{html.escape(v)}</pre></td></tr>"
            for k, v in rows
        )
        return f"<div>{head}<table>{body}</table></div>"


class PlannedCall(Model):
    """One call a mutating operation would make."""

    provider: str
    call: str


class Plan(Model):
    """What a ``dry_run=True`` call would do, and what it would cost per hour.

    >>> plan = s.update_fleet_capacity("web-fleet", 20, dry_run=True)
    >>> plan.hourly_cost_delta_usd
    """

    operation: str
    target: str
    provider: str
    calls: list[PlannedCall]
    hourly_cost_before_usd: float
    hourly_cost_after_usd: float

    @property
    def hourly_cost_delta_usd(self) -> float:
        return round(self.hourly_cost_after_usd - self.hourly_cost_before_usd, 6)

    def __str__(self) -> str:
        calls = "\n".join(f"  {c.provider}: {c.call}" for c in self.calls)
        return (
            f"Plan {self.operation} {self.target} on {self.provider} (nothing changed)\n{calls}\n"
            f"  hourly cost: ${self.hourly_cost_before_usd:.4f} -> ${self.hourly_cost_after_usd:.4f} "
            f"({self.hourly_cost_delta_usd:+.4f} $/h)"
        )

    def _repr_html_(self) -> str:
        from .display import plan_html

        return plan_html(self)


# -- cross-provider migration (clusterdb_nb.migration) ----------------------------------


class MigrationStrategy(str, enum.Enum):
    """How a migration moves capacity: ``rolling`` batch by batch, or ``blue_green`` (full target, then switch)."""

    ROLLING = "rolling"
    BLUE_GREEN = "blue_green"

    def __str__(self) -> str:
        return self.value


def _grace(value: Any) -> Any:
    """A duration: seconds, or a string such as ``"2min"``."""
    from .durations import seconds

    if not isinstance(value, str):
        return value
    try:
        return seconds(value, "grace_period")
    except ValidationError as exc:
        raise ValueError(exc.message.removeprefix("grace_period: ")) from None


HealthCheck = Callable[[Any], bool]


class MigrationConfig(Model):
    """What to move where: the seed's ``MigrationConfig``.

    ``health_check(instances) -> bool`` gets the target fleet's running instances (a DataFrame like
    ``s.instances()``, only those running for ``grace_period``) at each health gate; False (or an exception)
    pauses the migration. It is a Python callable, so it is not stored: after a kernel restart pass it again
    (``s.migration(id, health_check=...)``); until then a gate of a migration that had one pauses and says so.
    ``target_instance_type=None`` takes the catalog's ``equivalent()`` on the target's cloud (a local target keeps
    the source's type: local clouds run every cloud's types). ``source_provider`` names the source when several
    providers hold a fleet of that name; ``target_fleet`` defaults to the source's name.

    >>> MigrationConfig(source_fleet="web", target_provider="local-b", strategy="rolling", batch_size=2)
    >>> MigrationConfig(source_fleet="web", target_provider="gcp", batch_size=0)
    Traceback (most recent call last):
    ValidationError: batch_size: Input should be greater than or equal to 1 (got 0)
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, arbitrary_types_allowed=True)

    source_fleet: str
    target_provider: Identifier
    strategy: MigrationStrategy = MigrationStrategy.ROLLING
    batch_size: Annotated[int, BeforeValidator(_strict_int), Field(ge=1, le=MAX_CAPACITY)] = 1
    health_check: HealthCheck | None = Field(default=None, exclude=True)
    grace_period: Annotated[Seconds, BeforeValidator(_grace)] = 60.0
    target_instance_type: Identifier | None = None
    source_provider: Identifier | None = None
    target_region: Identifier | None = None
    keep_source: bool = False
    target_fleet: str | None = None

    @field_validator("source_fleet", "target_fleet")
    @classmethod
    def _fleet_name(cls, value: str | None) -> str | None:
        return None if value is None else _valid_name(value)

    @field_validator("health_check", mode="before")
    @classmethod
    def _callable(cls, value: Any) -> Any:
        if value is not None and not callable(value):
            raise ValueError(
                f"must be a function taking the target's instances DataFrame and returning bool, not {type(value).__name__}"
            )
        return value

    @model_validator(mode="after")
    def _not_onto_itself(self) -> Self:
        if self.source_provider == self.target_provider and self.target_name == self.source_fleet:
            raise cross_field(
                "target_provider",
                "target differs from the source",
                f"fleet {self.source_fleet!r} is already on {self.target_provider!r}; "
                "name another provider (or another target_fleet)",
            )
        return self

    @property
    def target_name(self) -> str:
        """The target fleet's name: ``target_fleet``, else the source's."""
        return self.target_fleet or self.source_fleet

    def stored(self) -> dict[str, Any]:
        """The fields that are kept in the migration store (all but the health check, which is code)."""
        return {**self.model_dump(mode="json"), "has_health_check": self.health_check is not None}


# -- capacity schedules (the seed's "instance scheduling") ---------------------------------------
CRON_RULE = "5 fields: minute hour day-of-month month day-of-week, e.g. '0 19 * * MON-FRI'"


def _check_cron(value: str) -> str:
    import cronsim

    fields = value.split()
    if len(fields) != 5:
        raise ValueError(f"must have {CRON_RULE}; got {len(fields)} field(s)")
    try:
        cronsim.CronSim(" ".join(fields), datetime(2026, 1, 1))
    except cronsim.CronSimError as exc:
        raise ValueError(f"{exc} (a cron line has {CRON_RULE})") from None
    return " ".join(fields)


def _check_timezone(value: str) -> str:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(value)
    except (ValueError, OSError, LookupError):  # ZoneInfoNotFoundError is a KeyError
        raise ValueError("must be an IANA time zone such as 'Europe/Berlin' or 'UTC'") from None
    return value


def _utc(when: Any) -> pd.Timestamp:
    """Epoch seconds, a datetime or a string (naive = UTC) as a UTC ``pd.Timestamp``."""
    import pandas as pd

    stamp: pd.Timestamp
    if isinstance(when, numbers.Real) and not isinstance(when, bool):
        stamp = pd.Timestamp(float(when), unit="s", tz="UTC")
    else:
        stamp = pd.Timestamp(when)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp


class CapacitySchedule(Model):
    """Set a fleet's capacity at the times of a cron line, in a time zone (DST included).

    ``min_capacity``/``max_capacity`` are the fleet's bounds from each firing on, and its
    autoscaling policy's (as a scheduled action sets an Auto Scaling group's MinSize/MaxSize).
    Left unset, the manager fills them in when the schedule is created: the fleet's bounds then,
    widened to hold ``capacity`` (so capacity 0 at night lowers the minimum to 0, and a morning
    schedule restores the fleet's own minimum).

    >>> night = CapacitySchedule(fleet="web", cron="0 19 * * MON-FRI", capacity=0, timezone="Europe/Berlin")
    >>> night.name
    'web-to-0-at-0-19-x-x-mon-fri'
    >>> night.next_run("2026-03-27 12:00Z")
    Timestamp('2026-03-27 18:00:00+0000', tz='UTC')
    """

    fleet: str
    cron: Annotated[str, AfterValidator(_check_cron)]
    capacity: Count
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"
    name: str = ""
    min_capacity: Count | None = None
    max_capacity: Count | None = None
    provider: Identifier | None = None

    @field_validator("fleet")
    @classmethod
    def _fleet(cls, value: str) -> str:
        return _valid_name(value)

    @model_validator(mode="after")
    def _named_and_bounded(self) -> Self:
        if not self.name:
            slug = re.sub(r"[^a-z0-9]+", "-", self.cron.lower().replace("*", "x")).strip("-")
            object.__setattr__(self, "name", f"{self.fleet}-to-{self.capacity}-at-{slug}"[:63].rstrip("-"))
        elif not _NAME.fullmatch(self.name):
            raise cross_field("name", NAME_RULE, f"must be {NAME_RULE} (got {self.name!r})")
        lo, hi, n = self.min_capacity, self.max_capacity, self.capacity
        if lo is not None and n < lo:
            raise cross_field("capacity", "min_capacity <= capacity", f"must be >= min_capacity ({lo}) (got {n})")
        if hi is not None and n > hi:
            raise cross_field("capacity", "capacity <= max_capacity", f"must be <= max_capacity ({hi}) (got {n})")
        return self

    def with_bounds(self, min_capacity: int, max_capacity: int) -> CapacitySchedule:
        return self._replace(min_capacity=min_capacity, max_capacity=max_capacity)

    def bounds_after(self, min_capacity: int, max_capacity: int) -> tuple[int, int]:
        """The bounds once this schedule fired on a fleet bounded by [``min_capacity``, ``max_capacity``]:
        its own where set, else those widened to hold ``capacity``."""
        lo = self.min_capacity if self.min_capacity is not None else min(min_capacity, self.capacity)
        hi = self.max_capacity if self.max_capacity is not None else max(max_capacity, self.capacity)
        return lo, hi

    def resolve_bounds(self, fleet: Fleet) -> CapacitySchedule:
        """Unset bounds taken from ``fleet``, widened to hold ``capacity``."""
        return self.with_bounds(*self.bounds_after(fleet.min_capacity, fleet.max_capacity))

    def _times(self, after: Any) -> Iterator[pd.Timestamp]:
        from zoneinfo import ZoneInfo

        import cronsim
        import pandas as pd

        start = _utc(after)
        local = start.floor("s").tz_convert(ZoneInfo(self.timezone)).to_pydatetime()
        for fire in cronsim.CronSim(self.cron, local):
            yield pd.Timestamp(fire).tz_convert("UTC")

    def next_run(self, after: Any) -> pd.Timestamp:
        """The first firing strictly after ``after`` (epoch seconds, or a time; naive = UTC), as a UTC ``pd.Timestamp``."""
        return next(self._times(after))

    def runs(self, start: Any, end: Any) -> list[pd.Timestamp]:
        """Every firing in (``start``, ``end``], as UTC ``pd.Timestamp``s."""

        stop = _utc(end)
        out: list[pd.Timestamp] = []
        for fire in self._times(start):
            if fire > stop:
                break
            out.append(fire)
        return out
