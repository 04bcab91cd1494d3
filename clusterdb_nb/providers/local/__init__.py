"""The embedded local cloud: the provider and its public handle (``s.local``)."""

from .handle import LocalCloud
from .provider import LocalProvider

__all__ = ["LocalCloud", "LocalProvider"]
