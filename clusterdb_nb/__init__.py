"""clusterdb_nb: run compute across AWS, Google Cloud, Azure and a local cloud from a notebook.

>>> import clusterdb_nb as cdb
>>> s = cdb.connect()
>>> s.create_fleet(cdb.FleetConfig("web-fleet", "Web Application Fleet").with_capacity(5))
>>> s.fleets()
"""

import typing

from .autoscaling import SimulationResult, TuningResult, simulate, tune, tune_many
from .config import ClusterConfig, load_config
from .display import compare_plans
from .errors import (
    AuthenticationError,
    ComputeError,
    ConflictError,
    NetworkError,
    NotFoundError,
    NotSupportedError,
    ProviderError,
    QuotaExceededError,
    ValidationError,
    WaitTimeoutError,
)
from .manager import ComputeManager, Listing
from .migration import Migration
from .models import (
    AutoScalingConfig,
    CapacitySchedule,
    Fleet,
    FleetConfig,
    Function,
    FunctionConfig,
    Instance,
    InstanceConfig,
    InstanceState,
    Invocation,
    MigrationConfig,
    MigrationStrategy,
    Plan,
)
from .optimize import Applied, Recommendation
from .providers.base import ComputeProvider, ProviderStatus
from .session import ComputeSession, connect

if typing.TYPE_CHECKING:
    from .ui import Tuner

__version__ = "0.1.0"


def tuner(trace: object, **options: typing.Any) -> "Tuner":
    """An interactive tuner: sliders redraw the simulation, a Pareto chart of the grid (see ``ui.Tuner``).

    >>> cdb.tuner(example_trace(), provider="gcp", instance_type="n2-standard-2")
    """
    from .ui import Tuner

    return Tuner(trace, **options)


__all__ = [
    "Applied",
    "AuthenticationError",
    "AutoScalingConfig",
    "CapacitySchedule",
    "ClusterConfig",
    "ComputeError",
    "ComputeManager",
    "ComputeProvider",
    "ComputeSession",
    "ConflictError",
    "Fleet",
    "FleetConfig",
    "Function",
    "FunctionConfig",
    "Instance",
    "InstanceConfig",
    "InstanceState",
    "Invocation",
    "Listing",
    "Migration",
    "MigrationConfig",
    "MigrationStrategy",
    "NetworkError",
    "NotFoundError",
    "NotSupportedError",
    "Plan",
    "ProviderError",
    "ProviderStatus",
    "QuotaExceededError",
    "Recommendation",
    "SimulationResult",
    "TuningResult",
    "ValidationError",
    "WaitTimeoutError",
    "compare_plans",
    "connect",
    "load_config",
    "simulate",
    "tune",
    "tune_many",
    "tuner",
]
