"""The local cloud's function runtime: Lambda-compatible Python handlers run in worker processes."""

from .service import LocalFunctions

__all__ = ["LocalFunctions"]
