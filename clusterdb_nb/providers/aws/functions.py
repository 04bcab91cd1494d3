"""Functions <-> AWS Lambda.

A function is a Lambda function whose every change is published as a new
numbered version; ``Function.version`` is the newest one. An invocation is a
synchronous ``Invoke`` (RequestResponse, LogType=Tail): Lambda's
``FunctionError`` makes it an error result carrying ``errorType`` and
``errorMessage``, and the REPORT line of its log tail gives the duration,
billed duration, memory used and, on a cold start, the init duration::

    >>> report("REPORT RequestId: 1 Duration: 12.5 ms Billed Duration: 13 ms Memory Size: 128 MB "
    ...        "Max Memory Used: 40 MB Init Duration: 150.25 ms")
    {'duration_ms': 12.5, 'billed_ms': 13, 'memory_used_mb': 40, 'init_ms': 150.25}
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any, Literal

import pandas as pd

from ...models import Function, FunctionConfig, Invocation
from ..function_billing import BILLING

__all__ = ["newest_versions", "number", "report", "SETTINGS", "settings", "Status", "to_function", "to_invocation"]

Status = Literal["success", "error", "timeout", "out_of_memory"]
# FunctionConfig field -> UpdateFunctionConfiguration parameter
SETTINGS = {"runtime": "Runtime", "handler": "Handler", "memory_mb": "MemorySize", "timeout_sec": "Timeout"}
_REPORT = {
    "duration_ms": re.compile(r"\bDuration: ([\d.]+) ms"),
    "billed_ms": re.compile(r"Billed Duration: (\d+) ms"),
    "memory_used_mb": re.compile(r"Max Memory Used: (\d+) MB"),
    "init_ms": re.compile(r"Init Duration: ([\d.]+) ms"),
}


def settings(config: FunctionConfig, fields: set[str] | None = None) -> dict[str, Any]:
    """CreateFunction / UpdateFunctionConfiguration parameters of ``config`` (only ``fields`` when given)."""
    chosen = set(SETTINGS) | {"environment"} if fields is None else fields
    params: dict[str, Any] = {SETTINGS[f]: getattr(config, f) for f in SETTINGS if f in chosen}
    if "environment" in chosen:
        params["Environment"] = {"Variables": dict(config.environment)}
    return params


def newest_versions(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of many version configurations (ListFunctions ALL / ListVersionsByFunction), each function's newest."""
    best: dict[str, dict[str, Any]] = {}
    for c in configs:
        current = best.get(c["FunctionName"])
        if current is None or number(c["Version"]) > number(current["Version"]):
            best[c["FunctionName"]] = c
    return [best[name] for name in sorted(best)]


def number(version: str) -> int:
    """A published version's number; ``$LATEST`` (never published) is 0."""
    return int(version) if version.isdigit() else 0


def to_function(c: dict[str, Any], provider: str, reserved: int | None) -> Function:
    """A Function from a Lambda FunctionConfiguration (the unqualified ARN is its id)."""
    arn = c["FunctionArn"]
    if arn.rsplit(":", 1)[-1] == c["Version"]:
        arn = arn.rsplit(":", 1)[0]
    return Function(
        id=arn,
        name=c["FunctionName"],
        provider=provider,
        runtime=c.get("Runtime", ""),  # container-image functions have neither runtime nor handler
        handler=c.get("Handler", ""),
        memory_mb=c["MemorySize"],
        timeout_sec=c["Timeout"],
        version=number(c["Version"]),
        code_sha256=c.get("CodeSha256"),
        code_size=c.get("CodeSize", 0),
        reserved_concurrency=reserved,
        environment_keys=sorted((c.get("Environment") or {}).get("Variables", {})),
        updated_at=pd.Timestamp(c["LastModified"]).tz_convert("UTC").to_pydatetime() if c.get("LastModified") else None,
    )


def report(logs: str) -> dict[str, Any]:
    """Figures of the REPORT line in a Lambda log tail (absent ones are left out)."""
    out: dict[str, Any] = {}
    for key, pattern in _REPORT.items():
        found = pattern.search(logs)
        if found:
            out[key] = float(found.group(1)) if key.endswith("_ms") and key != "billed_ms" else int(found.group(1))
    return out


def _status(error: dict[str, Any]) -> Status:
    text = f"{error.get('errorType', '')} {error.get('errorMessage', '')}"
    if "Timedout" in text or "timed out" in text:
        return "timeout"
    if "OutOfMemory" in text:
        return "out_of_memory"
    return "error"


def to_invocation(out: dict[str, Any], function: Function, started_at: datetime | None) -> Invocation:
    """An Invocation from Invoke's response (``Payload`` already read into bytes)."""
    payload: bytes = out["Payload"]
    logs = base64.b64decode(out["LogResult"]).decode("utf-8", "replace") if out.get("LogResult") else ""
    error: dict[str, Any] | None = None
    if out.get("FunctionError"):
        try:
            error = json.loads(payload)
        except ValueError:
            error = None
        if not isinstance(error, dict):
            error = {"errorType": out["FunctionError"], "errorMessage": payload.decode("utf-8", "replace")}
    figures = report(logs)
    billed = figures.get("billed_ms", 0)
    executed = number(out.get("ExecutedVersion", "$LATEST")) or function.version
    return Invocation(
        request_id=out.get("ResponseMetadata", {}).get("RequestId", ""),
        function=function.name,
        version=executed,
        provider=function.provider,
        status="success" if error is None else _status(error),
        payload=payload,
        error=error,
        logs=logs,
        duration_ms=figures.get("duration_ms", 0.0),
        init_ms=figures.get("init_ms"),
        billed_ms=billed,
        memory_mb=function.memory_mb,
        memory_used_mb=figures.get("memory_used_mb", 0),
        cold_start="init_ms" in figures,
        started_at=started_at,
        cost_usd=float(BILLING["aws"].cost_usd(billed, function.memory_mb)),
    )
