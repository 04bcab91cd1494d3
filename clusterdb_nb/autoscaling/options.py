"""Provider-specific autoscaler settings beyond the seed's ``AutoScalingConfig``.

Each cloud's autoscaler has knobs the seed's four fields do not cover. They are
passed to :func:`~clusterdb_nb.autoscaling.simulate` as keyword arguments (or as
the options model itself) and validated here::

    >>> simulate(trace, policy, provider="gcp", mode="ONLY_SCALE_OUT")
    >>> simulate(trace, policy, provider="azure", rules=[AzureRule(direction="Increase", operator="GreaterThan", threshold=75)])
    >>> simulate(trace, policy, provider="kubernetes", behavior=HpaBehavior())

Durations are whole seconds, or strings pandas reads as a duration, ISO-8601
included (``"PT5M"``, ``"10min"``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from typing_extensions import Self

from .. import durations
from ..errors import ValidationError
from ..models import Model, cross_field
from .fleet import DEFAULT_BOOT_SECONDS

__all__ = [
    "AwsOptions",
    "AzureOptions",
    "AzureRule",
    "boot_seconds_of",
    "GcpOptions",
    "GcpScaleInControl",
    "HpaBehavior",
    "HpaScalingPolicy",
    "HpaScalingRules",
    "KubernetesOptions",
    "OPTIONS",
    "Options",
    "options_for",
    "provider_name",
]


def _seconds(value: Any) -> Any:
    """Whole seconds from a duration string (``"PT5M"``, ``"5min"``); numbers are left to the field's own bounds."""
    if not isinstance(value, str):
        return value
    try:
        return durations.whole_seconds(value, "duration")
    except ValidationError as exc:  # the model names the field
        raise ValueError(exc.message.removeprefix("duration: ")) from None


class AwsOptions(Model):
    """EC2 Auto Scaling target tracking.

    ``instance_warmup`` (from launch; the autoscaler leaves a warming instance out of its metric
    and count) defaults to the policy's ``cooldown_seconds``. ``metric_period`` is one CloudWatch
    datapoint: 60 s (detailed monitoring) or 300 s (basic); None takes the trace's own sampling
    period (at least the step), as ``simulate`` reports. ``predictive``: predictive scaling beside
    target tracking, from ``clusterdb_nb.autoscaling.forecast`` (an approximation of AWS's model):
    ``"forecast_only"`` reports the forecast, ``"forecast_and_scale"`` also raises the group's
    minimum to the forecast capacity ``scheduling_buffer`` seconds ahead.
    """

    instance_warmup: int | None = Field(None, ge=0)
    disable_scale_in: bool = False
    metric_period: int | None = Field(None, ge=1)
    predictive: Literal["forecast_only", "forecast_and_scale"] | None = None
    scheduling_buffer: int = Field(300, ge=0, le=3600)

    _durations = field_validator("instance_warmup", "metric_period", "scheduling_buffer", mode="before")(_seconds)


class GcpScaleInControl(Model):
    """``autoscalingPolicy.scaleInControl``: at most ``max_scaled_in_replicas`` (or ``max_scaled_in_percent``
    of the peak) VMs below the peak recommendation of the last ``time_window_seconds``."""

    max_scaled_in_replicas: int | None = Field(None, ge=0)
    max_scaled_in_percent: int | None = Field(None, ge=0, le=100)
    time_window_seconds: int = Field(600, ge=60, le=3600)

    _durations = field_validator("time_window_seconds", mode="before")(_seconds)

    @model_validator(mode="after")
    def _one_limit(self) -> Self:
        if (self.max_scaled_in_replicas is None) == (self.max_scaled_in_percent is None):
            raise cross_field(
                "max_scaled_in_replicas",
                "exactly one of max_scaled_in_replicas, max_scaled_in_percent",
                "give exactly one of max_scaled_in_replicas (fixed) or max_scaled_in_percent",
            )
        return self

    def allowed(self, peak: int) -> int:
        """VMs the group may drop below ``peak``; a percent is of the peak, rounded down (inferred: GCE says "rounded")."""
        if self.max_scaled_in_replicas is not None:
            return self.max_scaled_in_replicas
        return peak * int(self.max_scaled_in_percent or 0) // 100


class GcpOptions(Model):
    """Managed instance group autoscaler. ``initialization_period`` (``coolDownPeriodSec``; from VM
    creation, the autoscaler ignores the VM's metric) defaults to the policy's ``cooldown_seconds``.
    ``predictive``: predictive autoscaling (``OPTIMIZE_AVAILABILITY``): the recommendation is at least
    the forecast capacity one initialization period ahead (``clusterdb_nb.autoscaling.forecast``, an
    approximation of GCE's model)."""

    initialization_period: int | None = Field(None, ge=0)
    mode: Literal["ON", "ONLY_SCALE_OUT", "OFF"] = "ON"
    scale_in_control: GcpScaleInControl | None = None
    predictive: bool = False

    _durations = field_validator("initialization_period", mode="before")(_seconds)


class AzureRule(Model):
    """One autoscale rule on "Percentage CPU" (time grain PT1M, statistic Average) and its action.

    ``cooldown`` None takes the policy's ``cooldown_seconds`` (at least 60 s, Azure's minimum).
    """

    direction: Literal["Increase", "Decrease"]
    operator: Literal["GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual"]
    threshold: float = Field(ge=0, le=100)
    time_window: int = Field(600, ge=300, le=43200)
    time_aggregation: Literal["Average", "Minimum", "Maximum", "Last"] = "Average"
    type: Literal["ChangeCount", "PercentChangeCount", "ExactCount"] = "ChangeCount"
    value: int = Field(1, ge=0)
    cooldown: int | None = Field(None, ge=60, le=604800)

    _durations = field_validator("time_window", "cooldown", mode="before")(_seconds)

    def fires(self, value: float) -> bool:
        """Whether the aggregated metric ``value`` meets this rule's condition."""
        if self.operator == "GreaterThan":
            return value > self.threshold
        if self.operator == "GreaterThanOrEqual":
            return value >= self.threshold
        if self.operator == "LessThan":
            return value < self.threshold
        return value <= self.threshold

    def apply(self, capacity: int) -> int:
        """The instance count this rule's action asks for, before the profile's bounds.

        PercentChangeCount changes by ``ceil(capacity * value / 100)`` instances (inferred: Azure
        does not publish its rounding).
        """
        if self.type == "ExactCount":
            return self.value
        change = self.value if self.type == "ChangeCount" else -(-capacity * self.value // 100)
        return capacity + change if self.direction == "Increase" else capacity - change


class AzureOptions(Model):
    """Autoscale setting of a VM scale set: a profile's rules and its ``default`` capacity.

    Without ``rules`` the profile is the portal's default pair around the policy's target
    (inferred mapping): scale out by 1 when the 10-minute average CPU is above the target,
    scale in by 1 when it is below 3/7 of it (70 % / 30 % for a 70 % target), cooldown
    ``cooldown_seconds`` (at least 60 s).
    """

    rules: list[AzureRule] | None = Field(None, min_length=1, max_length=10)
    default_capacity: int | None = Field(None, ge=0)

    def profile(self, target: float, cooldown_seconds: int) -> list[AzureRule]:
        """The rules in force for a policy with ``target`` % and ``cooldown_seconds``."""
        cooldown = max(60, cooldown_seconds)
        if self.rules is None:
            return [
                AzureRule(direction="Increase", operator="GreaterThan", threshold=target, cooldown=cooldown),
                AzureRule(direction="Decrease", operator="LessThan", threshold=target * 3 / 7, cooldown=cooldown),
            ]
        return [r if r.cooldown is not None else r._replace(cooldown=cooldown) for r in self.rules]


class HpaScalingPolicy(Model):
    """``HPAScalingPolicy``: change by ``value`` pods (or percent) per ``period_seconds``."""

    type: Literal["Pods", "Percent"]
    value: int = Field(gt=0)
    period_seconds: int = Field(gt=0, le=1800)


class HpaScalingRules(Model):
    """``HPAScalingRules``: stabilization window, rate policies and how they combine."""

    stabilization_window_seconds: int = Field(ge=0, le=3600)
    select_policy: Literal["Max", "Min", "Disabled"] = "Max"
    policies: list[HpaScalingPolicy] = Field(min_length=1)


def _default_scale_up() -> HpaScalingRules:
    return HpaScalingRules(
        stabilization_window_seconds=0,
        policies=[
            HpaScalingPolicy(type="Pods", value=4, period_seconds=15),
            HpaScalingPolicy(type="Percent", value=100, period_seconds=15),
        ],
    )


def _default_scale_down() -> HpaScalingRules:
    return HpaScalingRules(
        stabilization_window_seconds=300, policies=[HpaScalingPolicy(type="Percent", value=100, period_seconds=15)]
    )


class HpaBehavior(Model):
    """``spec.behavior`` of an autoscaling/v2 HPA; unset parts take the API defaults."""

    scale_up: HpaScalingRules = Field(default_factory=_default_scale_up)
    scale_down: HpaScalingRules = Field(default_factory=_default_scale_down)


class KubernetesOptions(Model):
    """HorizontalPodAutoscaler. Without ``behavior`` the controller's legacy rules apply: the downscale
    stabilization window (the policy's ``cooldown_seconds``, inferred mapping; the controller's
    default is 300 s) and a scale-up limit of ``max(2 * current, 4)``.

    A pod that does not serve yet (``boot_seconds``) is unready; so is one created less than
    ``initial_readiness_delay`` ago (the controller's ``--horizontal-pod-autoscaler-initial-readiness-delay``,
    30 s by default; inferred simplification of its readiness rules). The sync period is the
    simulation step (the controller's default is 15 s: use ``step="15s"`` to match it exactly).
    """

    behavior: HpaBehavior | None = None
    tolerance: float = Field(0.1, ge=0, lt=1)
    initial_readiness_delay: int = Field(30, ge=0)

    _durations = field_validator("initial_readiness_delay", mode="before")(_seconds)


Options = AwsOptions | GcpOptions | AzureOptions | KubernetesOptions
OPTIONS: dict[str, type[Model]] = {
    "aws": AwsOptions,
    "gcp": GcpOptions,
    "azure": AzureOptions,
    "kubernetes": KubernetesOptions,
}


def boot_seconds_of(value: Any) -> int:
    """``simulate(boot_seconds=...)`` checked: whole seconds >= 0 (or a duration string); None is the default."""
    if value is None:
        return DEFAULT_BOOT_SECONDS
    return durations.whole_seconds(value, "boot_seconds", maximum=86400)


def provider_name(provider: Any) -> str:
    """``provider`` checked against the engines there are."""
    if provider not in OPTIONS:
        allowed = ", ".join(OPTIONS)
        raise ValidationError(f"provider: must be one of {allowed} (got {provider!r})", field="provider", rule=allowed)
    return str(provider)


def options_for(provider: str, extras: dict[str, Any]) -> Any:
    """The options model of ``provider`` built from keyword ``extras`` (or passed whole as ``options=``)."""
    model = OPTIONS[provider_name(provider)]
    if "options" in extras:
        given, rest = extras["options"], {k: v for k, v in extras.items() if k != "options"}
        if rest or not isinstance(given, model):
            raise ValidationError(
                f"options: pass a {model.__name__} alone, or its fields as keyword arguments",
                field="options",
                rule=model.__name__,
            )
        return given
    unknown = sorted(set(extras) - set(model.model_fields))
    if unknown:
        allowed = ", ".join(model.model_fields)
        raise ValidationError(
            f"{unknown[0]}: not a setting of the {provider} autoscaler (settings: {allowed})",
            field=unknown[0],
            rule=f"one of {allowed}",
        )
    return model(**extras)
