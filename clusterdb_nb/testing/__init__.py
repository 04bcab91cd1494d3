"""Offline fakes of the clouds that have no emulator, for tests and notebooks (as moto is for AWS).

Each fake serves the cloud's REST API at its real hostnames through ``responses`` and drives the
cloud's own client libraries; see :class:`~clusterdb_nb.testing.fake_cloud.FakeCloud` for the handle.
"""

from .azure import FakeAzure as FakeAzure
from .azure import fake_azure as fake_azure
from .fake_cloud import FakeCloud, Fault
from .gcp import FakeGcp, fake_gcp

__all__ = ["FakeCloud", "FakeGcp", "Fault", "fake_gcp"]
