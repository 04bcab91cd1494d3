"""The REST API (``clusterdb serve``, extra ``server``): FastAPI over a ComputeSession.

>>> from clusterdb_nb.server import create_app, ServerSettings, Tokens
>>> app = create_app(cdb.connect(), ServerSettings(tokens=Tokens(read_write=["a-long-enough-token"])))
"""

from __future__ import annotations

try:
    import fastapi  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    from ..errors import ValidationError

    raise ValidationError(
        "server: the REST API needs FastAPI and uvicorn",
        field="server",
        rule="the 'server' extra installed",
        solution="pip install 'clusterdb-nb[server]'",
    ) from exc

from .app import ServerSettings, create_app
from .auth import Tokens, resolve_tokens

__all__ = ["ServerSettings", "Tokens", "create_app", "resolve_tokens"]
