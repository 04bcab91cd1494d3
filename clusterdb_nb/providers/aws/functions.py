"""Functions <-> AWS Lambda.

A function is a Lambda function whose every change is published as a new
numbered version; ``Function.version`` is the newest one. Lambda reports
``CodeSha256`` in base64; we report it in hex, as the local cloud does, so
the same zip shows the same digest everywhere::

    >>> hex_sha256("qqNGK906vwHnbzZ4duh3Y+AacL1p+DfQHf8LlqMVgjw=")
    'aaa3462bdd3abf01e76f367876e87763e01a70bd69f837d01dff0b96a315823c'
"""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

import pandas as pd

from ...errors import ValidationError
from ...models import Function, FunctionConfig


def hex_sha256(b64: str | None) -> str | None:
    """Lambda's base64 CodeSha256 as hex."""
    return base64.b64decode(b64).hex() if b64 else None


def zip_bytes(config: FunctionConfig, required: bool) -> bytes | None:
    """The deployment package, checked to be a zip before anything is sent."""
    code = config.code
    if code is None:
        if required:
            raise ValidationError(
                "code: a new Lambda function needs its code as zip bytes", field="code", rule="zip archive required"
            )
        return None
    if not zipfile.is_zipfile(io.BytesIO(code)):
        raise ValidationError("code: must be a zip archive (bytes of a .zip file)", field="code", rule="zip archive")
    return code


def settings(config: FunctionConfig) -> dict[str, Any]:
    """The configuration part of CreateFunction / UpdateFunctionConfiguration."""
    return {
        "FunctionName": config.name,
        "Runtime": config.runtime,
        "Handler": config.handler,
        "MemorySize": config.memory_mb,
        "Timeout": config.timeout_sec,
        "Environment": {"Variables": dict(config.environment)},
    }


def newest_versions(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Of many version configurations (ListFunctions ALL / ListVersionsByFunction), each function's newest."""
    best: dict[str, dict[str, Any]] = {}
    for c in configs:
        name = c["FunctionName"]
        current = best.get(name)
        if current is None or _number(c["Version"]) > _number(current["Version"]):
            best[name] = c
    return [best[name] for name in sorted(best)]


def _number(version: str) -> int:
    return int(version) if version.isdigit() else 0


def to_function(c: dict[str, Any], provider: str) -> Function:
    """A Function from a Lambda FunctionConfiguration (ARN without its version qualifier as the id)."""
    arn = c["FunctionArn"]
    if arn.rsplit(":", 1)[-1] == c["Version"]:
        arn = arn.rsplit(":", 1)[0]
    return Function(
        id=arn,
        name=c["FunctionName"],
        provider=provider,
        runtime=c.get("Runtime", ""),  # container-image functions have neither
        handler=c.get("Handler", ""),
        memory_mb=c["MemorySize"],
        timeout_sec=c["Timeout"],
        version=_number(c["Version"]),
        code_sha256=hex_sha256(c.get("CodeSha256")),
        environment_keys=sorted((c.get("Environment") or {}).get("Variables", {})),
        updated_at=pd.Timestamp(c["LastModified"]).tz_convert("UTC").to_pydatetime() if c.get("LastModified") else None,
    )
