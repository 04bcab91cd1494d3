"""Which clouds an offline fake serves right now: ``credentials: anonymous`` passes only then.

The fakes (``clusterdb_nb.testing``) say when they serve a cloud's endpoints and the adapters ask, so
no adapter imports a fake::

    with offline.serving("gcp"):     # what fake_gcp() does around its block
        offline.active("gcp")        # True
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["active", "serving"]

_lock = threading.Lock()
_depth: Counter[str] = Counter()


@contextmanager
def serving(cloud: str) -> Iterator[None]:
    """Mark ``cloud``'s endpoints ("gcp", "azure") as served by a fake for the block; fakes may nest."""
    with _lock:
        _depth[cloud] += 1
    try:
        yield
    finally:
        with _lock:
            _depth[cloud] -= 1


def active(cloud: str) -> bool:
    """True while a fake serves ``cloud``'s endpoints."""
    with _lock:
        return _depth[cloud] > 0
