"""The embedded local cloud."""

from .provider import LocalProvider

__all__ = ["LocalProvider"]
