"""Bearer tokens for the REST API: where they come from, and the constant-time check.

A read-write token is, in order: ``--token-file``, ``$CLUSTERDB_API_TOKEN``, else the one in the state
folder (``api-token``, created with 0600 permissions on first start and printed once). Read-only tokens
(GET only) come from ``--read-only-token-file`` or ``$CLUSTERDB_API_READONLY_TOKEN``::

    >>> tokens = Tokens(read_write=["s3cret-token"], read_only=["viewer-token"])
    >>> tokens.role("viewer-token")
    'read-only'
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import ValidationError

__all__ = ["Tokens", "check_token", "explicit_token", "read_token_file", "resolve_tokens", "state_folder", "stored_token"]

Role = Literal["read-write", "read-only"]
TOKEN_FILE = "api-token"
MIN_TOKEN_LENGTH = 16


def state_folder() -> Path:
    """The folder the local cloud keeps its state in: ``$CLUSTERDB_HOME``, else the user data dir."""
    home = os.environ.get("CLUSTERDB_HOME")
    if not home:
        import platformdirs

        home = platformdirs.user_data_dir("clusterdb-nb", appauthor=False)
    return Path(home)


def read_token_file(path: str | os.PathLike[str], option: str) -> str:
    """The token in ``path``, refused when missing or shorter than ``MIN_TOKEN_LENGTH``."""
    try:
        token = Path(path).read_text().strip()
    except OSError as exc:
        raise ValidationError(
            f"{option}: cannot read {os.fspath(path)!r} ({exc.strerror})",
            field=option,
            rule="a readable file holding a token",
            solution=f"Give {option} a file you can read, holding one token of {MIN_TOKEN_LENGTH}+ characters",
        ) from None
    return check_token(token, option)


def check_token(token: str, source: str) -> str:
    if len(token) < MIN_TOKEN_LENGTH or any(c.isspace() for c in token):
        raise ValidationError(
            f"{source}: a token must be at least {MIN_TOKEN_LENGTH} characters without blanks",
            field=source,
            rule=f">= {MIN_TOKEN_LENGTH} non-blank characters",
            solution="Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
        )
    return token


def stored_token(folder: Path) -> tuple[str, bool]:
    """The token kept in ``folder``, created (0600) when there is none; and whether it was just created."""
    path = folder / TOKEN_FILE
    if path.exists():
        return read_token_file(path, str(path)), False
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token, True


@dataclass(frozen=True)
class Tokens:
    """The tokens the server accepts, each with its role; ``role()`` compares in constant time."""

    read_write: list[str] = field(default_factory=list)
    read_only: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Tokens(read_write={len(self.read_write)}, read_only={len(self.read_only)})"

    def role(self, presented: str) -> Role | None:
        """The role of ``presented``, or None; every token is compared, each in constant time."""
        found: Role | None = None
        given = presented.encode()
        roles: tuple[tuple[Role, list[str]], ...] = (("read-write", self.read_write), ("read-only", self.read_only))
        for role, tokens in roles:
            for token in tokens:
                if hmac.compare_digest(given, token.encode()) and found is None:
                    found = role
        return found


def resolve_tokens(
    token_file: str | None = None, read_only_token_file: str | None = None, folder: Path | None = None
) -> tuple[Tokens, str | None]:
    """The server's tokens, and the read-write token when it was generated now (to print once)."""
    created = None
    if token_file:
        rw = read_token_file(token_file, "--token-file")
    elif os.environ.get("CLUSTERDB_API_TOKEN"):
        rw = check_token(os.environ["CLUSTERDB_API_TOKEN"], "CLUSTERDB_API_TOKEN")
    else:
        rw, new = stored_token(folder or state_folder())
        created = rw if new else None
    ro: list[str] = []
    if read_only_token_file:
        ro.append(read_token_file(read_only_token_file, "--read-only-token-file"))
    if os.environ.get("CLUSTERDB_API_READONLY_TOKEN"):
        ro.append(check_token(os.environ["CLUSTERDB_API_READONLY_TOKEN"], "CLUSTERDB_API_READONLY_TOKEN"))
    return Tokens([rw], ro), created


def explicit_token(token_file: str | None) -> bool:
    """Whether the operator set the token (a file or the environment), as ``--host 0.0.0.0`` requires."""
    return bool(token_file or os.environ.get("CLUSTERDB_API_TOKEN"))
