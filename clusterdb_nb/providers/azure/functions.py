"""Functions as Function Apps on the Flex Consumption plan (Linux, Python), one app per function.

An app ``clusterdb-<function>-<suffix>`` (app names are global: the suffix comes from the
subscription and resource group) runs on its own FC1 plan and deploys from a blob container of
the resource group's storage account. What maps and what does not:

- ``runtime`` python3.X -> ``functionAppConfig.runtime`` {python, 3.X}; ``handler`` -> the generated adapter;
- ``memory_mb`` -> the instance memory, rounded up to a Flex Consumption size (512, 2048 or 4096 MB);
- ``timeout_sec`` -> ``host.json``'s ``functionTimeout``;
- ``environment`` -> app settings; ``reserved_concurrency`` has no Flex Consumption counterpart
  (``maximumInstanceCount`` limits instances, not invocations) and is refused before any call::

    >>> instance_memory(128), instance_memory(3000)
    (512, 4096)
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd

from ...errors import ValidationError
from ...models import Function, FunctionConfig
from ..kit.naming import resource_name

__all__ = [
    "FLEX_REFUSED_SETTINGS",
    "app_name",
    "check",
    "instance_memory",
    "plan",
    "python_version",
    "settings",
    "site",
    "storage_name",
    "suffix",
    "to_function",
]

SIZES = (512, 2048, 4096)
VERSION = "CLUSTERDB_VERSION"
HANDLER = "CLUSTERDB_HANDLER"
CODE_SHA256 = "CLUSTERDB_CODE_SHA256"
CODE_SIZE = "CLUSTERDB_CODE_SIZE"
TIMEOUT = "CLUSTERDB_TIMEOUT_SEC"
OURS = frozenset({VERSION, HANDLER, CODE_SHA256, CODE_SIZE, TIMEOUT})
PLATFORM = ("AzureWebJobsStorage", "DEPLOYMENT_STORAGE_CONNECTION_STRING", "FUNCTIONS_EXTENSION_VERSION")


def instance_memory(memory_mb: int) -> int:
    """The smallest Flex Consumption instance memory that holds ``memory_mb``."""
    return next(size for size in SIZES if size >= memory_mb) if memory_mb <= SIZES[-1] else SIZES[-1]


FLEX_REFUSED_SETTINGS = frozenset(
    {
        "FUNCTIONS_EXTENSION_VERSION",
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_WORKER_RUNTIME_VERSION",
        "WEBSITE_RUN_FROM_PACKAGE",
        "SCM_DO_BUILD_DURING_DEPLOYMENT",
        "ENABLE_ORYX_BUILD",
        "WEBSITE_CONTENTSHARE",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    }
)
"""App settings Flex Consumption refuses: their job moved to ``functionAppConfig`` (runtime, deployment, build)."""


def check(config: FunctionConfig) -> None:
    """Refuse what Flex Consumption cannot do, before any call."""
    if refused := sorted(FLEX_REFUSED_SETTINGS & set(config.environment)):
        raise ValidationError(
            f"environment: Flex Consumption refuses the app setting(s) {', '.join(refused)}",
            field="environment",
            rule="no setting Flex Consumption replaced by functionAppConfig",
            solution="Remove them: the runtime, its version and the package are set by the adapter",
        )
    if config.reserved_concurrency is not None:
        raise ValidationError(
            "reserved_concurrency: Azure Functions (Flex Consumption) has no per-function concurrency reservation",
            field="reserved_concurrency",
            rule="not set for azure",
            solution="Leave reserved_concurrency unset for provider='azure'",
        )


def suffix(subscription_id: str, resource_group: str) -> str:
    return hashlib.sha256(f"{subscription_id}/{resource_group}".lower().encode()).hexdigest()[:8]


def app_name(function: str, subscription_id: str, resource_group: str) -> str:
    """The Function App's (globally unique) name."""
    return f"{resource_name(function)}-{suffix(subscription_id, resource_group)}"[:60]


def storage_name(subscription_id: str, resource_group: str) -> str:
    """The resource group's storage account for function packages (3-24 lowercase letters and digits)."""
    return f"clusterdb{suffix(subscription_id, resource_group)}"


def python_version(runtime: str) -> str:
    return runtime.removeprefix("python")


def site(config: FunctionConfig, location: str, plan_id: str, container_url: str, function: str) -> dict[str, Any]:
    """The Function App's PUT body (app settings are written separately)."""
    return {
        "location": location,
        "kind": "functionapp,linux",
        "tags": {"clusterdb:function": function},
        "properties": {
            "serverFarmId": plan_id,
            "reserved": True,
            "httpsOnly": True,
            "functionAppConfig": {
                "deployment": {
                    "storage": {
                        "type": "blobContainer",
                        "value": container_url,
                        "authentication": {
                            "type": "StorageAccountConnectionString",
                            "storageAccountConnectionStringName": "DEPLOYMENT_STORAGE_CONNECTION_STRING",
                        },
                    }
                },
                "runtime": {"name": "python", "version": python_version(config.runtime)},
                "scaleAndConcurrency": {"instanceMemoryMB": instance_memory(config.memory_mb), "maximumInstanceCount": 100},
            },
        },
    }


def plan(location: str) -> dict[str, Any]:
    """A Flex Consumption (FC1) plan's PUT body."""
    return {
        "location": location,
        "kind": "functionapp",
        "sku": {"name": "FC1", "tier": "FlexConsumption"},
        "properties": {"reserved": True},
    }


def settings(config: FunctionConfig, version: int, storage: str, code_sha256: str, code_size: int) -> dict[str, str]:
    """The app settings: the user's environment, the storage connections and our bookkeeping."""
    return {
        **config.environment,
        "AzureWebJobsStorage": storage,
        "DEPLOYMENT_STORAGE_CONNECTION_STRING": storage,
        VERSION: str(version),
        HANDLER: config.handler,
        CODE_SHA256: code_sha256,
        CODE_SIZE: str(code_size),
        TIMEOUT: str(config.timeout_sec),
    }


def to_function(app: Any, app_settings: dict[str, str], function: str, provider: str) -> Function:
    """A Function from its app (REST JSON or SDK model) and app settings."""
    props = app["properties"]
    fac = props.get("functionAppConfig") or {}
    runtime = fac.get("runtime") or {}
    modified = props.get("lastModifiedTimeUtc")
    return Function(
        id=app["id"],
        name=function,
        provider=provider,
        runtime=f"{runtime.get('name', 'python')}{runtime.get('version', '')}",
        handler=app_settings.get(HANDLER, ""),
        memory_mb=int((fac.get("scaleAndConcurrency") or {}).get("instanceMemoryMB", SIZES[1])),
        timeout_sec=int(app_settings.get(TIMEOUT, 1800)),
        version=int(app_settings.get(VERSION, 1)),
        code_sha256=app_settings.get(CODE_SHA256),
        code_size=int(app_settings.get(CODE_SIZE, 0)),
        environment_keys=sorted(k for k in app_settings if k not in OURS and k not in PLATFORM),
        updated_at=_utc(modified) if modified else None,
    )


def _utc(text: str) -> Any:
    ts = pd.Timestamp(text)
    return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).to_pydatetime()
