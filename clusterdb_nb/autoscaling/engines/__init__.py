"""One engine per cloud: a readable reference (per step) and a vectorized twin (many policies at once).

>>> engine = ENGINES["aws"].reference(AutoScalingConfig(), AwsOptions(), 60)
>>> run = ENGINES["aws"].simulate_many(Policies.of([AutoScalingConfig()]), AwsOptions(), demand, 60, 60)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..fleet import Run
from ..forecast import hourly_forecast
from ..options import AwsOptions, GcpOptions
from . import aws, azure, gcp, kubernetes

__all__ = ["Engine", "ENGINES", "for_trace", "forecast_for"]


@dataclass(frozen=True)
class Engine:
    """A cloud's autoscaler: its name in words, reference class and vectorized function."""

    label: str
    reference: Callable[..., Any]  # (policy, options, step[, forecast=])
    simulate_many: Callable[..., Run]  # (policies, options, demand, step, boot_seconds[, forecast=])


ENGINES: dict[str, Engine] = {
    "aws": Engine("AWS target tracking", aws.AwsTargetTracking, aws.simulate_many),
    "gcp": Engine("GCE managed instance group autoscaler", gcp.GceAutoscaler, gcp.simulate_many),
    "azure": Engine("Azure autoscale rules", azure.AzureAutoscale, azure.simulate_many),
    "kubernetes": Engine("Kubernetes HPA", kubernetes.HorizontalPodAutoscaler, kubernetes.simulate_many),
}


def forecast_for(options: Any, demand: np.ndarray, step: int) -> dict[str, np.ndarray]:
    """``{"forecast": ...}`` for the engines when ``options`` ask for predictive scaling, else ``{}``."""
    if isinstance(options, (AwsOptions, GcpOptions)) and options.predictive:
        return {"forecast": hourly_forecast(demand, step)}
    return {}


def for_trace(options: Any, step: int, sample_seconds: int) -> Any:
    """``options`` with what the trace decides filled in: AWS's metric period, when not given, is the
    trace's sampling period (a datapoint is never shorter than the step)."""
    if isinstance(options, AwsOptions) and options.metric_period is None:
        return options.model_copy(update={"metric_period": max(step, sample_seconds)})
    return options
