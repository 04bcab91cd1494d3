"""Autoscaling: what-if simulation per cloud, a tuner, and the engines behind the local cloud's live policies.

    >>> import clusterdb_nb as cdb
    >>> from clusterdb_nb.autoscaling import example_trace, simulate, tune
    >>> policy = cdb.AutoScalingConfig(min_capacity=2, max_capacity=12, target_cpu_utilization=70, cooldown_seconds=300)
    >>> simulate(example_trace(), policy, provider="gcp", price_per_hour=0.096, observed_capacity=8).summary
    >>> tune(example_trace(), targets=[50, 60, 70], cooldowns=[60, 300], provider="aws", instance_type="m5.large").recommended
    >>> tune_many({"web": example_trace()}, targets=[50, 60, 70], executor=None)   # a whole estate, one table

Each cloud decides differently (``engines``): AWS target tracking, the GCE
managed instance group autoscaler, Azure autoscale rules and the Kubernetes
HPA. Provider-specific settings are the models in ``options``.
"""

from .estate import tune_many
from .options import (
    AwsOptions,
    AzureOptions,
    AzureRule,
    GcpOptions,
    GcpScaleInControl,
    HpaBehavior,
    HpaScalingPolicy,
    HpaScalingRules,
    KubernetesOptions,
)
from .simulate import SimulationResult, simulate
from .summary import Summary
from .traces import EXAMPLE_TRACES, Trace, example_trace, load_trace
from .tune import TuningResult, tune

__all__ = [
    "EXAMPLE_TRACES",
    "AwsOptions",
    "AzureOptions",
    "AzureRule",
    "GcpOptions",
    "GcpScaleInControl",
    "HpaBehavior",
    "HpaScalingPolicy",
    "HpaScalingRules",
    "KubernetesOptions",
    "SimulationResult",
    "Summary",
    "Trace",
    "TuningResult",
    "example_trace",
    "load_trace",
    "simulate",
    "tune",
    "tune_many",
]
