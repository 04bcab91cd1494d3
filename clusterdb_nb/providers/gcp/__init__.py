"""Google Cloud: fleets are regional managed instance groups with an instance template (see ``provider``)."""

from .provider import GcpProvider

__all__ = ["GcpProvider"]
