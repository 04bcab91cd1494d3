"""Errors as RFC 9457 problem details (``application/problem+json``), one status per error class.

    >>> problem(NotFoundError("no fleet 'web'", provider="local"))
    {'type': 'urn:clusterdb-nb:error:not-found', 'title': 'NotFoundError', 'status': 404, ...}

Nothing else leaves the server as an error: an unexpected exception is a 500 problem naming no internals
(it is logged with its traceback on the server).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import (
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

__all__ = ["plain", "problem", "status_of", "type_uri"]

MEDIA_TYPE = "application/problem+json"

# A provider's AuthenticationError is the server's credentials to the cloud failing, not the client's
# token: it is a bad gateway (502), and the client's own 401/403 come from the API's token check.
STATUS: dict[type[ComputeError], int] = {
    ValidationError: 400,
    NotFoundError: 404,
    ConflictError: 409,
    QuotaExceededError: 429,
    NotSupportedError: 501,
    AuthenticationError: 502,
    NetworkError: 502,
    ProviderError: 502,
    WaitTimeoutError: 504,
}


def status_of(err: ComputeError) -> int:
    """The HTTP status of ``err``: its class's, else its nearest base class's, else 502."""
    for cls in type(err).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 502


def type_uri(name: str) -> str:
    """``NotFoundError`` -> ``urn:clusterdb-nb:error:not-found``."""
    words = re.findall(r"[A-Z][a-z]*", name.removesuffix("Error")) or [name]
    return "urn:clusterdb-nb:error:" + "-".join(w.lower() for w in words)


def problem(err: ComputeError) -> dict[str, Any]:
    """``err`` as a problem-details document: type, title, status, detail, plus our cause and solution."""
    body: dict[str, Any] = {
        "type": type_uri(type(err).__name__),
        "title": type(err).__name__,
        "status": status_of(err),
        "detail": err.message,
        "cause": err.cause,
        "solution": err.solution,
        "provider": err.provider,
        "operation": err.operation,
    }
    if isinstance(err, ValidationError):
        body["field"] = err.field
    return body


def plain(status: int, title: str, detail: str, solution: str, **extra: Any) -> dict[str, Any]:
    """A problem the server itself raises (auth, size, routing), in the same shape."""
    kind = title.lower().replace(" ", "-")
    return {
        "type": f"urn:clusterdb-nb:error:{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        "cause": detail,
        "solution": solution,
        **extra,
    }
