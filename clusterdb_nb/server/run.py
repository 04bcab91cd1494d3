"""Starting the server safely: loopback by default, a token always, TLS advised off loopback.

    >>> config = uvicorn_config(session, host="127.0.0.1", port=8080)
    >>> uvicorn.Server(config).run()

``--host 0.0.0.0`` (any address but loopback) needs a token the operator set (``--token-file`` or
``$CLUSTERDB_API_TOKEN``), and warns without ``--certfile``/``--keyfile``.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
from pathlib import Path
from typing import Any

import uvicorn

from ..errors import ValidationError
from ..session import ComputeSession
from .app import ServerSettings, create_app
from .auth import TOKEN_FILE, explicit_token, resolve_tokens, state_folder

__all__ = ["is_loopback", "uvicorn_config"]

log = logging.getLogger("clusterdb_nb.server")


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1`` and ``localhost`` are loopback; ``0.0.0.0`` and names are not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def uvicorn_config(
    session: ComputeSession,
    host: str = "127.0.0.1",
    port: int = 8080,
    token_file: str | None = None,
    read_only_token_file: str | None = None,
    certfile: str | None = None,
    keyfile: str | None = None,
    cors_origins: list[str] | None = None,
    max_body_mb: float = 16,
    folder: Path | None = None,
    **uvicorn_options: Any,
) -> uvicorn.Config:
    """The uvicorn configuration serving ``session``; refuses unsafe settings before anything listens."""
    if not is_loopback(host) and not explicit_token(token_file):
        raise ValidationError(
            f"--host: {host} is reachable from other machines; set the API token yourself",
            field="--host",
            rule="a token from --token-file or CLUSTERDB_API_TOKEN when not on loopback",
            solution="Pass --token-file FILE (or set CLUSTERDB_API_TOKEN), and --certfile/--keyfile for TLS",
        )
    if bool(certfile) != bool(keyfile):
        raise ValidationError(
            "--certfile/--keyfile: TLS needs both", field="--certfile", rule="both or neither", solution="Pass both files"
        )
    if not is_loopback(host) and not certfile:
        log.warning("serving on %s without TLS: tokens cross the network in clear text; pass --certfile/--keyfile", host)
    if not 0 < max_body_mb <= 1024:
        raise ValidationError(
            f"--max-body-mb: {max_body_mb} is not between 0 and 1024", field="--max-body-mb", rule="0 < MB <= 1024"
        )
    tokens, created = resolve_tokens(token_file, read_only_token_file, folder)
    if created:
        where = (folder or state_folder()) / TOKEN_FILE
        print(f"API token (shown once; kept in {where}, mode 0600):\n{created}", file=sys.stderr)
    settings = ServerSettings(tokens=tokens, max_body_bytes=int(max_body_mb * 1024 * 1024), cors_origins=cors_origins or [])
    app = create_app(session, settings)
    return uvicorn.Config(app, host=host, port=port, ssl_certfile=certfile, ssl_keyfile=keyfile, **uvicorn_options)
